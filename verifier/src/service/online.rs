//! OpenID4VP: requests opened for a wallet, and the verdicts on its `direct_post` answer.

use std::collections::HashMap;
use std::sync::Arc;

use dojang_core::oid4vp::{AuthorizationRequest, ClaimsQuery, CredentialQuery, DcqlQuery};
use dojang_core::sd_jwt::ExpectedKeyBinding;
use dojang_core::verdict::Verdict;
use dojang_schemas::Catalog;

use super::{
    OPEN_FOR, OnlineRequest, ServiceError, VerifierService, awaits_newer_bundle, insert, lock, now,
    random_id,
};
use crate::{Policy, Verifier};

impl VerifierService {
    /// Opens an OpenID4VP request for a credential of `type_id` with `claims`.
    pub fn online_request(
        &self,
        type_id: &str,
        claims: &[String],
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
        let query = DcqlQuery {
            credentials: vec![CredentialQuery {
                id: "credential".into(),
                format: "dc+sd-jwt".into(),
                meta: Some(dojang_core::oid4vp::CredentialQueryMeta {
                    vct_values: Some(vec![ty.descriptor().vct.clone()]),
                }),
                claims: (!wanted.is_empty()).then(|| {
                    wanted
                        .iter()
                        .map(|name| ClaimsQuery {
                            id: None,
                            path: name.split('.').map(|p| p.into()).collect(),
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
        Ok(presentations
            .iter()
            .map(|p| verifier.sd_jwt_vc(p, &policy, now))
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
