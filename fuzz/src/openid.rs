//! OpenID4VCI (offers, credential requests, key proofs) and OpenID4VP (requests, DCQL,
//! answers).

use dojang_core::did::Did;
use dojang_core::jwk::Jwk;
use dojang_core::jws::JwsHeader;
use dojang_core::oid4vci::{
    self, CredentialOffer, CredentialRequest, CredentialResponse, IssuerMetadata, PROOF_TYP,
    TokenResponse,
};
use dojang_core::oid4vp::{AuthorizationRequest, AuthorizationResponse, DcqlQuery};

use crate::craft;
use crate::world::{CREDENTIAL_ISSUER, NOW, world};

/// OpenID4VCI and OpenID4VP messages, with round trips, and signed key proofs.
///
/// The input is tried as a credential offer URI and a presentation request URI (each must
/// survive `to_uri` → `from_uri`), as the JSON messages around them, and as a credential
/// request whose proof JWTs are verified.
///
/// Signed: the input is also the payload of a key proof JWT (`openid4vci-proof+jwt`) that the
/// world holder signs, naming its key in `jwk`, or as a `did:key` or `did:jwk` URL in `kid`;
/// a proof that verifies must name the key that signed it.
pub fn openid(data: &[u8]) {
    signed_proofs(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(offer) = CredentialOffer::from_uri(text) {
        let again = CredentialOffer::from_uri(&offer.to_uri());
        assert_eq!(again.ok(), Some(offer), "offer URI round trip");
    }
    if let Ok(request) = AuthorizationRequest::from_uri(text) {
        let uri = request.to_uri();
        match AuthorizationRequest::from_uri(&uri) {
            Ok(again) => assert_eq!(again, request, "request URI round trip"),
            // Percent-encoding can push a request just under the limit over it.
            Err(_) if uri.len() > 16 * 1024 => {}
            Err(e) => panic!("a request that was accepted is refused once re-encoded: {e}"),
        }
        for query in &request.dcql_query.credentials {
            for claim in query.claims.iter().flatten() {
                assert!(claim.claim_path().is_ok(), "check() let a bad path through");
            }
        }
    }
    let _ = oid4vci::metadata_url(text, "openid-credential-issuer");
    if let Ok(query) = serde_json::from_str::<DcqlQuery>(text) {
        for claim in query
            .credentials
            .iter()
            .flat_map(|q| q.claims.iter().flatten())
        {
            let _ = claim.claim_path();
        }
    }
    if let Ok(request) = serde_json::from_str::<CredentialRequest>(text) {
        for jwt in request.proof_jwts() {
            let _ = oid4vci::verify_proof(jwt, CREDENTIAL_ISSUER, NOW, 300);
        }
    }
    if let Ok(response) = serde_json::from_str::<AuthorizationResponse>(text) {
        let _ = response.to_form();
    }
    let _ = serde_json::from_str::<IssuerMetadata>(text);
    let _ = serde_json::from_str::<CredentialResponse>(text);
    let _ = serde_json::from_str::<TokenResponse>(text);
    let _ = oid4vci::verify_proof(text, CREDENTIAL_ISSUER, NOW, 300);
}

/// `payload` as the claims of key proofs by the world holders.
fn signed_proofs(payload: &[u8]) {
    let world = world();
    for (n, holder) in [&world.holder, &world.holder_ed].into_iter().enumerate() {
        let key = holder.public_key();
        let mut header = JwsHeader::new(Some(PROOF_TYP), None);
        match (payload.len() + n) % 3 {
            0 => header.jwk = Some(Jwk::from_public_key(key)),
            1 => {
                let did = Did::key(key);
                header.kid = dojang_core::did::key_id(&did);
            }
            _ => {
                let did = Did::jwk(key);
                header.kid = dojang_core::did::key_id(&did);
            }
        }
        let Some(jwt) = craft::jws(header, payload, holder) else {
            continue;
        };
        if let Ok(proof) = oid4vci::verify_proof(&jwt, CREDENTIAL_ISSUER, NOW, 300) {
            assert_eq!(&proof.key, key, "a proof verified for another key");
        }
    }
}
