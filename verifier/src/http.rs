//! The verifier's HTTP face: the employer page, verification of uploads, challenge QR codes,
//! the trust bundle's freshness and refresh, and an OpenID4VP verifier endpoint.
//!
//! `app` is mounted at `/` by `dojang verifier serve` and nested under `/verifier` by
//! `dojang up`; the page uses relative URLs, so both work.
//!
//! # Nothing waits behind a slow verification
//!
//! One upload can cost seconds of CPU (a large photo), so the service is shaped so that slow
//! work never holds up anything else:
//!
//! - the trust bundle is an [`ArcSwapOption`]: a verification takes the bundle held (an `Arc`)
//!   and judges by it, a refresh builds the next bundle aside and swaps it in whole. Readers never
//!   wait for a refresh and a refresh never waits for readers;
//! - the challenge and request maps are behind plain mutexes held only to copy an entry out or
//!   to record a result, never across verification;
//! - image decoding and signature checks run off the async threads, at most
//!   [`CHECKS_PER_CPU`] per CPU at once (see [`VerifierService::with_max_concurrent_checks`]);
//!   past that an upload is answered 503 at once rather than queued. The permit stays held until
//!   the work really ends, even if the client has gone: a blocking thread cannot be cancelled.
//!
//! The QR reader bounds its own work (`dojang_core::qr`), and the servers in `dojang` bound how
//! long a request may take.
//!
//! # A credential newer than the bundle
//!
//! An issuer's first credential on a new status list names a list the bundle held does not have
//! yet; judged by that bundle it would be `status_unavailable` until the next periodic refresh.
//! So a verification rejected *only* for `status_unavailable`, by a service with a registry,
//! catches up once before answering: it asks for a refresh and judges again. Such refreshes are
//! shared and rate-limited — at most one per [`CATCH_UP_INTERVAL`] however many verifications
//! ask, each waiting at most [`CATCH_UP_WAIT`] — so presenting such credentials again and again
//! cannot make the service hammer the registry. Without a registry the verdict stays
//! `status_unavailable`, and its reason says the bundle may be older than the list.
//!
//! # Errors never repeat the request
//!
//! What is submitted may be a citizen's credential. An error answer carries a stable code and a
//! fixed message in Korean and English — never a piece of the request, not even a parser's
//! quotation of it — and so do the log lines; a verdict's reasons are cut of what they repeat
//! from the input (see [`Verifier::verify`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{
    BytesRejection, FormRejection, JsonRejection, PathRejection, QueryRejection,
};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use dojang_core::compact::ChallengeRequest;
use dojang_core::oid4vp::{AuthorizationRequest, ClaimsQuery, CredentialQuery, DcqlQuery};
use dojang_core::sd_jwt::ExpectedKeyBinding;
use dojang_core::verdict::{ReasonCode, Verdict};
use dojang_registry::bundle::{BundleError, TrustAnchor};
use dojang_schemas::Catalog;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::input::MAX_INPUT_LEN;
use crate::{IssuerPolicy, Policy, Trust, Verifier};

/// How long a challenge or an OpenID4VP request stays open, in seconds.
pub const OPEN_FOR: i64 = 300;
/// Open challenges and requests kept at most (older ones are dropped first).
const MAX_OPEN: usize = 10_000;
/// Verifications running at once, per CPU, unless set with
/// [`VerifierService::with_max_concurrent_checks`].
pub const CHECKS_PER_CPU: usize = 2;
/// How long a bundle refresh waits for the registry.
const REGISTRY_TIMEOUT: Duration = Duration::from_secs(20);
/// Fewest time between two refreshes asked for by verifications (see the module docs).
pub const CATCH_UP_INTERVAL: Duration = Duration::from_secs(2);
/// Longest a verification waits for a refresh it asked for, or shares.
pub const CATCH_UP_WAIT: Duration = Duration::from_secs(4);

/// The verifier service's settings.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// This verifier's public base URL (OpenID4VP answers are posted under it).
    pub public_url: String,
    /// Who this verifier is, as its challenge QR codes say (`aud`).
    pub audience: String,
    /// The registry to refresh the trust bundle from, if any.
    pub registry_url: Option<String>,
    /// The oldest bundle accepted, in seconds. `None`: any age.
    pub max_bundle_age: Option<i64>,
    /// Witness cosignatures required on the bundle's checkpoint.
    pub min_witnesses: usize,
}

/// The verifier service: shared, cheap to clone.
#[derive(Clone)]
pub struct VerifierService {
    inner: Arc<Inner>,
    /// One permit per verification running off the async threads.
    checks: Arc<Semaphore>,
    /// Which issuers are accepted.
    issuers: IssuerPolicy,
}

struct Inner {
    config: VerifierConfig,
    /// What a first refresh checks the registry's bundle against.
    anchor: TrustAnchor,
    /// The bundle held, swapped whole by a refresh; `None` until one is loaded.
    trust: ArcSwapOption<Trust>,
    /// One refresh at a time (readers never take it).
    refreshing: tokio::sync::Mutex<()>,
    /// The last refresh a verification asked for: when it started, and whether it has ended.
    catch_up: Mutex<Option<CatchUp>>,
    challenges: Mutex<HashMap<String, Open<ChallengeRequest>>>,
    requests: Mutex<HashMap<String, Open<OnlineRequest>>>,
    http: reqwest::Client,
    /// Verdicts given: accepted, rejected.
    verdicts: [AtomicU64; 2],
}

struct Open<T> {
    value: T,
    expires: i64,
}

/// A refresh asked for by a verification, shared by every verification that needs one.
struct CatchUp {
    started: Instant,
    /// Becomes `true` when the refresh has ended, however it ended.
    ended: watch::Receiver<bool>,
}

struct OnlineRequest {
    request: AuthorizationRequest,
    verdicts: Option<Vec<VerdictView>>,
}

/// A verdict with its reasons in words, as the page shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerdictView {
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Each reason, for a person.
    pub reasons_in_words: Vec<String>,
}

impl From<Verdict> for VerdictView {
    fn from(verdict: Verdict) -> Self {
        let reasons_in_words = verdict
            .reasons
            .iter()
            .map(|r| format!("{} ({})", r.code.describe(), r.detail))
            .collect();
        VerdictView {
            verdict,
            reasons_in_words,
        }
    }
}

impl VerifierService {
    /// A service judging by `trust`; refreshes are checked against the anchor it was loaded
    /// with.
    pub fn new(config: VerifierConfig, trust: Trust) -> Self {
        let anchor = trust.anchor().clone();
        Self::build(config, anchor, Some(trust))
    }

    /// A service with no bundle yet: it answers verifications with 503 until a
    /// [`refresh`](Self::refresh) loads one from the registry, checked against `anchor`.
    pub fn without_trust(config: VerifierConfig, anchor: TrustAnchor) -> Self {
        Self::build(config, anchor, None)
    }

    fn build(config: VerifierConfig, anchor: TrustAnchor, trust: Option<Trust>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        VerifierService {
            inner: Arc::new(Inner {
                config,
                anchor,
                trust: ArcSwapOption::new(trust.map(Arc::new)),
                refreshing: tokio::sync::Mutex::default(),
                catch_up: Mutex::default(),
                challenges: Mutex::default(),
                requests: Mutex::default(),
                http: reqwest::Client::new(),
                verdicts: Default::default(),
            }),
            checks: Arc::new(Semaphore::new(cpus * CHECKS_PER_CPU)),
            issuers: IssuerPolicy::default(),
        }
    }

    /// Accepts issuers by `issuers` (default: [`IssuerPolicy::Accredited`]).
    #[must_use]
    pub fn with_issuer_policy(self, issuers: IssuerPolicy) -> Self {
        VerifierService { issuers, ..self }
    }

    /// At most `limit` verifications at once (default: [`CHECKS_PER_CPU`] per CPU); the next
    /// ones are answered 503 until one ends.
    #[must_use]
    pub fn with_max_concurrent_checks(self, limit: usize) -> Self {
        VerifierService {
            checks: Arc::new(Semaphore::new(limit.min(Semaphore::MAX_PERMITS))),
            ..self
        }
    }

    fn policy(&self) -> Policy<'static> {
        Policy {
            max_bundle_age: self.inner.config.max_bundle_age,
            min_witnesses: self.inner.config.min_witnesses,
            issuers: self.issuers,
            ..Policy::default()
        }
    }

    /// The issuers this service accepts.
    pub fn issuer_policy(&self) -> IssuerPolicy {
        self.issuers
    }

    /// The bundle held now; a refresh meanwhile does not change it for the caller.
    fn held(&self) -> Result<Arc<Trust>, ApiError> {
        self.inner.trust.load_full().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_bundle",
                "아직 신뢰 번들을 불러오지 못했습니다. 레지스트리에서 갱신되면 검증할 수 있습니다 / \
                 no trust bundle loaded yet: verification starts once a refresh from the registry \
                 succeeds",
            )
        })
    }

    /// Runs `work` off the async threads, holding one check permit until it ends — even if
    /// the request is dropped meanwhile, since the thread cannot be stopped. With every permit
    /// taken: 503 at once, not a queue.
    async fn off_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce(&VerifierService) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit: OwnedSemaphorePermit =
            self.checks.clone().try_acquire_owned().map_err(|_| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "검증 요청이 너무 많습니다. 잠시 후 다시 시도하세요 / \
                     too many verifications in progress; try again shortly",
                )
            })?;
        let service = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&service)
        })
        .await
        .map_err(|e| ApiError::internal("verification task", e))?
    }

    /// Verdicts given so far: (accepted, rejected).
    pub fn verdict_counts(&self) -> (u64, u64) {
        let [accepted, rejected] = &self.inner.verdicts;
        (
            accepted.load(Ordering::Relaxed),
            rejected.load(Ordering::Relaxed),
        )
    }

    fn count(&self, verdict: &Verdict) {
        let slot = usize::from(!verdict.is_accepted());
        self.inner.verdicts[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// Verifies an upload as `POST /api/verify` does: [`verify`](Self::verify) off the async
    /// threads, and a verdict rejected only for `status_unavailable` judged once more after
    /// [catching up](Self::catch_up) with the registry.
    pub async fn verify_upload(
        &self,
        input: Bytes,
        challenge: Option<String>,
    ) -> Result<Verdict, ApiError> {
        let judge = |input: Bytes, challenge: Option<String>| {
            self.off_thread(move |service| {
                service.verify_uncounted(&input, challenge.as_deref(), now())
            })
        };
        let mut verdict = judge(input.clone(), challenge.clone()).await?;
        if let Some(judged_at) = awaits_newer_bundle(&verdict)
            && self.catch_up(judged_at).await
        {
            verdict = judge(input, challenge).await?;
        }
        self.count(&verdict);
        Ok(verdict)
    }

    /// Verifies `input`, in challenge mode when `challenge` names an open challenge. An
    /// accepted answer closes the challenge, so it cannot be replayed. CPU work: call it off the
    /// async threads. Judges by the bundle held, without asking the registry for a newer one
    /// (see [`verify_upload`](Self::verify_upload)). Fails only without a trust bundle.
    pub fn verify(
        &self,
        input: &[u8],
        challenge: Option<&str>,
        now: i64,
    ) -> Result<Verdict, ApiError> {
        let verdict = self.verify_uncounted(input, challenge, now)?;
        self.count(&verdict);
        Ok(verdict)
    }

    fn verify_uncounted(
        &self,
        input: &[u8],
        challenge: Option<&str>,
        now: i64,
    ) -> Result<Verdict, ApiError> {
        let trust = self.held()?;
        let verifier = Verifier {
            trust: &trust,
            catalog: Catalog::builtin(),
        };
        let Some(id) = challenge else {
            return Ok(verifier.verify(input, &self.policy(), now));
        };
        // Copied out under the lock and judged without it; closed below only by an accepted
        // answer, and of two answers judged at once only the one that closes it is accepted.
        let open = lock(&self.inner.challenges)
            .get(id)
            .filter(|open| open.expires > now)
            .map(|open| open.value.clone());
        let Some(request) = open else {
            return Ok(challenge_closed(&trust, now));
        };
        let policy = Policy {
            challenge: Some(request.challenge()),
            ..self.policy()
        };
        let verdict = verifier.verify(input, &policy, now);
        if verdict.is_accepted() && lock(&self.inner.challenges).remove(id).is_none() {
            return Ok(challenge_closed(&trust, now));
        }
        Ok(verdict)
    }

    /// Opens a challenge: its id and the QR text to show.
    pub fn challenge(&self, now: i64) -> Result<(String, ChallengeRequest), ApiError> {
        let request = ChallengeRequest::new(&self.inner.config.audience)
            .map_err(|e| ApiError::internal("challenge", e))?;
        let id = random_id()?;
        insert(&self.inner.challenges, id.clone(), request.clone(), now);
        Ok((id, request))
    }

    /// Fetches the registry's delta since the bundle held (or, with none yet, its whole bundle)
    /// and swaps in the result. Verifications meanwhile judge by the bundle held; on any failure
    /// it stays.
    pub async fn refresh(&self) -> Result<TrustView, ApiError> {
        let registry = self.inner.config.registry_url.as_deref().ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "no_registry",
                "레지스트리가 설정되지 않아 이 검증기의 번들은 직접 교체해야 합니다 / no registry \
                 configured: this verifier's bundle is updated by hand",
            )
        })?;
        // Serialized so that each delta applies to the bundle it was asked against.
        let _one_at_a_time = self.inner.refreshing.lock().await;
        let held = self.inner.trust.load_full();
        let since = held.as_ref().map(|trust| trust.size());
        let mut request = self
            .inner
            .http
            .get(format!("{}/bundle", registry.trim_end_matches('/')))
            .timeout(REGISTRY_TIMEOUT);
        if let Some(since) = since {
            request = request.query(&[("since", since)]);
        }
        let bad_gateway = |e: reqwest::Error| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "registry_unavailable",
                format!("레지스트리에서 번들을 받지 못했습니다 / registry: {e}"),
            )
        };
        let bundle = request
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(bad_gateway)?
            .text()
            .await
            .map_err(bad_gateway)?;
        let anchor = self.inner.anchor.clone();
        // Proofs, signatures and status lists: CPU work, on a copy, off the async threads.
        let next = tokio::task::spawn_blocking(move || match held {
            Some(held) => {
                let mut next = Trust::clone(&held);
                next.update(&bundle).map(|()| next)
            }
            None => Trust::load(&bundle, anchor),
        })
        .await
        .map_err(|e| ApiError::internal("refresh task", e))?
        .map_err(|e| match e {
            BundleError::Fork => ApiError::new(
                StatusCode::CONFLICT,
                "fork",
                "레지스트리의 새 체크포인트가 가진 것의 연장이 아닙니다(포크). 가진 번들을 유지합니다 / \
                 the registry's new checkpoint is not an extension of the one held: a fork; the \
                 bundle held is kept",
            ),
            other => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "bundle_invalid",
                format!("레지스트리의 번들이 검증되지 않습니다 / the registry's bundle: {other}"),
            ),
        })?;
        if since != Some(next.size()) {
            tracing::info!(size = next.size(), "trust bundle refreshed");
        }
        let view = TrustView::of(&next, now(), self.inner.config.max_bundle_age, self.issuers);
        self.inner.trust.store(Some(Arc::new(next)));
        Ok(view)
    }

    /// Brings the bundle held past checkpoint size `judged_at`, for a verification judged by
    /// that bundle that a newer one may judge otherwise. At most one such refresh starts per
    /// [`CATCH_UP_INTERVAL`], however many verifications ask; the others share it, and one that
    /// finds the last refresh too recent to have seen its list waits for the interval to pass
    /// and asks once more. Each waits at most [`CATCH_UP_WAIT`] for a refresh; a refresh keeps
    /// running if its verification stops waiting. Returns whether a bundle newer than
    /// `judged_at` is now held. Without a registry: `false` at once.
    pub async fn catch_up(&self, judged_at: u64) -> bool {
        if self.inner.config.registry_url.is_none() {
            return false;
        }
        let newer = || {
            self.inner
                .trust
                .load()
                .as_ref()
                .is_some_and(|trust| trust.size() > judged_at)
        };
        for first in [true, false] {
            if newer() {
                return true;
            }
            let (mut ended, too_recent) = self.shared_refresh();
            // Ended, failed or still running past the wait: the bundle held is judged by.
            let _ = tokio::time::timeout(CATCH_UP_WAIT, ended.wait_for(|&ended| ended)).await;
            match too_recent {
                // That refresh may have asked before this credential's list was published.
                Some(remaining) if first && !newer() => tokio::time::sleep(remaining).await,
                _ => break,
            }
        }
        newer()
    }

    /// The refresh to wait for: a new one, unless one started less than [`CATCH_UP_INTERVAL`]
    /// ago — then that one, and how long until another may start.
    fn shared_refresh(&self) -> (watch::Receiver<bool>, Option<Duration>) {
        let mut last = lock(&self.inner.catch_up);
        if let Some(last) = last.as_ref() {
            let elapsed = last.started.elapsed();
            if elapsed < CATCH_UP_INTERVAL {
                return (last.ended.clone(), Some(CATCH_UP_INTERVAL - elapsed));
            }
        }
        let (tx, ended) = watch::channel(false);
        *last = Some(CatchUp {
            started: Instant::now(),
            ended: ended.clone(),
        });
        let service = self.clone();
        tokio::spawn(async move {
            match service.refresh().await {
                Ok(_) => tracing::info!("trust bundle refreshed for a status list it lacked"),
                Err(e) => tracing::warn!(
                    code = e.code(),
                    "refresh for a status list the bundle lacked failed; keeping the bundle held"
                ),
            }
            let _ = tx.send(true);
        });
        (ended, None)
    }

    /// Opens an OpenID4VP request for a credential of `type_id` with `claims`.
    pub fn online_request(
        &self,
        type_id: &str,
        claims: &[String],
        now: i64,
    ) -> Result<AuthorizationRequest, ApiError> {
        let catalog = Catalog::builtin();
        let ty = catalog.get(type_id).map_err(|_| {
            let known: Vec<&str> = catalog.iter().map(|ty| ty.id()).collect();
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_type",
                format!(
                    "알 수 없는 자격증명 종류입니다 / unknown credential type; known: {}",
                    known.join(", ")
                ),
            )
        })?;
        let query = DcqlQuery {
            credentials: vec![CredentialQuery {
                id: "credential".into(),
                format: "dc+sd-jwt".into(),
                meta: Some(dojang_core::oid4vp::CredentialQueryMeta {
                    vct_values: Some(vec![ty.descriptor().vct.clone()]),
                }),
                claims: (!claims.is_empty()).then(|| {
                    claims
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
    ) -> Result<Vec<VerdictView>, ApiError> {
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
        let views: Vec<VerdictView> = verdicts.iter().cloned().map(Into::into).collect();
        match lock(&self.inner.requests).get_mut(state.as_str()) {
            Some(open) if open.value.verdicts.is_none() => {
                open.value.verdicts = Some(views.clone());
            }
            _ => return Err(state_closed()),
        }
        verdicts.iter().for_each(|verdict| self.count(verdict));
        Ok(views)
    }

    /// The verdicts on an answer to the open request `state`, not recorded. CPU work.
    fn judge_answer(
        &self,
        state: &str,
        vp_token: &str,
        now: i64,
    ) -> Result<Vec<Verdict>, ApiError> {
        let request = lock(&self.inner.requests)
            .get(state)
            .filter(|open| open.expires > now && open.value.verdicts.is_none())
            .map(|open| open.value.request.clone())
            .ok_or_else(state_closed)?;
        // serde's messages quote what they could not read: only the fact is told.
        let tokens: HashMap<String, Vec<String>> =
            serde_json::from_str(vp_token).map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_vp_token",
                    "vp_token을 읽을 수 없습니다: 질의 id마다 프레젠테이션 배열을 담은 JSON 객체여야 \
                     합니다 / vp_token is not a JSON object mapping each query id to an array of \
                     presentations",
                )
            })?;
        let presentations = tokens
            .get("credential")
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_vp_token",
                    "vp_token이 요청한 질의에 답하지 않습니다 / vp_token answers no query",
                )
            })?;
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

    /// The verdicts an open request received, if any yet.
    pub fn online_result(&self, state: &str) -> Option<Option<Vec<VerdictView>>> {
        lock(&self.inner.requests)
            .get(state)
            .map(|open| open.value.verdicts.clone())
    }

    /// The trust bundle's freshness and contents; 503 while none is loaded.
    pub fn trust(&self, now: i64) -> Result<TrustView, ApiError> {
        let trust = self.held()?;
        Ok(TrustView::of(
            &trust,
            now,
            self.inner.config.max_bundle_age,
            self.issuers,
        ))
    }
}

/// The checkpoint size a verdict was judged at, when its only blocking reasons are
/// `status_unavailable` — the one failure a newer bundle may turn around (a status list
/// published after the bundle).
fn awaits_newer_bundle(verdict: &Verdict) -> Option<u64> {
    let blocking = verdict.blocking_codes();
    let only_status = !blocking.is_empty()
        && blocking
            .iter()
            .all(|&code| code == ReasonCode::StatusUnavailable);
    only_status
        .then(|| verdict.freshness.as_ref().map(|f| f.checkpoint_size))
        .flatten()
}

fn state_closed() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "unknown_state",
        "알 수 없거나 만료되었거나 이미 답한 요청입니다 / unknown, expired or answered state",
    )
}

/// The answer to a challenge that is not (or no longer) open.
fn challenge_closed(trust: &Trust, now: i64) -> Verdict {
    let mut verdict = Verdict::rejected(
        now,
        ReasonCode::ChallengeMismatch,
        "this counter's challenge has expired or was already answered; show a new one",
    );
    verdict.freshness = Some(trust.freshness(now));
    verdict
}

/// What the verifier trusts, as the page shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrustView {
    /// Freshness.
    #[serde(flatten)]
    pub freshness: dojang_core::verdict::Freshness,
    /// The maximum age accepted, seconds.
    pub max_age_secs: Option<i64>,
    /// Accredited issuers: name and types.
    pub issuers: Vec<IssuerView>,
    /// Which issuers are accepted: `accredited` or `also-key-dids` (see [`IssuerPolicy`]).
    pub issuer_policy: String,
    /// The same, for a person (Korean, then English).
    pub issuer_policy_in_words: String,
}

/// An accredited issuer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuerView {
    /// Its DID.
    pub did: String,
    /// Its accredited name.
    pub name: String,
    /// The types it may issue.
    pub types: Vec<String>,
}

impl TrustView {
    fn of(trust: &Trust, now: i64, max_age_secs: Option<i64>, issuers: IssuerPolicy) -> Self {
        TrustView {
            freshness: trust.freshness(now),
            max_age_secs,
            issuers: trust
                .state()
                .accredited_issuers()
                .into_iter()
                .map(|(did, name, types)| IssuerView {
                    did: did.to_string(),
                    name,
                    types,
                })
                .collect(),
            issuer_policy: issuers.as_str().to_owned(),
            issuer_policy_in_words: issuers.describe().to_owned(),
        }
    }
}

/// The router.
pub fn app(service: VerifierService) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/openapi.json", get(openapi))
        .route(
            "/api/verify",
            post(verify).layer(DefaultBodyLimit::max(MAX_INPUT_LEN)),
        )
        .route("/api/challenges", post(new_challenge))
        .route("/api/trust", get(trust))
        .route("/api/trust/refresh", post(refresh))
        .route("/api/oid4vp/requests", post(new_request))
        .route("/api/oid4vp/requests/{state}", get(request_result))
        .route("/api/oid4vp/response", post(response))
        .with_state(service)
}

/// The employer page (relative URLs: serve it at the router's root, with or without a
/// trailing slash).
pub async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_SECURITY_POLICY, CSP)],
        Html(include_str!("page/verifier.html")),
    )
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("page/openapi.json"),
    )
}

/// Everything the page needs is inline or same-origin; the camera is allowed, nothing else.
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
                   style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                   media-src 'self' blob:; connect-src 'self'";

#[derive(Deserialize)]
struct VerifyQuery {
    challenge: Option<String>,
}

async fn verify(
    State(service): State<VerifierService>,
    query: Result<Query<VerifyQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<VerdictView>, ApiError> {
    let Query(query) = query.map_err(|r| unreadable(r.status(), "?challenge=<id>"))?;
    let body = body.map_err(|r| unreadable(r.status(), "the presented credential"))?;
    let verdict = service.verify_upload(body, query.challenge).await?;
    tracing::info!(decision = ?verdict.decision, codes = ?verdict.blocking_codes(), "verified");
    Ok(Json(verdict.into()))
}

#[derive(Serialize)]
struct ChallengeView {
    id: String,
    text: String,
    svg: String,
    expires_in: i64,
}

async fn new_challenge(State(service): State<VerifierService>) -> Result<Response, ApiError> {
    let (id, request) = service.challenge(now())?;
    let text = request.to_qr_text();
    let svg = dojang_core::qr::to_svg(&text).map_err(|e| ApiError::internal("challenge QR", e))?;
    Ok(Json(ChallengeView {
        id,
        text,
        svg,
        expires_in: OPEN_FOR,
    })
    .into_response())
}

async fn trust(State(service): State<VerifierService>) -> Result<Json<TrustView>, ApiError> {
    Ok(Json(service.trust(now())?))
}

async fn refresh(State(service): State<VerifierService>) -> Result<Json<TrustView>, ApiError> {
    Ok(Json(service.refresh().await?))
}

#[derive(Deserialize)]
struct NewRequest {
    #[serde(rename = "type")]
    type_id: String,
    #[serde(default)]
    claims: Vec<String>,
}

#[derive(Serialize)]
struct RequestView {
    state: String,
    uri: String,
    svg: String,
}

async fn new_request(
    State(service): State<VerifierService>,
    body: Result<Json<NewRequest>, JsonRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let Json(body) = body.map_err(|r| {
        unreadable(
            r.status(),
            r#"a JSON object {"type": "<type id>", "claims": ["<claim>", …]}"#,
        )
    })?;
    let request = service.online_request(&body.type_id, &body.claims, now())?;
    let uri = request.to_uri();
    let svg = dojang_core::qr::to_svg(&uri).map_err(|e| ApiError::internal("request QR", e))?;
    Ok(Json(RequestView {
        state: request.state.unwrap_or_default(),
        uri,
        svg,
    }))
}

async fn request_result(
    State(service): State<VerifierService>,
    state: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(state) = state.map_err(|r| unreadable(r.status(), "a request's state"))?;
    match service.online_result(&state) {
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_request",
            "알 수 없거나 만료된 요청입니다 / unknown or expired request",
        )),
        Some(None) => Ok(Json(serde_json::json!({"status": "pending"})).into_response()),
        Some(Some(verdicts)) => Ok(Json(
            serde_json::json!({"status": "answered", "verdicts": verdicts}),
        )
        .into_response()),
    }
}

#[derive(Deserialize)]
struct DirectPost {
    vp_token: String,
    state: String,
}

async fn response(
    State(service): State<VerifierService>,
    form: Result<Form<DirectPost>, FormRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Form(form) = form.map_err(|r| {
        unreadable(
            r.status(),
            "an application/x-www-form-urlencoded body with vp_token and state",
        )
    })?;
    let verdicts = service.online_response(form.state, form.vp_token).await?;
    let accepted = verdicts.iter().all(|v| v.verdict.is_accepted());
    tracing::info!(accepted, "OpenID4VP answer judged");
    Ok(Json(serde_json::json!({})))
}

/// An API error: a status, a stable code and a message for people, as
/// `{"error": "<code>", "message": "…"}`. The message is fixed text (with, at most, what the
/// registry answered): never a piece of the request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A failure of ours, logged (never with request data); the client is told only that.
    fn internal(what: &'static str, error: impl std::fmt::Display) -> Self {
        tracing::error!(what, %error, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "내부 오류 / internal error",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code (`no_bundle`, `busy`, `bad_request`, `too_large`, `unknown_state`,
    /// `invalid_vp_token`, `unknown_type`, `unknown_request`, `no_registry`,
    /// `registry_unavailable`, `bundle_invalid`, `fork`, `internal`).
    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// A request an extractor could not read. axum's own rejection text quotes what it failed on,
/// so only its status is kept; the message says what was `expected`.
fn unreadable(status: StatusCode, expected: &'static str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "too_large",
            "요청이 너무 큽니다 / the request body is too large",
        );
    }
    let status = if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError::new(
        status,
        "bad_request",
        format!("요청을 읽을 수 없습니다 / the request could not be read; expected {expected}"),
    )
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn random_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|e| ApiError::internal("random", e))?;
    Ok(dojang_core::b64::encode(bytes))
}

/// Adds an open item, dropping expired ones and, past [`MAX_OPEN`], the oldest.
fn insert<T>(map: &Mutex<HashMap<String, Open<T>>>, id: String, value: T, now: i64) {
    let mut map = lock(map);
    map.retain(|_, open| open.expires > now);
    if map.len() >= MAX_OPEN
        && let Some(oldest) = map
            .iter()
            .min_by_key(|(_, open)| open.expires)
            .map(|(id, _)| id.clone())
    {
        map.remove(&oldest);
    }
    map.insert(
        id,
        Open {
            value,
            expires: now + OPEN_FOR,
        },
    );
}

// A panic while holding these locks leaves plain data behind, still consistent: recover it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
