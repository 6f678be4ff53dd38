//! The registry, as the issuer sees it: an HTTP API to append entries and read accreditation
//! and status lists. The issuer never touches the registry's storage.

use std::time::{Duration, Instant};

use dojang_core::did::Did;
use serde::Deserialize;
use tokio::sync::Mutex;

/// How long the list of accredited issuers is cached.
const ACCREDITATION_TTL: Duration = Duration::from_secs(30);

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
struct StatusListVersion {
    version: u64,
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

    /// Appends an entry; returns its log index.
    pub async fn submit(&self, entry: String) -> Result<u64, LedgerError> {
        let response = self
            .http
            .post(format!("{}/entries", self.api))
            .header("content-type", "application/jose")
            .body(entry)
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

    /// The version of a status list the registry holds, if any.
    pub async fn status_list_version(&self, list_id: &str) -> Result<Option<u64>, LedgerError> {
        let response = self
            .http
            .get(format!("{}/status-lists/{list_id}", self.api))
            .send()
            .await
            .map_err(|e| LedgerError::Unreachable(e.to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let list: StatusListVersion = response
            .error_for_status()
            .map_err(|e| LedgerError::Unreachable(e.to_string()))?
            .json()
            .await
            .map_err(|e| LedgerError::Unreachable(e.to_string()))?;
        Ok(Some(list.version))
    }

    /// The public URI of a status list (what credentials reference).
    pub fn status_list_uri(&self, list_id: &str) -> String {
        format!("{}/status-lists/{list_id}", self.public)
    }
}
