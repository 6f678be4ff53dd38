//! The registry, as the issuer sees it: an HTTP API to append entries and read accreditation
//! and status lists. The issuer never touches the registry's storage.
//!
//! Appends are idempotent on the registry's side: an entry already in the log is answered with
//! its index, as if it had just been appended. So when an answer is lost (a timeout, a dropped
//! connection, a proxy's 502), [`RegistryClient::submit`] sends the very same bytes again, and an
//! entry that was committed comes back as a success instead of being left to surprise the next
//! change.

use std::time::{Duration, Instant};

use dojang_core::did::Did;
use dojang_core::key::PublicKey;
use dojang_core::status::StatusListError;
use dojang_core::status::token::{self as tsl, TokenStatusList};
use serde::Deserialize;
use tokio::sync::Mutex;

/// How long the list of accredited issuers is cached.
const ACCREDITATION_TTL: Duration = Duration::from_secs(30);

/// Submissions of one entry when the registry cannot be reached or its answer is lost.
const SUBMIT_ATTEMPTS: u32 = 3;

/// The pause before the first resubmission; it doubles each time.
const RESUBMIT_BACKOFF: Duration = Duration::from_millis(200);

/// Why a registry call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The registry could not be reached or answered garbage.
    #[error("registry unreachable: {0}")]
    Unreachable(String),
    /// The registry refused the entry.
    #[error("registry refused the entry ({code}): {message}")]
    Refused {
        /// The registry's error code (`status_list`, `unauthorized`, …).
        code: String,
        /// Its message.
        message: String,
    },
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

/// A client for one registry.
pub struct RegistryClient {
    http: reqwest::Client,
    api: String,
    public: String,
    accredited: Mutex<Option<(Instant, Vec<AccreditedIssuer>)>>,
}

/// An accredited issuer as the registry lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct AccreditedIssuer {
    /// Its DID.
    pub did: String,
    /// Its attested name.
    pub name: String,
    /// Types it may issue.
    pub types: Vec<String>,
}

#[derive(Deserialize)]
struct Appended {
    index: u64,
}

#[derive(Deserialize)]
struct Refusal {
    error: String,
    message: String,
}

#[derive(Deserialize)]
struct StatusListAnswer {
    list_id: String,
    version: u64,
    token: String,
    index: u64,
}

impl RegistryClient {
    /// A client calling the registry at `api_url`, whose status lists are published at
    /// `<public_url>/status-lists/<id>` (the two differ when the registry is behind a proxy).
    pub fn new(api_url: &str, public_url: &str) -> Self {
        RegistryClient {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap_or_default(),
            api: api_url.trim_end_matches('/').to_owned(),
            public: public_url.trim_end_matches('/').to_owned(),
            accredited: Mutex::new(None),
        }
    }

    /// Appends an entry; returns its log index. When the registry cannot be reached or its
    /// answer is lost, the same bytes are submitted again (three times in all, after 200 and
    /// 400 ms): an entry the registry did commit is then answered with its index.
    pub async fn submit(&self, entry: String) -> Result<u64, LedgerError> {
        let mut attempt = 1;
        loop {
            match self.submit_once(&entry).await {
                Err(LedgerError::Unreachable(reason)) if attempt < SUBMIT_ATTEMPTS => {
                    tracing::warn!(
                        attempt,
                        %reason,
                        "no answer from the registry; submitting the same entry again"
                    );
                    tokio::time::sleep(RESUBMIT_BACKOFF * 2u32.pow(attempt - 1)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn submit_once(&self, entry: &str) -> Result<u64, LedgerError> {
        let response = self
            .http
            .post(format!("{}/entries", self.api))
            .header("content-type", "application/jose")
            .body(entry.to_owned())
            .send()
            .await
            .map_err(|e| LedgerError::Unreachable(e.to_string()))?;
        if response.status().is_success() {
            let appended: Appended = response
                .json()
                .await
                .map_err(|e| LedgerError::Unreachable(e.to_string()))?;
            return Ok(appended.index);
        }
        let status = response.status();
        match response.json::<Refusal>().await {
            Ok(refusal) => Err(LedgerError::Refused {
                code: refusal.error,
                message: refusal.message,
            }),
            Err(_) => Err(LedgerError::Unreachable(format!(
                "registry answered {status}"
            ))),
        }
    }

    /// The credential types `did` is currently accredited for (cached for 30 s).
    pub async fn accredited_types(&self, did: &Did) -> Result<Vec<String>, LedgerError> {
        let mut cache = self.accredited.lock().await;
        let fresh = matches!(&*cache, Some((at, _)) if at.elapsed() < ACCREDITATION_TTL);
        if !fresh {
            let list: Vec<AccreditedIssuer> = self
                .http
                .get(format!("{}/issuers", self.api))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| LedgerError::Unreachable(e.to_string()))?
                .json()
                .await
                .map_err(|e| LedgerError::Unreachable(e.to_string()))?;
            *cache = Some((Instant::now(), list));
        }
        Ok(cache
            .as_ref()
            .and_then(|(_, list)| list.iter().find(|i| i.did == did.as_str()))
            .map(|i| i.types.clone())
            .unwrap_or_default())
    }

    /// Forgets cached accreditation (after the root authority changes it).
    pub async fn refresh_accreditation(&self) {
        *self.accredited.lock().await = None;
    }

    /// The registry's latest version of one of this issuer's status lists, if it has one: its
    /// token must be signed by `key` (the issuer's own) for this list's URI, or it is refused.
    pub async fn status_list(
        &self,
        list_id: &str,
        key: &PublicKey,
        now: i64,
    ) -> Result<Option<PublishedList>, LedgerError> {
        let response = self
            .http
            .get(format!("{}/status-lists/{list_id}", self.api))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| LedgerError::Unreachable(e.to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let answer: StatusListAnswer = response
            .error_for_status()
            .map_err(|e| LedgerError::Unreachable(e.to_string()))?
            .json()
            .await
            .map_err(|e| LedgerError::Unreachable(e.to_string()))?;
        if answer.list_id != list_id {
            return Err(LedgerError::Unreachable(format!(
                "asked for status list `{list_id}`, the registry answered with another"
            )));
        }
        let unverified = |source| LedgerError::UnverifiedList {
            list_id: list_id.to_owned(),
            source,
        };
        let (_, list) = tsl::verify_token(&answer.token, key, &self.status_list_uri(list_id), now)
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
