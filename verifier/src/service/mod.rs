//! What a counter runs, without its HTTP face: the trust bundle held and swapped on refresh,
//! verification of uploads, one-time challenges, OpenID4VP requests and their answers.
//! [`crate::http`] serves it; anything else (a test, another front end) may call it directly.
//!
//! # The registry
//!
//! The service reaches the registry through [`Ledger`]: over HTTP ([`RegistryClient`], from
//! [`VerifierConfig::registry_url`]) or, when both run in one process, the registry itself
//! ([`VerifierService::with_ledger`]). Without one, the bundle is replaced by hand.
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
//!   past that an upload is answered [`ServiceError::Busy`] at once rather than queued. The
//!   permit stays held until the work really ends, even if the client has gone: a blocking
//!   thread cannot be cancelled.
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
//! What is submitted may be a citizen's credential. A [`ServiceError`] carries a stable code and
//! a fixed message in Korean and English — never a piece of the request, not even a parser's
//! quotation of it — and so do the log lines; a verdict's reasons are cut of what they repeat
//! from the input (see [`Verifier::verify`]).

mod error;
mod online;
mod refresh;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use dojang_core::Lang;
use dojang_core::clock::unix_now as now;
use dojang_core::compact::ChallengeRequest;
use dojang_core::oid4vp::AuthorizationRequest;
use dojang_core::rate::PerClient;
use dojang_core::verdict::{ReasonCode, Verdict};
use dojang_ledger::api::Ledger;
use dojang_ledger::bundle::TrustAnchor;
use dojang_ledger::client::RegistryClient;
use dojang_schemas::{Catalog, ClaimRow};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use utoipa::ToSchema;

use crate::{IssuerPolicy, Policy, Trust, Verifier};

pub use error::ServiceError;

/// How long a challenge or an OpenID4VP request stays open, in seconds.
pub const OPEN_FOR: i64 = 300;
/// Open challenges and requests kept at most (older ones are dropped first).
const MAX_OPEN: usize = 10_000;
/// Challenges and OpenID4VP requests one client address may open a minute: a counter opens
/// one per citizen, and no client can push the others' open ones out of `MAX_OPEN` quickly.
pub const OPENS_PER_CLIENT_PER_MINUTE: u32 = 60;
/// Verifications running at once, per CPU, unless set with
/// [`VerifierService::with_max_concurrent_checks`].
pub const CHECKS_PER_CPU: usize = 2;
/// Uploads received or waiting per verification that may run at once: a body is read only
/// with a permit, so at most this many times the checks' number of bodies (each at most
/// [`crate::input::MAX_INPUT_LEN`]) are in memory.
pub const UPLOADS_PER_CHECK: usize = 2;
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
    /// The registry's API to refresh the trust bundle from, if any (see also
    /// [`VerifierService::with_ledger`]).
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
    /// Where refreshes come from; `None`: the bundle is replaced by hand.
    ledger: Option<Arc<dyn Ledger>>,
    /// One permit per verification running off the async threads.
    checks: Arc<Semaphore>,
    /// One permit per upload being received or judged ([`UPLOADS_PER_CHECK`] per check), so
    /// that uploads waiting for a check hold at most that many bodies in memory.
    uploads: Arc<Semaphore>,
    /// Which issuers are accepted.
    issuers: IssuerPolicy,
    /// The credential types whose status lists the bundle carries; `None`: every type.
    types: Option<Arc<[String]>>,
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
    /// When the open refresh endpoint last started a refresh; held while one is due or runs.
    last_asked: tokio::sync::Mutex<Option<Instant>>,
    /// Who opens challenges and requests, and how often.
    openers: PerClient,
    challenges: Mutex<HashMap<String, Open<ChallengeRequest>>>,
    requests: Mutex<HashMap<String, Open<OnlineRequest>>>,
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
    verdicts: Option<Vec<Verdict>>,
}

/// A verdict as people read it: its reasons in words, the type's name and the disclosed claims
/// as labelled rows, in the reader's language.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerdictView {
    /// The verdict: `decision`, `reasons` (each with `code`, `kind`, `blocking`, `detail`),
    /// `credential_type`, `issuer`, `disclosed_claims`, `freshness`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub verdict: Verdict,
    /// Each reason, for a person: its message from the catalog, then its detail.
    pub reasons_in_words: Vec<String>,
    /// The credential type's name, when the type is known.
    pub type_name: Option<String>,
    /// The disclosed claims as rows: `path`, `label`, `value` (a scalar), `kind` (`text`,
    /// `date`, `datetime`, `boolean`, `number`).
    #[schema(value_type = Vec<Object>)]
    pub claims: Vec<ClaimRow>,
}

impl VerdictView {
    /// `verdict` for a reader of `lang`; with none, every message in both languages and the
    /// names in Korean.
    pub fn new(mut verdict: Verdict, lang: Option<Lang>) -> Self {
        let reasons_in_words = verdict
            .reasons
            .iter()
            .map(|r| match lang {
                // Details are English unless written in both: a Korean reader is not shown
                // English ones.
                Some(Lang::Ko) if !r.detail.contains(" / ") => r.code.message(Lang::Ko).to_owned(),
                Some(lang) => format!("{} ({})", r.code.message(lang), lang.pick(&r.detail)),
                None => format!(
                    "{} / {} ({})",
                    r.code.message(Lang::Ko),
                    r.code.message(Lang::En),
                    r.detail
                ),
            })
            .collect();
        if let (Some(lang), Some(name)) =
            (lang, verdict.issuer.as_mut().and_then(|i| i.name.as_mut()))
        {
            *name = lang.pick(name).to_owned();
        }
        let ty = verdict
            .credential_type
            .as_deref()
            .and_then(|id| Catalog::builtin().get(id).ok());
        let type_name = ty.map(|ty| match lang {
            Some(lang) => ty.name_in(lang).to_owned(),
            None => format!("{} / {}", ty.name_in(Lang::Ko), ty.name_in(Lang::En)),
        });
        let shown_in = lang.unwrap_or_default();
        VerdictView {
            reasons_in_words,
            type_name,
            claims: ty.map_or_else(Vec::new, |ty| ty.rows(&verdict.disclosed_claims, shown_in)),
            verdict,
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

    /// A service with no bundle yet: it answers verifications with [`ServiceError::NoBundle`]
    /// until a [`refresh`](Self::refresh) loads one from the registry, checked against `anchor`.
    pub fn without_trust(config: VerifierConfig, anchor: TrustAnchor) -> Self {
        Self::build(config, anchor, None)
    }

    fn build(config: VerifierConfig, anchor: TrustAnchor, trust: Option<Trust>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let ledger = config
            .registry_url
            .as_deref()
            .map(|url| Arc::new(RegistryClient::new(url)) as Arc<dyn Ledger>);
        VerifierService {
            inner: Arc::new(Inner {
                config,
                anchor,
                trust: ArcSwapOption::new(trust.map(Arc::new)),
                refreshing: tokio::sync::Mutex::default(),
                catch_up: Mutex::default(),
                last_asked: tokio::sync::Mutex::default(),
                openers: PerClient::new(OPENS_PER_CLIENT_PER_MINUTE),
                challenges: Mutex::default(),
                requests: Mutex::default(),
                verdicts: Default::default(),
            }),
            ledger,
            checks: Arc::new(Semaphore::new(cpus * CHECKS_PER_CPU)),
            uploads: Arc::new(Semaphore::new(cpus * CHECKS_PER_CPU * UPLOADS_PER_CHECK)),
            issuers: IssuerPolicy::default(),
            types: None,
        }
    }

    /// Refreshes from `ledger` instead of [`VerifierConfig::registry_url`]: the registry in the
    /// same process, called as a library rather than over a loopback port.
    #[must_use]
    pub fn with_ledger(self, ledger: Arc<dyn Ledger>) -> Self {
        VerifierService {
            ledger: Some(ledger),
            ..self
        }
    }

    /// Accepts issuers by `issuers` (default: [`IssuerPolicy::Accredited`]).
    #[must_use]
    pub fn with_issuer_policy(self, issuers: IssuerPolicy) -> Self {
        VerifierService { issuers, ..self }
    }

    /// Refreshes a bundle carrying only the status lists of issuers accredited for `types`
    /// (`GET /bundle?types=`): a verifier that checks a few credential types holds a fraction of
    /// the national lists. A credential of another type is never found valid: its status is
    /// unknown to this verifier. Every DID, accreditation and certificate is still carried.
    #[must_use]
    pub fn checking_types(self, types: Vec<String>) -> Self {
        VerifierService {
            types: Some(types.into()),
            ..self
        }
    }

    /// At most `limit` verifications at once (default: [`CHECKS_PER_CPU`] per CPU), and
    /// [`UPLOADS_PER_CHECK`] times as many uploads received meanwhile; the next ones are
    /// answered [`ServiceError::Busy`] until one ends.
    #[must_use]
    pub fn with_max_concurrent_checks(self, limit: usize) -> Self {
        let limit = limit.min(Semaphore::MAX_PERMITS / UPLOADS_PER_CHECK);
        VerifierService {
            checks: Arc::new(Semaphore::new(limit)),
            uploads: Arc::new(Semaphore::new(limit * UPLOADS_PER_CHECK)),
            ..self
        }
    }

    /// Whether `client` may open another challenge or request now (see
    /// [`OPENS_PER_CLIENT_PER_MINUTE`]).
    pub(crate) fn may_open(&self, client: IpAddr) -> Result<(), ServiceError> {
        self.inner
            .openers
            .take(client, Instant::now())
            .map_err(|_| ServiceError::TooManyRequests)
    }

    /// A permit to receive an upload, to hold until it is judged; [`ServiceError::Busy`] when
    /// every one is taken.
    pub(crate) fn upload_permit(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        self.uploads
            .clone()
            .try_acquire_owned()
            .map_err(|_| ServiceError::Busy)
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
    fn held(&self) -> Result<Arc<Trust>, ServiceError> {
        self.inner.trust.load_full().ok_or(ServiceError::NoBundle)
    }

    /// Runs `work` off the async threads, holding one check permit until it ends — even if
    /// the request is dropped meanwhile, since the thread cannot be stopped. With every permit
    /// taken: [`ServiceError::Busy`] at once, not a queue.
    async fn off_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce(&VerifierService) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let permit: OwnedSemaphorePermit = self
            .checks
            .clone()
            .try_acquire_owned()
            .map_err(|_| ServiceError::Busy)?;
        let service = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&service)
        })
        .await
        .map_err(|e| ServiceError::internal("verification task", e))?
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
    /// [catching up](Self::catch_up) with the registry. `input` is cloned for that second
    /// judgement: give a cheap clone (`Bytes`, `Arc<[u8]>`).
    pub async fn verify_upload<B>(
        &self,
        input: B,
        challenge: Option<String>,
    ) -> Result<Verdict, ServiceError>
    where
        B: AsRef<[u8]> + Clone + Send + 'static,
    {
        let judge = |input: B, challenge: Option<String>| {
            self.off_thread(move |service| {
                service.verify_uncounted(input.as_ref(), challenge.as_deref(), now())
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
    ) -> Result<Verdict, ServiceError> {
        let verdict = self.verify_uncounted(input, challenge, now)?;
        self.count(&verdict);
        Ok(verdict)
    }

    fn verify_uncounted(
        &self,
        input: &[u8],
        challenge: Option<&str>,
        now: i64,
    ) -> Result<Verdict, ServiceError> {
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
    pub fn challenge(&self, now: i64) -> Result<(String, ChallengeRequest), ServiceError> {
        let request = ChallengeRequest::new(&self.inner.config.audience)
            .map_err(|e| ServiceError::internal("challenge", e))?;
        let id = random_id()?;
        insert(&self.inner.challenges, id.clone(), request.clone(), now);
        Ok((id, request))
    }

    /// The trust bundle's freshness and contents; [`ServiceError::NoBundle`] while none is
    /// loaded.
    pub fn trust(&self, now: i64) -> Result<TrustView, ServiceError> {
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrustView {
    /// Freshness: `bundle_issued_at`, `bundle_age_secs`, `checkpoint_size`, `witnesses`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

fn random_id() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|e| ServiceError::internal("random", e))?;
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
