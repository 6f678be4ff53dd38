//! The registry in its issuer's own process (`dojang up`), as the issuer's [`Ledger`]: the
//! HTTP API's answers and refusals, without HTTP. Appends from the same process are the
//! operator's own, so they skip the admission that rations open appends.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dojang_core::did::Did;
use dojang_ledger::api::{self, Ledger, LedgerError, LedgerFuture};
use dojang_ledger::bundle::encode_hashes;
use dojang_ledger::state::AsOf;

use crate::http::error_body;
use crate::service::{Appended, Registry, RegistryError};

impl Registry {
    /// The issuers with a current accreditation.
    pub async fn issuers(&self) -> Result<Vec<api::Issuer>, RegistryError> {
        let state = self.current_state().await?;
        Ok(state
            .accredited_issuers()
            .into_iter()
            .map(|(did, name, types)| api::Issuer {
                did: did.to_string(),
                name,
                types,
            })
            .collect())
    }

    /// A DID's document now or `as_of` a log size or time, with the leaf hash of its latest
    /// operation.
    pub async fn resolve(&self, did: &Did, as_of: AsOf) -> Result<api::ResolvedDid, RegistryError> {
        let state = self.current_state().await?;
        let record = state.did(did).ok_or(RegistryError::NotFound)?;
        let in_scope = |index: u64, time: u64| match as_of {
            AsOf::Latest => true,
            AsOf::Size(size) => index < size,
            AsOf::Time(t) => time <= t,
        };
        let version = record
            .versions
            .iter()
            .rev()
            .find(|v| in_scope(v.index, v.timestamp_ms))
            .ok_or(RegistryError::NotFound)?;
        Ok(api::ResolvedDid {
            document: serde_json::to_value(&version.document).unwrap_or_default(),
            metadata: api::DidMetadata {
                created_ms: record.versions[0].timestamp_ms,
                updated_ms: version.timestamp_ms,
                version_index: version.index,
                deactivated: record.deactivated.is_some_and(|(i, t)| in_scope(i, t)),
                latest_operation: Some(dojang_core::b64::encode(record.latest_operation())),
            },
        })
    }

    /// The certificates the root authority published, with their revocations.
    pub async fn certificates(&self) -> Vec<api::Certificate> {
        let state = self.state().await;
        state
            .certificates()
            .iter()
            .map(|c| api::Certificate {
                id: c.id.clone(),
                der: c.der.clone(),
                is_root: c.is_root,
                subject: c.subject.as_ref().map(ToString::to_string),
                index: c.index,
                revoked: c.revoked.clone(),
            })
            .collect()
    }

    /// The latest version of a status list, with its inclusion proof in the current tree.
    pub async fn status_list(&self, list_id: &str) -> Result<api::StatusList, RegistryError> {
        let (record, size) = {
            let state = self.current_state().await?;
            let record = state
                .status_list(list_id)
                .cloned()
                .ok_or(RegistryError::NotFound)?;
            (record, state.next_index())
        };
        let proof = self.inclusion_proof(record.index, size).await?;
        Ok(api::StatusList {
            list_id: record.list_id,
            issuer: record.issuer.to_string(),
            uri: record.uri,
            version: record.version,
            token: record.token,
            index: record.index,
            size,
            proof: encode_hashes(&proof),
        })
    }
}

impl From<Appended> for api::Appended {
    fn from(appended: Appended) -> Self {
        api::Appended {
            index: appended.index,
            timestamp_ms: appended.timestamp_ms,
            leaf_hash: STANDARD.encode(appended.leaf_hash),
            replayed: appended.replayed,
        }
    }
}

/// A refusal as the HTTP API would have answered it.
fn refused(error: RegistryError) -> LedgerError {
    let (status, body) = error_body(&error);
    LedgerError::Refused {
        status: status.as_u16(),
        body,
    }
}

impl Ledger for Registry {
    fn submit<'a>(&'a self, entry: &'a str) -> LedgerFuture<'a, api::Appended> {
        Box::pin(async move {
            Registry::submit(self, entry.trim().to_owned())
                .await
                .map(api::Appended::from)
                .map_err(refused)
        })
    }

    fn issuers(&self) -> LedgerFuture<'_, Vec<api::Issuer>> {
        Box::pin(async move { Registry::issuers(self).await.map_err(refused) })
    }

    fn certificates(&self) -> LedgerFuture<'_, Vec<api::Certificate>> {
        Box::pin(async move { Ok(Registry::certificates(self).await) })
    }

    fn status_list<'a>(&'a self, list_id: &'a str) -> LedgerFuture<'a, Option<api::StatusList>> {
        Box::pin(async move {
            match Registry::status_list(self, list_id).await {
                Ok(list) => Ok(Some(list)),
                Err(RegistryError::NotFound) => Ok(None),
                Err(e) => Err(refused(e)),
            }
        })
    }

    fn bundle<'a>(
        &'a self,
        since: Option<u64>,
        types: Option<&'a [String]>,
    ) -> LedgerFuture<'a, String> {
        Box::pin(async move {
            Registry::bundle_for(self, since, types)
                .await
                .map_err(refused)
        })
    }

    fn did<'a>(&'a self, did: &'a str) -> LedgerFuture<'a, Option<api::ResolvedDid>> {
        Box::pin(async move {
            let Ok(did) = Did::parse(did) else {
                return Ok(None);
            };
            match self.resolve(&did, AsOf::Latest).await {
                Ok(resolved) => Ok(Some(resolved)),
                Err(RegistryError::NotFound) => Ok(None),
                Err(e) => Err(refused(e)),
            }
        })
    }
}
