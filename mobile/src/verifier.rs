//! The counter's verifier on a phone or tablet: a trust bundle and its pinned anchor from
//! bytes, deltas applied with their consistency proofs, verdicts with no network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use dojang_core::Lang;
use dojang_core::clock::unix_now;
use dojang_core::compact::ChallengeRequest;
use dojang_core::verdict::{self, ReasonKind, Verdict};
use dojang_ledger::bundle::TrustAnchor;
use dojang_ledger::client::RegistryClient;
use dojang_ledger::state::are_type_ids;
use dojang_schemas::Catalog;
use dojang_verifier::{Policy, Trust, Verifier};

use crate::display::{self, ClaimView};
use crate::error::DojangError;
use crate::on_runtime;

/// Accept or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Decision {
    /// Every required check passed.
    Accepted,
    /// A check failed, or a required check could not be made.
    Rejected,
}

/// One reason behind a verdict.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReasonRecord {
    /// The stable code (`revoked`, `signature_invalid`, …).
    pub code: String,
    /// For people, in Korean.
    pub message_ko: String,
    /// For people, in English.
    pub message_en: String,
    /// Whether it rejects the credential.
    pub blocking: bool,
    /// A check that could not be made (rather than one that failed).
    pub unchecked: bool,
    /// The technical detail (never a piece of the presentation).
    pub detail: String,
}

/// How fresh the trust data used was.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FreshnessRecord {
    /// The bundle's age when judging, seconds.
    pub bundle_age_secs: i64,
    /// The log size its checkpoint commits to.
    pub checkpoint_size: u64,
    /// Witness cosignatures on it.
    pub witnesses: u32,
}

/// A verdict as an app shows it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerdictRecord {
    /// Accepted or rejected.
    pub decision: Decision,
    /// Every reason, with its stable code and messages.
    pub reasons: Vec<ReasonRecord>,
    /// The type's id (`citizen-card`).
    pub type_id: Option<String>,
    /// The type's name in Korean.
    pub type_name_ko: Option<String>,
    /// The type's name in English.
    pub type_name_en: Option<String>,
    /// The issuer's DID.
    pub issuer_id: Option<String>,
    /// The issuer's accredited name in Korean.
    pub issuer_name_ko: Option<String>,
    /// The issuer's accredited name in English.
    pub issuer_name_en: Option<String>,
    /// The disclosed claims, labelled.
    pub claims: Vec<ClaimView>,
    /// The trust data's freshness.
    pub freshness: Option<FreshnessRecord>,
}

/// A challenge to show as a QR code; the citizen's answer is accepted once.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Challenge {
    /// Its id, for [`OfflineVerifier::verify_answer`].
    pub id: String,
    /// The QR code's text (`DJC1:…`).
    pub text: String,
}

/// Longest a challenge stays open (seconds).
const CHALLENGE_OPEN_FOR: i64 = 300;
/// Most challenges open at once; past that the oldest is dropped.
const MAX_OPEN_CHALLENGES: usize = 256;

/// An offline verifier: a trust bundle checked against its pinned anchor.
#[derive(uniffi::Object)]
pub struct OfflineVerifier {
    trust: RwLock<Trust>,
    audience: String,
    challenges: Mutex<HashMap<String, (ChallengeRequest, i64)>>,
}

#[uniffi::export]
impl OfflineVerifier {
    /// Loads `bundle` (the registry's `/bundle`) and checks every signature and proof in it
    /// against `anchor` (the pinned trust anchor's JSON, obtained out of band). `audience` names
    /// this counter in its challenges.
    #[uniffi::constructor]
    pub fn new(
        bundle: Vec<u8>,
        anchor: Vec<u8>,
        audience: String,
    ) -> Result<Arc<Self>, DojangError> {
        let anchor: TrustAnchor = serde_json::from_slice(&anchor).map_err(|_| {
            DojangError::invalid(
                "anchor_invalid",
                "신뢰 앵커를 읽을 수 없습니다 / The trust anchor cannot be read.",
            )
        })?;
        let trust = Trust::load(&text(bundle)?, anchor).map_err(bundle_invalid)?;
        Ok(Arc::new(OfflineVerifier {
            trust: RwLock::new(trust),
            audience,
            challenges: Mutex::default(),
        }))
    }

    /// Applies a delta (the registry's `/bundle?since=<size>`) after checking it extends the
    /// checkpoint held; on any failure nothing changes.
    pub fn apply_delta(&self, delta: Vec<u8>) -> Result<(), DojangError> {
        let delta = text(delta)?;
        let mut next = self.held().clone();
        next.update(&delta).map_err(bundle_invalid)?;
        *self
            .trust
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        Ok(())
    }

    /// Fetches the delta since the checkpoint held from the registry at `registry_url` and
    /// applies it. A counter that loaded the bundle of the types it checks (the registry's
    /// `/bundle?types=a,b`) passes the same `types`: the delta then carries only the status
    /// lists of those types' issuers, as the bundle did — for one type, about a quarter of a
    /// national day's delta. Without `types`, the whole delta.
    #[uniffi::method(default(types = None))]
    pub async fn refresh(
        self: Arc<Self>,
        registry_url: String,
        types: Option<Vec<String>>,
    ) -> Result<(), DojangError> {
        if types.as_deref().is_some_and(|types| !are_type_ids(types)) {
            return Err(DojangError::invalid(
                "types_invalid",
                "유형 ID는 1~32개, 각각 [a-z0-9_.:-] 1~64자여야 합니다 / types must be 1 to 32 \
                 type ids of 1 to 64 [a-z0-9_.:-] each",
            ));
        }
        let since = self.held().size();
        let delta = on_runtime(async move {
            RegistryClient::new(&registry_url)
                .bundle(Some(since), types.as_deref())
                .await
                .map_err(|e| {
                    crate::error::variant!(
                        Network,
                        "registry_unavailable",
                        &format!("레지스트리에서 번들을 받지 못했습니다 / The registry could not be reached: {e}")
                    )
                })
        })
        .await?;
        self.apply_delta(delta.into_bytes())
    }

    /// Verifies what the counter scanned: the QR code's text (`DJ1:…`), an SD-JWT VC or a
    /// JSON credential, in time-window mode.
    pub fn verify(&self, scanned: String) -> VerdictRecord {
        self.verify_at(scanned, unix_now())
    }

    /// [`verify`](Self::verify) at the time `now` (Unix seconds).
    pub fn verify_at(&self, scanned: String, now: i64) -> VerdictRecord {
        record(self.judge(scanned.as_bytes(), None, now))
    }

    /// Verifies a photo (PNG or JPEG) of the citizen's QR code.
    pub fn verify_image(&self, image: Vec<u8>) -> VerdictRecord {
        record(self.judge(&image, None, unix_now()))
    }

    /// Opens a challenge to show as a QR code.
    pub fn new_challenge(&self) -> Result<Challenge, DojangError> {
        let request = ChallengeRequest::new(&self.audience)
            .map_err(|e| DojangError::internal(format!("challenge: {e}")))?;
        let mut id = [0u8; 16];
        aws_lc_rs::rand::fill(&mut id)
            .map_err(|_| DojangError::internal("random generator failed".into()))?;
        let id = dojang_core::b64::encode(id);
        let now = unix_now();
        let mut open = self.challenges();
        open.retain(|_, (_, opened)| now - *opened < CHALLENGE_OPEN_FOR);
        if open.len() >= MAX_OPEN_CHALLENGES
            && let Some(oldest) = open
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone())
        {
            open.remove(&oldest);
        }
        let text = request.to_qr_text();
        open.insert(id.clone(), (request, now));
        Ok(Challenge { id, text })
    }

    /// Verifies the citizen's answer to the challenge `challenge_id`. An accepted answer
    /// closes the challenge: the same answer again is rejected (`challenge_mismatch`).
    pub fn verify_answer(&self, scanned: String, challenge_id: String) -> VerdictRecord {
        let now = unix_now();
        let open = self
            .challenges()
            .get(&challenge_id)
            .filter(|(_, opened)| now - *opened < CHALLENGE_OPEN_FOR)
            .map(|(request, _)| request.clone());
        let Some(request) = open else {
            return record(closed(now));
        };
        let verdict = self.judge(scanned.as_bytes(), Some(&request), now);
        // Of two answers judged at once, only the one that closes the challenge is accepted.
        if verdict.is_accepted() && self.challenges().remove(&challenge_id).is_none() {
            return record(closed(now));
        }
        record(verdict)
    }

    /// The trust data's freshness now.
    pub fn freshness(&self) -> FreshnessRecord {
        freshness(self.held().freshness(unix_now()))
    }
}

impl OfflineVerifier {
    fn held(&self) -> std::sync::RwLockReadGuard<'_, Trust> {
        self.trust
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn challenges(&self) -> std::sync::MutexGuard<'_, HashMap<String, (ChallengeRequest, i64)>> {
        self.challenges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn judge(&self, input: &[u8], challenge: Option<&ChallengeRequest>, now: i64) -> Verdict {
        let trust = self.held();
        let verifier = Verifier {
            trust: &trust,
            catalog: Catalog::builtin(),
        };
        let policy = Policy {
            challenge: challenge.map(ChallengeRequest::challenge),
            ..Policy::default()
        };
        verifier.verify(input, &policy, now)
    }
}

/// Verifies `scanned` `iterations` times in Rust, building each verdict's record as
/// [`OfflineVerifier::verify`] does, and returns the nanoseconds taken: the native baseline
/// for the SDK's overhead benchmark.
#[uniffi::export]
pub fn native_verify_loop(verifier: Arc<OfflineVerifier>, scanned: String, iterations: u32) -> u64 {
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(verifier.verify(std::hint::black_box(scanned.clone())));
    }
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn closed(now: i64) -> Verdict {
    Verdict::rejected(
        now,
        verdict::ReasonCode::ChallengeMismatch,
        "this counter's challenge has expired or was already answered; show a new one",
    )
}

fn record(verdict: Verdict) -> VerdictRecord {
    let ty = verdict
        .credential_type
        .as_deref()
        .and_then(|id| Catalog::builtin().get(id).ok());
    let (issuer_name_ko, issuer_name_en) = verdict
        .issuer
        .as_ref()
        .and_then(|i| i.name.as_deref())
        .map(display::both)
        .unzip();
    VerdictRecord {
        decision: if verdict.is_accepted() {
            Decision::Accepted
        } else {
            Decision::Rejected
        },
        reasons: verdict
            .reasons
            .iter()
            .map(|r| ReasonRecord {
                code: r.code.as_str().to_owned(),
                message_ko: r.code.message(Lang::Ko).to_owned(),
                message_en: r.code.message(Lang::En).to_owned(),
                blocking: r.blocking,
                unchecked: r.kind == ReasonKind::Unchecked,
                detail: r.detail.clone(),
            })
            .collect(),
        type_id: verdict.credential_type.clone(),
        type_name_ko: ty.map(|t| t.name_in(Lang::Ko).to_owned()),
        type_name_en: ty.map(|t| t.name_in(Lang::En).to_owned()),
        issuer_id: verdict.issuer.as_ref().map(|i| i.id.clone()),
        issuer_name_ko,
        issuer_name_en,
        claims: ty.map_or_else(Vec::new, |ty| {
            display::rows(ty, &verdict.disclosed_claims, &ty.choosable())
        }),
        freshness: verdict.freshness.map(freshness),
    }
}

fn freshness(f: verdict::Freshness) -> FreshnessRecord {
    FreshnessRecord {
        bundle_age_secs: f.bundle_age_secs,
        checkpoint_size: f.checkpoint_size,
        witnesses: f.witnesses,
    }
}

fn text(bytes: Vec<u8>) -> Result<String, DojangError> {
    String::from_utf8(bytes).map_err(|_| {
        DojangError::invalid(
            "bundle_invalid",
            "신뢰 번들이 텍스트가 아닙니다 / The trust bundle is not text.",
        )
    })
}

fn bundle_invalid(e: dojang_ledger::bundle::BundleError) -> DojangError {
    let message = format!(
        "신뢰 번들이 검증되지 않습니다. 가진 번들을 유지합니다 / The trust bundle does not verify; the one held is kept: {e}"
    );
    DojangError::invalid("bundle_invalid", &message)
}
