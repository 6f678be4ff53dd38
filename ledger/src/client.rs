//! A typed client for the registry's HTTP API, reading and writing the server's own types
//! ([`crate::api`]). Issuers, verifiers' refreshes and the CLI reach a registry through it.
//!
//! Appends are idempotent on the registry's side: an entry already in the log is answered with
//! its index, as if it had just been appended. So when an answer is lost (a timeout, a dropped
//! connection, a proxy's 502), [`RegistryClient::submit`] sends the very same bytes again, and an
//! entry that was committed comes back as a success instead of being left to surprise the next
//! change.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;

use crate::api::{
    Appended, Certificate, ErrorBody, Issuer, Ledger, LedgerError, LedgerFuture, ResolvedDid,
    StatusList,
};
use crate::bundle::{MAX_BUNDLE_LEN, TrustAnchor};

/// How long one call may take, answer included.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// How long a bundle download may take: up to [`MAX_BUNDLE_LEN`] over a slow link.
pub const BUNDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Submissions of one entry when the registry cannot be reached or its answer is lost.
const SUBMIT_ATTEMPTS: u32 = 3;

/// The pause before the first resubmission; it doubles each time.
const RESUBMIT_BACKOFF: Duration = Duration::from_millis(200);

/// What a list id keeps unescaped in a URL path: RFC 3986's unreserved characters.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Largest JSON answer read (a status list with its proof is the largest, under 200 KiB).
const MAX_ANSWER_LEN: usize = 4 << 20;

/// A client for one registry's API.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    http: reqwest::Client,
    base: String,
}

impl RegistryClient {
    /// A client for the registry API at `base_url` (e.g. `http://127.0.0.1:8070`).
    pub fn new(base_url: &str) -> Self {
        RegistryClient {
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .unwrap_or_default(),
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Appends an entry. When the registry cannot be reached or its answer is lost, the same
    /// bytes are submitted again (three times in all, after 200 and 400 ms): an entry the
    /// registry did commit is then answered with its index.
    pub async fn submit(&self, entry: &str) -> Result<Appended, LedgerError> {
        let mut attempt = 1;
        loop {
            let request = self
                .http
                .post(format!("{}/entries", self.base))
                .header("content-type", "application/jose")
                .body(entry.to_owned());
            // An acknowledgement that cannot be read is as good as lost.
            let answer = match self.json(request).await {
                Err(LedgerError::Malformed { reason }) => Err(LedgerError::Unreachable {
                    source: format!("unreadable acknowledgement: {reason}").into(),
                }),
                other => other,
            };
            match answer {
                Err(LedgerError::Unreachable { source }) if attempt < SUBMIT_ATTEMPTS => {
                    tracing::warn!(
                        attempt,
                        reason = %source,
                        "no answer from the registry; submitting the same entry again"
                    );
                    tokio::time::sleep(RESUBMIT_BACKOFF * 2u32.pow(attempt - 1)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// The issuers with a current accreditation.
    pub async fn issuers(&self) -> Result<Vec<Issuer>, LedgerError> {
        self.json(self.http.get(format!("{}/issuers", self.base)))
            .await
    }

    /// The certificates the root authority published, with their revocations.
    pub async fn certificates(&self) -> Result<Vec<Certificate>, LedgerError> {
        self.json(self.http.get(format!("{}/certificates", self.base)))
            .await
    }

    /// The latest version of a status list with its inclusion proof; `None` if it was never
    /// published (the answer is 404).
    pub async fn status_list(&self, list_id: &str) -> Result<Option<StatusList>, LedgerError> {
        let segment = utf8_percent_encode(list_id, PATH_SEGMENT);
        let request = self
            .http
            .get(format!("{}/status-lists/{segment}", self.base))
            .header("accept", "application/json");
        match self.json::<StatusList>(request).await {
            Ok(list) if list.list_id == list_id => Ok(Some(list)),
            Ok(_) => Err(malformed(
                "asked for one status list, answered with another",
            )),
            Err(LedgerError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A `did:dojang` as it is now; `None` if the registry has no such DID (404).
    pub async fn did(&self, did: &str) -> Result<Option<ResolvedDid>, LedgerError> {
        let segment = utf8_percent_encode(did, PATH_SEGMENT);
        match self
            .json::<ResolvedDid>(self.http.get(format!("{}/dids/{segment}", self.base)))
            .await
        {
            Ok(resolved) => Ok(Some(resolved)),
            Err(LedgerError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The signed trust bundle, or with `since`, the delta from that checkpoint size; with
    /// `types`, only the status lists of those types' issuers. Reads no more than
    /// [`MAX_BUNDLE_LEN`] bytes, however much the registry sends.
    pub async fn bundle(
        &self,
        since: Option<u64>,
        types: Option<&[String]>,
    ) -> Result<String, LedgerError> {
        let mut query = Vec::new();
        if let Some(since) = since {
            query.push(format!("since={since}"));
        }
        if let Some(types) = types {
            let types = types.join(",");
            query.push(format!(
                "types={}",
                utf8_percent_encode(&types, PATH_SEGMENT)
            ));
        }
        let url = match query.is_empty() {
            true => format!("{}/bundle", self.base),
            false => format!("{}/bundle?{}", self.base, query.join("&")),
        };
        let request = self.http.get(url).timeout(BUNDLE_TIMEOUT);
        let bytes = self.bounded(request, MAX_BUNDLE_LEN).await?;
        String::from_utf8(bytes).map_err(|_| malformed("the bundle is not text"))
    }

    /// The registry's own trust anchor: its log key, bundle key and witnesses. Unchecked: pin
    /// it on first use, or compare it with a pin.
    pub async fn trust_anchor(&self) -> Result<TrustAnchor, LedgerError> {
        self.json(self.http.get(format!("{}/trust-anchor", self.base)))
            .await
    }

    async fn json<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, LedgerError> {
        let bytes = self.bounded(request, MAX_ANSWER_LEN).await?;
        serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))
    }

    /// Sends `request` and reads a successful answer's body, refusing one over `limit` bytes.
    /// An error answer becomes [`LedgerError::Refused`] with the registry's code and message
    /// (`http_<status>` when something else answered, a proxy's page, say); a server error
    /// without the registry's body means the registry's answer, if any, was lost.
    async fn bounded(
        &self,
        request: reqwest::RequestBuilder,
        limit: usize,
    ) -> Result<Vec<u8>, LedgerError> {
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > limit {
                return Err(malformed(format!(
                    "the answer is larger than {limit} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(body) => Err(LedgerError::Refused {
                status: status.as_u16(),
                body,
            }),
            // A proxy's 502 or 504 page: the registry's answer, if any, was lost.
            Err(_) if status.is_server_error() => Err(LedgerError::Unreachable {
                source: format!("answered {status} without the registry's error").into(),
            }),
            Err(_) => Err(LedgerError::Refused {
                status: status.as_u16(),
                body: ErrorBody {
                    error: format!("http_{}", status.as_u16()).into(),
                    message: format!("answered {status} without the registry's error"),
                },
            }),
        }
    }
}

fn unreachable(e: reqwest::Error) -> LedgerError {
    LedgerError::Unreachable {
        source: Box::new(e),
    }
}

fn malformed(reason: impl Into<std::borrow::Cow<'static, str>>) -> LedgerError {
    LedgerError::Malformed {
        reason: reason.into(),
    }
}

impl Ledger for RegistryClient {
    fn submit<'a>(&'a self, entry: &'a str) -> LedgerFuture<'a, Appended> {
        Box::pin(RegistryClient::submit(self, entry))
    }

    fn issuers(&self) -> LedgerFuture<'_, Vec<Issuer>> {
        Box::pin(RegistryClient::issuers(self))
    }

    fn certificates(&self) -> LedgerFuture<'_, Vec<Certificate>> {
        Box::pin(RegistryClient::certificates(self))
    }

    fn status_list<'a>(&'a self, list_id: &'a str) -> LedgerFuture<'a, Option<StatusList>> {
        Box::pin(RegistryClient::status_list(self, list_id))
    }

    fn bundle<'a>(
        &'a self,
        since: Option<u64>,
        types: Option<&'a [String]>,
    ) -> LedgerFuture<'a, String> {
        Box::pin(RegistryClient::bundle(self, since, types))
    }

    fn did<'a>(&'a self, did: &'a str) -> LedgerFuture<'a, Option<ResolvedDid>> {
        Box::pin(RegistryClient::did(self, did))
    }
}
