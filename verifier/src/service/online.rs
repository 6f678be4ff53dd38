//! OpenID4VP: requests opened for a wallet, and the verdicts on its `direct_post` answer — an
//! SD-JWT VC with key binding, or an mdoc DeviceResponse over the SessionTranscript OpenID4VP
//! 1.0 defines for this request.

use std::collections::HashMap;
use std::sync::Arc;

use dojang_core::b64;
use dojang_core::oid4vp::{
    AuthorizationRequest, ClaimsQuery, CredentialQuery, CredentialQueryMeta, DcqlQuery, MSO_MDOC,
};
use dojang_core::sd_jwt::ExpectedKeyBinding;
use dojang_core::sd_jwt::vc::TYP as SD_JWT_VC;
use dojang_core::verdict::Verdict;
use dojang_schemas::Catalog;

use super::{
    OPEN_FOR, OnlineRequest, ServiceError, VerifierService, awaits_newer_bundle, insert, lock, now,
    random_id,
};
use crate::{Policy, Verifier};

impl VerifierService {
    /// Opens an OpenID4VP request for a credential of `type_id` with `claims`, in `format`
    /// (`dc+sd-jwt`, or `mso_mdoc` for a type issued as an mdoc).
    pub fn online_request(
        &self,
        type_id: &str,
        claims: &[String],
        format: &str,
        now: i64,
    ) -> Result<AuthorizationRequest, ServiceError> {
        let catalog = Catalog::builtin();
        let ty = catalog
            .get(type_id)
            .map_err(|_| ServiceError::UnknownType {
                known: catalog.iter().map(|ty| ty.id().to_owned()).collect(),
            })?;
        // Only the type's own claims, each once: what the request asks for is bounded by the
        // type, and so is the QR code that carries it.
        let known: Vec<String> = ty.disclosable().iter().map(|p| p.to_string()).collect();
        let mut wanted: Vec<&String> = Vec::new();
        for name in claims {
            let path = format!("/{}", name.split('.').collect::<Vec<_>>().join("/"));
            if !known
                .iter()
                .any(|k| *k == path || k.starts_with(&format!("{path}/")))
            {
                return Err(ServiceError::UnknownClaim {
                    known: known
                        .iter()
                        .map(|k| k.trim_start_matches('/').replace('/', "."))
                        .collect(),
                });
            }
            if !wanted.contains(&name) {
                wanted.push(name);
            }
        }
        let doctype = &ty.descriptor().mdoc_doctype;
        let (meta, namespace) = match (format, doctype) {
            (SD_JWT_VC, _) => (
                CredentialQueryMeta {
                    vct_values: Some(vec![ty.descriptor().vct.clone()]),
                    ..Default::default()
                },
                None,
            ),
            // The type's claims are the elements of the namespace named after its document type.
            (MSO_MDOC, Some(doctype)) => (
                CredentialQueryMeta {
                    doctype_value: Some(doctype.clone()),
                    ..Default::default()
                },
                Some(doctype),
            ),
            _ => {
                let mut known = vec![SD_JWT_VC.to_owned()];
                known.extend(doctype.as_ref().map(|_| MSO_MDOC.to_owned()));
                return Err(ServiceError::UnsupportedFormat { known });
            }
        };
        let query = DcqlQuery {
            credentials: vec![CredentialQuery {
                id: "credential".into(),
                format: format.to_owned(),
                meta: Some(meta),
                claims: (!wanted.is_empty()).then(|| {
                    wanted
                        .iter()
                        .map(|name| ClaimsQuery {
                            id: None,
                            path: namespace
                                .into_iter()
                                .map(|ns| ns.as_str().into())
                                .chain(name.split('.').map(|p| p.into()))
                                .collect(),
                        })
                        .collect()
                }),
            }],
        };
        let response_uri = format!(
            "{}/api/oid4vp/response",
            self.inner.config.public_url.trim_end_matches('/')
        );
        let state = random_id()?;
        let request = AuthorizationRequest::new(&response_uri, &random_id()?, Some(&state), query);
        let open = OnlineRequest {
            request: request.clone(),
            verdicts: None,
        };
        insert(&self.inner.requests, state, open, now);
        Ok(request)
    }

    /// Judges a wallet's `direct_post` answer to an open request, off the async threads, and
    /// records the verdicts (one answer per request). Like [`verify_upload`](Self::verify_upload),
    /// presentations rejected only for `status_unavailable` are judged once more after catching
    /// up with the registry.
    pub async fn online_response(
        &self,
        state: String,
        vp_token: String,
    ) -> Result<Vec<Verdict>, ServiceError> {
        let state = Arc::new(state);
        let vp_token = Arc::new(vp_token);
        let judge = || {
            let (state, vp_token) = (state.clone(), vp_token.clone());
            self.off_thread(move |service| service.judge_answer(&state, &vp_token, now()))
        };
        let mut verdicts = judge().await?;
        if let Some(judged_at) = verdicts.iter().filter_map(awaits_newer_bundle).min()
            && self.catch_up(judged_at).await
        {
            verdicts = judge().await?;
        }
        // One answer per request: the first to record its verdicts.
        match lock(&self.inner.requests).get_mut(state.as_str()) {
            Some(open) if open.value.verdicts.is_none() => {
                open.value.verdicts = Some(verdicts.clone());
            }
            _ => return Err(ServiceError::UnknownState),
        }
        verdicts.iter().for_each(|verdict| self.count(verdict));
        Ok(verdicts)
    }

    /// The verdicts on an answer to the open request `state`, not recorded. CPU work.
    fn judge_answer(
        &self,
        state: &str,
        vp_token: &str,
        now: i64,
    ) -> Result<Vec<Verdict>, ServiceError> {
        let request = lock(&self.inner.requests)
            .get(state)
            .filter(|open| open.expires > now && open.value.verdicts.is_none())
            .map(|open| open.value.request.clone())
            .ok_or(ServiceError::UnknownState)?;
        // serde's messages quote what they could not read: only the fact is told.
        let tokens: HashMap<String, Vec<String>> =
            serde_json::from_str(vp_token).map_err(|_| ServiceError::VpTokenUnreadable)?;
        // The query asks for one credential (no `multiple`): one presentation answers it, and
        // an answer cannot make the verifier check more.
        let presentations = tokens
            .get("credential")
            .filter(|p| p.len() == 1)
            .ok_or(ServiceError::VpTokenNotOnePresentation)?;
        let trust = self.held()?;
        let verifier = Verifier {
            trust: &trust,
            catalog: Catalog::builtin(),
        };
        let policy = Policy {
            key_binding: Some(ExpectedKeyBinding {
                audience: &request.client_id,
                nonce: &request.nonce,
                max_age: OPEN_FOR,
            }),
            ..self.policy()
        };
        let mdoc = request
            .dcql_query
            .credentials
            .first()
            .is_some_and(|query| query.format == MSO_MDOC);
        Ok(presentations
            .iter()
            .map(|p| match mdoc {
                true => {
                    // The DeviceResponse must be signed over this request's transcript: one
                    // made for another verifier, nonce or response URI fails device auth.
                    let transcript = dojang_mdoc::session_transcript_openid4vp(
                        &request.client_id,
                        &request.nonce,
                        None,
                        &request.response_uri,
                    );
                    let bytes = b64::decode(p).unwrap_or_default();
                    verifier.mdoc(&bytes, &transcript, &policy, now)
                }
                false => verifier.sd_jwt_vc(p, &policy, now),
            })
            .collect())
    }

    /// The verdicts an open request received: `None` while it awaits its answer;
    /// [`ServiceError::UnknownRequest`] for a request unknown or expired.
    pub fn online_result(&self, state: &str) -> Result<Option<Vec<Verdict>>, ServiceError> {
        lock(&self.inner.requests)
            .get(state)
            .map(|open| open.value.verdicts.clone())
            .ok_or(ServiceError::UnknownRequest)
    }
}
