//! The OpenID4VCI client: the pre-authorized code flow, from an offer to stored credentials.
//!
//! One holder key is made per credential and proven to the issuer for each format on offer;
//! the wallet checks that what comes back is bound to that key before storing it.

use dojang_core::compact::{self, HeldCompact};
use dojang_core::jws::Jws;
use dojang_core::key::{Algorithm, PublicKey};
use dojang_core::oid4vci::{
    self, AuthorizationServerMetadata, CredentialOffer, CredentialResponse, IssuerMetadata,
    NonceResponse, OfferError, ProofKey, TokenResponse,
};
use dojang_core::oid4vp::MSO_MDOC;
use dojang_core::sd_jwt::HeldSdJwt;
use dojang_core::status::StatusListReference;
use dojang_core::status::token::{StatusListTokenClaims, TokenStatus, TokenStatusList};
use dojang_core::{Jwk, b64, sd_jwt};
use serde::de::DeserializeOwned;

use crate::store::{StatusSnapshot, StoredCredential};
use crate::{Wallet, WalletError, qr};

/// Largest answer read from an issuer.
const MAX_RESPONSE_LEN: usize = 1 << 20;

/// How to receive.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveOptions<'a> {
    /// The transaction code the issuing office gave, if the offer asks for one.
    pub tx_code: Option<&'a str>,
    /// The holder key's algorithm.
    pub alg: Algorithm,
    /// The time, Unix seconds.
    pub now: i64,
}

/// An offer from text: an `openid-credential-offer://` URI (the offer by value, or a
/// `credential_offer_uri` to fetch it from), as typed or scanned.
pub async fn offer_from_text(
    http: &reqwest::Client,
    text: &str,
) -> Result<CredentialOffer, WalletError> {
    match CredentialOffer::from_uri(text.trim()) {
        Ok(offer) => Ok(offer),
        Err(OfferError::ByReference(uri)) => get_json(http, &uri).await,
        Err(e) => Err(WalletError::Protocol(e.to_string())),
    }
}

/// An offer from a QR image (PNG or JPEG).
pub async fn offer_from_image(
    http: &reqwest::Client,
    image: &[u8],
) -> Result<CredentialOffer, WalletError> {
    offer_from_text(http, &qr::read_image(image)?).await
}

/// Redeems `offer`: token (with the transaction code), then one credential request per format
/// on offer that the wallet understands, each with a key proof over a fresh `c_nonce`. Stores
/// and returns the credential.
pub async fn receive(
    wallet: &Wallet,
    http: &reqwest::Client,
    offer: &CredentialOffer,
    options: ReceiveOptions<'_>,
) -> Result<StoredCredential, WalletError> {
    let issuer = &offer.credential_issuer;
    let metadata: IssuerMetadata = get_json(
        http,
        &oid4vci::metadata_url(issuer, "openid-credential-issuer"),
    )
    .await?;
    if &metadata.credential_issuer != issuer {
        return Err(WalletError::Protocol(format!(
            "the metadata is for {}, not {issuer}",
            metadata.credential_issuer
        )));
    }
    let authorization_server = metadata
        .authorization_servers
        .as_ref()
        .and_then(|servers| servers.first())
        .unwrap_or(issuer);
    let server: AuthorizationServerMetadata = get_json(
        http,
        &oid4vci::metadata_url(authorization_server, "oauth-authorization-server"),
    )
    .await?;

    let grant = &offer.grants.pre_authorized_code;
    let tx_code = match (&grant.tx_code, options.tx_code) {
        (Some(_), Some(code)) => Some(code),
        (Some(_), None) => {
            return Err(WalletError::Protocol(
                "this offer needs the transaction code the issuing office gave you".into(),
            ));
        }
        (None, _) => None,
    };
    let request = oid4vci::TokenRequest::pre_authorized(&grant.pre_authorized_code, tx_code);
    let token: TokenResponse = answer(http.post(&server.token_endpoint).form(&request)).await?;

    let key = wallet.new_key(options.alg).await?;
    let signer = wallet.signer(&key).await?;
    let mut credential = StoredCredential {
        id: uuid::Uuid::new_v4().to_string(),
        issuer: String::new(),
        issuer_name: oid4vci::display_name(&metadata.display),
        credential_issuer: issuer.clone(),
        vct: String::new(),
        name: None,
        key,
        sd_jwt: None,
        compact: None,
        mdoc: None,
        received_at: options.now,
        status: None,
    };
    for configuration_id in &offer.credential_configuration_ids {
        let Some(configuration) = metadata
            .credential_configurations_supported
            .get(configuration_id)
        else {
            return Err(WalletError::Protocol(format!(
                "the issuer's metadata has no configuration `{configuration_id}`"
            )));
        };
        let mdoc = configuration.format == MSO_MDOC;
        // An mdoc's device key is P-256: with another holder key, the other formats suffice.
        if mdoc && options.alg != Algorithm::Es256 {
            continue;
        }
        if configuration.format != sd_jwt::vc::TYP
            && configuration.format != compact::FORMAT
            && !mdoc
        {
            continue;
        }
        let nonce_endpoint = metadata
            .nonce_endpoint
            .as_deref()
            .ok_or_else(|| WalletError::Protocol("the issuer has no nonce endpoint".into()))?;
        let nonce: NonceResponse = answer(http.post(nonce_endpoint)).await?;
        let proof = oid4vci::sign_proof(
            signer.as_ref(),
            ProofKey::Jwk,
            issuer,
            &nonce.c_nonce,
            options.now,
        )?;
        let request = serde_json::json!({
            "credential_configuration_id": configuration_id,
            "proofs": {"jwt": [proof]},
        });
        let response: CredentialResponse = answer(
            http.post(&metadata.credential_endpoint)
                .bearer_auth(&token.access_token)
                .json(&request),
        )
        .await?;
        let issued = response
            .credentials
            .into_iter()
            .next()
            .ok_or_else(|| WalletError::Protocol("the issuer sent no credential".into()))?
            .credential;
        if mdoc {
            // The mdoc names no DID or vct: it is checked to be bound to our key and of the
            // document type the issuer's metadata promised, and kept beside the other formats.
            let bytes = b64::decode(&issued)
                .map_err(|_| WalletError::Protocol("the mdoc is not base64url".into()))?;
            let mso = dojang_mdoc::IssuerSigned::parse(&bytes)
                .and_then(|held| held.mso())
                .map_err(|e| WalletError::Protocol(format!("unreadable mdoc: {e}")))?;
            if mso.device_key.point != signer.public_key().as_bytes() {
                return Err(WalletError::Protocol(
                    "the issuer bound the mdoc to a key that is not the one this wallet proved"
                        .into(),
                ));
            }
            if configuration.doctype.as_deref() != Some(mso.doc_type.as_str()) {
                return Err(WalletError::Protocol(
                    "the mdoc is not of the document type the issuer offered".into(),
                ));
            }
            credential.mdoc = Some(issued);
            continue;
        }
        let (issuer_did, vct) = if configuration.format == compact::FORMAT {
            let bytes = b64::decode(&issued).map_err(|_| {
                WalletError::Protocol("the compact credential is not base64url".into())
            })?;
            let held = HeldCompact::parse(&bytes)?;
            bound_to(held.holder_key(), signer.public_key())?;
            credential.compact = Some(issued);
            (held.issuer().to_owned(), held.vct().to_owned())
        } else {
            let held = HeldSdJwt::parse(&issued)?;
            let claims = held.claims();
            let cnf: Option<Jwk> = claims
                .get("cnf")
                .and_then(|c| c.get("jwk"))
                .and_then(|j| serde_json::from_value(j.clone()).ok());
            let holder = cnf
                .and_then(|jwk| jwk.to_public_key().ok())
                .ok_or_else(|| {
                    WalletError::Protocol("the SD-JWT VC is not bound to a key".into())
                })?;
            bound_to(&holder, signer.public_key())?;
            let text = |name: &str| {
                claims
                    .get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            credential.sd_jwt = Some(issued);
            (text("iss"), text("vct"))
        };
        if !credential.issuer.is_empty()
            && (credential.issuer != issuer_did || credential.vct != vct)
        {
            return Err(WalletError::Protocol(
                "the issuer's formats disagree on issuer or type".into(),
            ));
        }
        credential.issuer = issuer_did;
        credential.vct = vct;
        credential.name = configuration
            .credential_metadata
            .as_ref()
            .and_then(|m| oid4vci::display_name(&m.display));
    }
    if credential.sd_jwt.is_none() && credential.compact.is_none() {
        return Err(WalletError::Protocol(
            "the offer has no format this wallet understands (dc+sd-jwt, dojang-qr)".into(),
        ));
    }
    // A first status snapshot; the credential is kept even if the list cannot be fetched now.
    credential.status = snapshot(http, &credential, options.now).await.ok();
    wallet.put(&credential).await?;
    Ok(credential)
}

/// Fetches the credential's status list again and keeps the snapshot.
pub async fn refresh_status(
    wallet: &Wallet,
    http: &reqwest::Client,
    id: &str,
    now: i64,
) -> Result<StatusSnapshot, WalletError> {
    let mut credential = wallet.credential(id).await?;
    let snapshot = snapshot(http, &credential, now).await?;
    credential.status = Some(snapshot.clone());
    wallet.put(&credential).await?;
    Ok(snapshot)
}

/// The status list token for `credential`, and what it says. The token is read, not verified:
/// the wallet shows the citizen what it says, and a verifier checks the signature itself.
async fn snapshot(
    http: &reqwest::Client,
    credential: &StoredCredential,
    now: i64,
) -> Result<StatusSnapshot, WalletError> {
    let reference = status_reference(credential)?;
    let response = http
        .get(&reference.uri)
        .header(reqwest::header::ACCEPT, "application/statuslist+jwt")
        .send()
        .await?
        .error_for_status()?;
    let token = String::from_utf8(bounded(response).await?)
        .map_err(|_| WalletError::Protocol("the status list is not text".into()))?;
    let unreadable =
        |e: &dyn std::fmt::Display| WalletError::Protocol(format!("unreadable status list: {e}"));
    let jws = Jws::parse(token.trim()).map_err(|e| unreadable(&e))?;
    let claims: StatusListTokenClaims = jws.payload_json().map_err(|e| unreadable(&e))?;
    let list = TokenStatusList::decode(&claims.status_list).map_err(|e| unreadable(&e))?;
    let index = usize::try_from(reference.idx).map_err(|e| unreadable(&e))?;
    let status = match list.status(index).map_err(|e| unreadable(&e))? {
        TokenStatus::Valid => "valid",
        TokenStatus::Suspended => "suspended",
        TokenStatus::Invalid | TokenStatus::Other(_) => "revoked",
    };
    Ok(StatusSnapshot {
        token: token.trim().to_owned(),
        fetched_at: now,
        status: status.into(),
    })
}

fn status_reference(credential: &StoredCredential) -> Result<StatusListReference, WalletError> {
    let none =
        || WalletError::Protocol(format!("credential {} has no status entry", credential.id));
    if let Some(compact) = &credential.compact {
        let bytes = b64::decode(compact).map_err(|_| none())?;
        return HeldCompact::parse(&bytes)?
            .status()
            .cloned()
            .ok_or_else(none);
    }
    let sd_jwt = credential.sd_jwt.as_deref().ok_or_else(none)?;
    let held = HeldSdJwt::parse(sd_jwt)?;
    let list = held
        .claims()
        .get("status")
        .and_then(|s| s.get("status_list"))
        .ok_or_else(none)?;
    serde_json::from_value(list.clone()).map_err(|_| none())
}

fn bound_to(holder: &PublicKey, ours: &PublicKey) -> Result<(), WalletError> {
    match holder == ours {
        true => Ok(()),
        false => Err(WalletError::Protocol(
            "the issuer bound the credential to a key that is not the one this wallet proved"
                .into(),
        )),
    }
}

async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, WalletError> {
    answer(http.get(url)).await
}

/// Sends, and reads a JSON answer; an error answer becomes the issuer's own words.
async fn answer<T: DeserializeOwned>(request: reqwest::RequestBuilder) -> Result<T, WalletError> {
    let response = request.send().await?;
    let status = response.status();
    let url = response.url().to_string();
    let body = bounded(response).await?;
    if !status.is_success() {
        let error: Option<oid4vci::ErrorResponse> = serde_json::from_slice(&body).ok();
        return Err(match error {
            Some(e) => WalletError::Refused {
                url,
                code: e.error,
                description: e.error_description,
            },
            None => WalletError::Protocol(format!("{url} answered {status}")),
        });
    }
    serde_json::from_slice(&body)
        .map_err(|e| WalletError::Protocol(format!("{url}: unexpected answer: {e}")))
}

async fn bounded(mut response: reqwest::Response) -> Result<Vec<u8>, WalletError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE_LEN {
            return Err(WalletError::Protocol("the answer is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
