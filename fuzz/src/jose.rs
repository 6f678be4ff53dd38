//! JWS, JWK, multikey and DIDs (`did:key`, `did:jwk` resolved offline).

use dojang_core::did::{self, Did, DidDocument, DidUrl, Relationship};
use dojang_core::jwk::Jwk;
use dojang_core::jws::{Jws, JwsHeader};
use dojang_core::key::{PublicKey, Verifier as _};
use dojang_core::multikey;

use crate::craft;
use crate::world::world;

/// JWS, JWK, multikey and DID parsing, with round trips, and a signed JWS.
///
/// The whole input is tried as a compact JWS, a JWK, a JWS header, a multikey, a DID, a DID
/// URL and a DID document. Keys that parse must survive JWK, multikey, `did:key` and `did:jwk`
/// round trips; DIDs and DID URLs must print back to themselves; a `did:key` or `did:jwk`
/// must resolve to a document whose assertion key is the one it names.
///
/// Signed: the input's first line, read as a JWS header, signs the rest as the payload with a
/// world key; unless it marks extensions critical, the JWS must parse back to the same header
/// and payload and verify.
pub fn jose(data: &[u8]) {
    signed_jws(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(jws) = Jws::parse(text) {
        let _ = jws.payload_json::<serde_json::Value>();
        let _ = jws.expect_type("dc+sd-jwt", &["vc+sd-jwt"]);
        let world = world();
        for key in [world.issuer.key2.public_key(), world.holder_ed.public_key()] {
            let _ = jws.verify(key);
        }
        if let Some(jwk) = &jws.header().jwk
            && let Ok(key) = jwk.to_public_key()
        {
            let _ = jws.verify(&key);
        }
    }
    if let Ok(jwk) = serde_json::from_str::<Jwk>(text) {
        let _ = jwk.thumbprint();
        let _ = jwk.to_secret_key();
        if let Ok(key) = jwk.to_public_key() {
            key_round_trips(&key);
        }
    }
    let _ = serde_json::from_str::<JwsHeader>(text);
    if let Ok(key) = multikey::decode(text) {
        key_round_trips(&key);
        assert_eq!(multikey::decode(&multikey::encode(&key)).ok(), Some(key));
    }
    let _ = multikey::decode_secret(text);
    if let Ok(did) = Did::parse(text) {
        assert_eq!(did.as_str(), text);
        assert_eq!(
            format!("did:{}:{}", did.method(), did.method_specific_id()),
            text
        );
        let _ = did::key_id(&did);
        if let Ok(document) = did::resolve_offline(&did) {
            assert_eq!(document.id, did, "resolved to another DID's document");
            match document.key_for(Relationship::AssertionMethod, None) {
                Ok(key) => key_round_trips(&key),
                Err(e) => panic!("a resolved {did} has no assertion key: {e}"),
            }
            if let Some(kid) = did::key_id(&did) {
                assert!(
                    document
                        .key_for(Relationship::Authentication, Some(&kid))
                        .is_ok(),
                    "{kid} does not name the key"
                );
            }
        }
    }
    if let Ok(url) = DidUrl::parse(text) {
        assert_eq!(DidUrl::parse(&url.to_string()).ok(), Some(url));
    }
    if let Ok(document) = serde_json::from_str::<DidDocument>(text) {
        for relationship in [
            Relationship::AssertionMethod,
            Relationship::Authentication,
            Relationship::CapabilityInvocation,
        ] {
            let _ = document.authorised_ids(relationship);
            if let Ok(method) = document.method_for(relationship, None) {
                let _ = method.public_key();
            }
        }
        for method in &document.verification_method {
            let _ = document.key_for(Relationship::AssertionMethod, Some(&method.id));
        }
    }
}

/// The first line as a JWS header, the rest as the payload, signed by a world key.
fn signed_jws(data: &[u8]) {
    let (header, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(header) = serde_json::from_slice::<JwsHeader>(header) else {
        return;
    };
    let world = world();
    let signer = match header.typ.as_deref().map(str::len).unwrap_or(0) % 2 {
        0 => &world.issuer.key2,
        _ => &world.holder_ed,
    };
    let Some(compact) = craft::jws(header.clone(), payload, signer) else {
        return;
    };
    let parsed = Jws::parse(&compact);
    if header.crit.is_some() {
        assert!(parsed.is_err(), "critical extensions were accepted");
        return;
    }
    let jws = match parsed {
        Ok(jws) => jws,
        Err(e) => panic!("a JWS just signed does not parse: {e}"),
    };
    let expected = JwsHeader {
        alg: signer.algorithm().jose_name().to_owned(),
        ..header
    };
    assert_eq!(jws.header(), &expected, "the header changed");
    assert_eq!(jws.payload(), payload, "the payload changed");
    assert!(
        jws.verify(signer.public_key()).is_ok(),
        "a JWS just signed does not verify"
    );
}

/// A key survives JWK, multikey, `did:key` and `did:jwk`.
fn key_round_trips(key: &PublicKey) {
    let jwk = Jwk::from_public_key(key);
    assert_eq!(
        jwk.to_public_key().ok().as_ref(),
        Some(key),
        "JWK round trip"
    );
    assert_eq!(
        jwk.thumbprint().ok(),
        Some(dojang_core::jwk::thumbprint(key))
    );
    assert_eq!(
        multikey::decode(&multikey::encode(key)).ok().as_ref(),
        Some(key),
        "multikey round trip"
    );
    for did in [Did::key(key), Did::jwk(key)] {
        let resolved = did::resolve_offline(&did)
            .and_then(|document| document.key_for(Relationship::AssertionMethod, None));
        assert_eq!(resolved.ok().as_ref(), Some(key), "{did} round trip");
        assert_eq!(Did::parse(did.as_str()).ok().as_ref(), Some(&did));
    }
    let _ = key.verify(b"", &[0; 64]);
}
