//! Answering OpenID4VP requests: find a stored SD-JWT VC or mdoc for each credential the verifier
//! asks for, show the citizen what would be disclosed, and post the presentations with key
//! binding — for an mdoc, a DeviceResponse signed over the SessionTranscript OpenID4VP 1.0
//! defines (client id, nonce, response URI).

use dojang_core::b64;
use dojang_core::oid4vp::{AuthorizationRequest, AuthorizationResponse, CredentialQuery, MSO_MDOC};
use dojang_core::sd_jwt::{ClaimPath, HeldSdJwt, KeyBindingInput};
use serde::Deserialize;

use crate::store::PresentationMode;
use crate::{StoredCredential, Wallet, WalletError};

/// A stored credential that satisfies one credential query, and what it would disclose.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The query's id.
    pub query_id: String,
    /// The wallet's credential.
    pub credential_id: String,
    /// Its display name.
    pub name: String,
    /// The claims that would be disclosed (those asked for that the holder may keep back;
    /// the always-visible ones go anyway). For an mdoc, `/<namespace>/<element>`.
    pub disclosed: Vec<ClaimPath>,
    /// Whether the mdoc answers (else the SD-JWT VC).
    pub mdoc: bool,
}

impl Match {
    /// The disclosed claims as JSON pointers into the credential's claims, for labels: an mdoc
    /// element is the claim of its name (dojang's mdoc elements are the type's claims).
    pub fn claim_pointers(&self) -> Vec<String> {
        self.disclosed
            .iter()
            .map(|path| match (self.mdoc, path.tokens()) {
                (true, [_, element]) => format!("/{element}"),
                _ => path.to_string(),
            })
            .collect()
    }
}

/// Reads a request (`openid4vp://?…`, as typed or scanned).
pub fn request_from_text(text: &str) -> Result<AuthorizationRequest, WalletError> {
    AuthorizationRequest::from_uri(text.trim()).map_err(|e| WalletError::NotARequest {
        reason: e.to_string(),
    })
}

/// For every credential query, the first stored credential that answers it: an SD-JWT VC of an
/// accepted type holding every claim asked for. An unanswerable query is an error naming it.
pub async fn matches(
    wallet: &Wallet,
    request: &AuthorizationRequest,
) -> Result<Vec<Match>, WalletError> {
    let stored = wallet.credentials().await?;
    let mut found = Vec::new();
    for query in &request.dcql_query.credentials {
        let mdoc = query.format == MSO_MDOC;
        let mut paths = Vec::new();
        for claim in query.claims.iter().flatten() {
            paths.push(
                claim
                    .claim_path()
                    .map_err(|e| WalletError::Protocol(e.to_string()))?,
            );
        }
        let answer = stored.iter().find_map(|c| {
            match mdoc {
                true => answerable_mdoc(c, query, &paths),
                false => answerable(c, query, &paths),
            }
            .map(|disclosed| (c, disclosed))
        });
        let Some((credential, disclosed)) = answer else {
            return Err(WalletError::NoMatch {
                query: query.id.clone(),
            });
        };
        found.push(Match {
            query_id: query.id.clone(),
            credential_id: credential.id.clone(),
            name: credential.summary().name,
            disclosed,
            mdoc,
        });
    }
    Ok(found)
}

/// The disclosable paths among `paths`, if `credential` has an SD-JWT VC of a type `query`
/// accepts holding every one of them.
fn answerable(
    credential: &StoredCredential,
    query: &CredentialQuery,
    paths: &[ClaimPath],
) -> Option<Vec<ClaimPath>> {
    let accepted = query.meta.as_ref().and_then(|m| m.vct_values.as_ref());
    if !accepted.is_none_or(|vcts| vcts.contains(&credential.vct)) {
        return None;
    }
    let held = HeldSdJwt::parse(credential.sd_jwt.as_deref()?).ok()?;
    let disclosable = held.disclosable_paths();
    let mut disclosed = Vec::new();
    for path in paths {
        path.resolve(held.claims())?;
        if disclosable.iter().any(|d| d.is_prefix_of(path)) {
            disclosed.push(path.clone());
        }
    }
    Some(disclosed)
}

/// `paths` (`/<namespace>/<element>`), if `credential` has an mdoc of the document type `query`
/// names holding every one of them. Every element of an mdoc may be kept back.
fn answerable_mdoc(
    credential: &StoredCredential,
    query: &CredentialQuery,
    paths: &[ClaimPath],
) -> Option<Vec<ClaimPath>> {
    let bytes = b64::decode(credential.mdoc.as_deref()?).ok()?;
    let held = dojang_mdoc::IssuerSigned::parse(&bytes).ok()?;
    let wanted = query.meta.as_ref()?.doctype_value.as_deref()?;
    if held.doc_type().ok()? != wanted {
        return None;
    }
    let elements: Vec<_> = held.elements().collect();
    paths
        .iter()
        .all(|path| match path.tokens() {
            [namespace, element] => elements.contains(&(namespace.as_str(), element.as_str())),
            _ => false,
        })
        .then(|| paths.to_vec())
}

/// The mdoc presentation of `credential` for `found`: a DeviceResponse with the elements asked
/// for, signed by the holder key over the request's SessionTranscript, base64url.
async fn present_mdoc(
    wallet: &Wallet,
    credential: &StoredCredential,
    request: &AuthorizationRequest,
    found: &Match,
) -> Result<String, WalletError> {
    let missing = || WalletError::MissingFormat {
        id: credential.id.clone(),
        format: MSO_MDOC,
    };
    let issuer_signed =
        b64::decode(credential.mdoc.as_deref().ok_or_else(missing)?).map_err(|_| missing())?;
    let names: Vec<(&str, &str)> = found
        .disclosed
        .iter()
        .filter_map(|path| match path.tokens() {
            [namespace, element] => Some((namespace.as_str(), element.as_str())),
            _ => None,
        })
        .collect();
    let transcript = dojang_mdoc::session_transcript_openid4vp(
        &request.client_id,
        &request.nonce,
        None,
        &request.response_uri,
    );
    let signer = wallet.signer(&credential.key).await?;
    let response = dojang_mdoc::present(&issuer_signed, &names, &transcript, signer.as_ref())
        .map_err(|e| WalletError::Protocol(format!("cannot present the mdoc: {e}")))?;
    Ok(b64::encode(response))
}

/// What the verifier answered.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Outcome {
    /// Where the verifier wants the user to go next, if anywhere.
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

/// Presents `matches` to the verifier (key binding to its `client_id` and `nonce`), posts the
/// answer to its `response_uri`, and records each presentation in the history.
pub async fn respond(
    wallet: &Wallet,
    http: &reqwest::Client,
    request: &AuthorizationRequest,
    matches: &[Match],
    now: i64,
) -> Result<Outcome, WalletError> {
    let mut response = AuthorizationResponse {
        vp_token: Default::default(),
        state: request.state.clone(),
    };
    for found in matches {
        let credential = wallet.credential(&found.credential_id).await?;
        if found.mdoc {
            let presentation = present_mdoc(wallet, &credential, request, found).await?;
            response
                .vp_token
                .insert(found.query_id.clone(), vec![presentation]);
            continue;
        }
        let sd_jwt = credential
            .sd_jwt
            .as_deref()
            .ok_or_else(|| WalletError::MissingFormat {
                id: credential.id.clone(),
                format: dojang_core::sd_jwt::vc::TYP,
            })?;
        let signer = wallet.signer(&credential.key).await?;
        let presentation = HeldSdJwt::parse(sd_jwt)?.present(
            &found.disclosed,
            Some(KeyBindingInput {
                signer: signer.as_ref(),
                audience: &request.client_id,
                nonce: &request.nonce,
                issued_at: now,
            }),
        )?;
        response
            .vp_token
            .insert(found.query_id.clone(), vec![presentation]);
    }
    let answer = http
        .post(&request.response_uri)
        .form(&response.to_form())
        .send()
        .await?;
    let status = answer.status();
    let body = answer.bytes().await?;
    if !status.is_success() {
        return Err(WalletError::Protocol(format!(
            "the verifier refused the presentation ({status}): {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )));
    }
    for found in matches {
        let disclosed = found.disclosed.iter().map(ToString::to_string).collect();
        let mode = PresentationMode::OpenId4Vp {
            client_id: request.client_id.clone(),
        };
        wallet
            .record(&found.credential_id, mode, disclosed, now)
            .await?;
    }
    Ok(serde_json::from_slice(&body).unwrap_or_default())
}
