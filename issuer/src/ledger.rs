//! The registry as the issuer sees it: any [`Ledger`] — over HTTP
//! ([`RegistryClient`](dojang_ledger::client::RegistryClient)), or the registry in the same
//! process (`dojang up`) — with the issuer's own rules on top: accreditation cached for 30 s,
//! and status lists read back only when signed with the issuer's own key. The issuer never
//! touches the registry's storage.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dojang_core::did::Did;
use dojang_core::key::PublicKey;
use dojang_core::status::StatusListError;
use dojang_core::status::token::{self as tsl, TokenStatusList};
use dojang_ledger::api::{self, Issuer, Ledger};
use dojang_ledger::client::RegistryClient;
use tokio::sync::Mutex;

/// How long the list of accredited issuers, and the published certificates, are cached.
const ACCREDITATION_TTL: Duration = Duration::from_secs(30);
/// How old the cached certificates must be before a key they lack is looked up again.
const MISS_RETRY: Duration = Duration::from_secs(5);

/// Why a registry call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The registry could not be reached, refused, or answered garbage.
    #[error(transparent)]
    Registry(#[from] api::LedgerError),
    /// The registry's copy of a status list is not one this issuer signed for that list.
    #[error("the registry's status list `{list_id}` is not this issuer's: {source}")]
    UnverifiedList {
        /// The list.
        list_id: String,
        /// What failed.
        #[source]
        source: StatusListError,
    },
}

impl LedgerError {
    /// The registry's error code, when it refused (`status_list`, `replayed`, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            LedgerError::Registry(e) => e.code(),
            LedgerError::UnverifiedList { .. } => None,
        }
    }
}

/// A status list as the registry publishes it, its token verified with the issuer's key.
#[derive(Debug, Clone)]
pub struct PublishedList {
    /// The version the registry holds.
    pub version: u64,
    /// Log index of that publication.
    pub index: u64,
    /// The issuer-signed `statuslist+jwt`, as published.
    pub token: String,
    /// Its decoded list.
    pub list: TokenStatusList,
}

/// The registry, for the issuer.
pub struct LedgerView {
    ledger: Arc<dyn Ledger>,
    public: String,
    accredited: Mutex<Option<(Instant, Vec<Issuer>)>>,
    certificates: Mutex<Option<(Instant, Vec<api::Certificate>)>>,
}

impl LedgerView {
    /// The registry reached through `ledger`, whose status lists are published at
    /// `<public_url>/status-lists/<id>`.
    pub fn new(ledger: Arc<dyn Ledger>, public_url: &str) -> Self {
        LedgerView {
            ledger,
            public: public_url.trim_end_matches('/').to_owned(),
            accredited: Mutex::new(None),
            certificates: Mutex::new(None),
        }
    }

    /// The registry's HTTP API at `api_url`, publishing at `public_url` (the two differ when
    /// the registry is behind a proxy).
    pub fn http(api_url: &str, public_url: &str) -> Self {
        LedgerView::new(Arc::new(RegistryClient::new(api_url)), public_url)
    }

    /// Appends an entry; returns its log index.
    pub async fn submit(&self, entry: String) -> Result<u64, LedgerError> {
        Ok(self.ledger.submit(&entry).await?.index)
    }

    /// The credential types `did` is currently accredited for (cached for 30 s).
    pub async fn accredited_types(&self, did: &Did) -> Result<Vec<String>, LedgerError> {
        let mut cache = self.accredited.lock().await;
        let fresh = matches!(&*cache, Some((at, _)) if at.elapsed() < ACCREDITATION_TTL);
        if !fresh {
            *cache = Some((Instant::now(), self.ledger.issuers().await?));
        }
        Ok(cache
            .as_ref()
            .and_then(|(_, list)| list.iter().find(|i| i.did == did.as_str()))
            .map(|i| i.types.clone())
            .unwrap_or_default())
    }

    /// The DER of the unrevoked document-signer certificate the root authority published for
    /// `did`'s key `key`, valid at `now`. The published certificates are cached for 30 s, like
    /// accreditation: issuing stays one registry call away at most. A key the cache has no
    /// certificate for (a key just rotated) is looked up again once the cache is 5 s old.
    pub async fn document_signer(
        &self,
        did: &Did,
        key: &PublicKey,
        now: i64,
    ) -> Result<Option<Vec<u8>>, LedgerError> {
        let mut cache = self.certificates.lock().await;
        let age = |cache: &Option<(Instant, _)>| cache.as_ref().map(|(at, _)| at.elapsed());
        if age(&cache).is_none_or(|age| age >= ACCREDITATION_TTL) {
            *cache = Some((Instant::now(), self.ledger.certificates().await?));
        }
        let find = |list: &[api::Certificate]| {
            list.iter()
                .filter(|c| {
                    !c.is_root && c.revoked.is_none() && c.subject.as_deref() == Some(did.as_str())
                })
                .filter_map(|c| dojang_core::b64::decode(&c.der).ok())
                .find(|der| {
                    dojang_mdoc::Certificate::from_der(der).is_ok_and(|cert| {
                        cert.valid_at(now) && cert.public_key.as_slice() == key.as_bytes()
                    })
                })
        };
        let found = cache.as_ref().and_then(|(_, list)| find(list));
        if found.is_some() || age(&cache).is_some_and(|age| age < MISS_RETRY) {
            return Ok(found);
        }
        let list = self.ledger.certificates().await?;
        let found = find(&list);
        *cache = Some((Instant::now(), list));
        Ok(found)
    }

    /// `did` as the registry resolves it now; `None` if it has no such DID.
    pub async fn did(&self, did: &Did) -> Result<Option<api::ResolvedDid>, LedgerError> {
        Ok(self.ledger.did(did.as_str()).await?)
    }

    /// Forgets cached accreditation (after the root authority changes it).
    pub async fn refresh_accreditation(&self) {
        *self.accredited.lock().await = None;
    }

    /// The registry's latest version of one of this issuer's status lists, if it has one: its
    /// token must be signed by one of `keys` (the issuer's own, current then retired) for this
    /// list's URI, or it is refused.
    pub async fn status_list(
        &self,
        list_id: &str,
        keys: &[PublicKey],
        now: i64,
    ) -> Result<Option<PublishedList>, LedgerError> {
        let Some(answer) = self.ledger.status_list(list_id).await? else {
            return Ok(None);
        };
        let unverified = |source| LedgerError::UnverifiedList {
            list_id: list_id.to_owned(),
            source,
        };
        let uri = self.status_list_uri(list_id);
        let mut verified = None;
        for key in keys {
            let attempt = tsl::verify_token(&answer.token, key, &uri, now);
            let done = attempt.is_ok();
            verified = Some(attempt);
            if done {
                break;
            }
        }
        let (_, list) = verified
            .unwrap_or(Err(StatusListError::Malformed {
                reason: "no key of this issuer to verify it with",
            }))
            .map_err(unverified)?;
        Ok(Some(PublishedList {
            version: answer.version,
            index: answer.index,
            token: answer.token,
            list,
        }))
    }

    /// The public URI of a status list (what credentials reference).
    pub fn status_list_uri(&self, list_id: &str) -> String {
        format!("{}/status-lists/{list_id}", self.public)
    }
}
