//! Credential status: every credential's random index in one of its issuer's 2-bit Token
//! Status Lists, the lists' signed versions published to the registry, and revocation,
//! suspension and unsuspension.
//!
//! A change locks the list's row, re-checks the credential's status under that lock, bumps
//! the version, and publishes the new list before committing: a refused publication changes
//! nothing. When the registry is ahead — it committed a publication whose answer never came
//! back — its list is adopted (a revocation on either side stands) and the change made on top
//! of it, so a revocation is never undone by a later change.

use std::collections::{BTreeMap, HashMap, HashSet};

use dojang_core::status::IndexAllocator;
use dojang_core::status::token::{
    self as tsl, StatusListTokenClaims, TokenStatus, TokenStatusList,
};
use dojang_ledger::entry::{Entry, Operation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use dojang_core::{Lang, b64};

use super::{AdminError, Hosted, InternalError, IssuerService, Operator, SigningKey, new_id};
use crate::db::{CredentialRow, ListRow, StatusTx, StoreError};
use crate::ledger::LedgerError;

/// A credential's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Valid.
    Valid,
    /// Revoked for good.
    Revoked,
    /// Suspended.
    Suspended,
}

impl CredentialStatus {
    /// The text stored for it (as it is serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Valid => "valid",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Suspended => "suspended",
        }
    }

    /// The status as a clerk reads it.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            CredentialStatus::Valid => lang.choose("유효", "Valid"),
            CredentialStatus::Revoked => lang.choose("폐지됨", "Revoked"),
            CredentialStatus::Suspended => lang.choose("정지됨", "Suspended"),
        }
    }

    /// The status stored as `text`.
    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "valid" => Ok(CredentialStatus::Valid),
            "revoked" => Ok(CredentialStatus::Revoked),
            "suspended" => Ok(CredentialStatus::Suspended),
            _ => Err(StoreError::Corrupt("credential status")),
        }
    }

    fn token_status(self) -> TokenStatus {
        match self {
            CredentialStatus::Valid => TokenStatus::Valid,
            CredentialStatus::Revoked => TokenStatus::Invalid,
            CredentialStatus::Suspended => TokenStatus::Suspended,
        }
    }
}

/// What an issuer's last `status.root` covered: each list's version, and the digests of the
/// versions seen (so a commitment reads back only the lists that changed).
#[derive(Debug, Default)]
pub(super) struct Committed {
    versions: BTreeMap<String, u64>,
    digests: HashMap<String, (u64, dojang_ledger::lists::Digest)>,
    root_version: u64,
}

/// A status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    /// Valid or suspended → revoked.
    Revoke,
    /// Valid → suspended.
    Suspend,
    /// Suspended → valid.
    Unsuspend,
}

impl StatusAction {
    /// The status this action leads to from `current`, if it may be taken from there.
    fn from(self, current: CredentialStatus) -> Option<CredentialStatus> {
        match (self, current) {
            (StatusAction::Revoke, CredentialStatus::Valid | CredentialStatus::Suspended) => {
                Some(CredentialStatus::Revoked)
            }
            (StatusAction::Suspend, CredentialStatus::Valid) => Some(CredentialStatus::Suspended),
            (StatusAction::Unsuspend, CredentialStatus::Suspended) => Some(CredentialStatus::Valid),
            _ => None,
        }
    }

    /// The status this action leads to.
    fn goal(self) -> CredentialStatus {
        match self {
            StatusAction::Revoke => CredentialStatus::Revoked,
            StatusAction::Suspend => CredentialStatus::Suspended,
            StatusAction::Unsuspend => CredentialStatus::Valid,
        }
    }

    /// The audit trail's name for this action, once taken.
    fn audited(self) -> &'static str {
        match self {
            StatusAction::Revoke => "revoked",
            StatusAction::Suspend => "suspended",
            StatusAction::Unsuspend => "unsuspended",
        }
    }
}

/// The refusal of `action` on a credential that is `status`.
fn cannot(action: StatusAction, status: CredentialStatus) -> AdminError {
    AdminError::Conflict(
        format!("cannot {action:?} a {} credential", status.as_str()).to_lowercase(),
    )
}

/// A credential's status as the status change `tx` sees it.
async fn locked_status(
    tx: &mut StatusTx,
    credential_id: &str,
) -> Result<CredentialStatus, AdminError> {
    tx.status(credential_id).await?.ok_or(AdminError::NotFound)
}

/// A status change in progress: who asks, for which credential, on which list.
struct Pending<'a> {
    hosted: &'a Hosted,
    signing: &'a SigningKey,
    operator: &'a Operator,
    record: &'a CredentialRow,
    capacity: u64,
    action: StatusAction,
    now: i64,
}

/// How a status change ended once the registry turned out to be ahead.
enum Settled {
    /// Made on top of the registry's list.
    Changed(CredentialStatus),
    /// The registry's list already had it (an earlier publication whose answer was lost).
    AlreadyThere,
    /// The credential's reconciled status does not allow it.
    Refused(CredentialStatus),
}

/// Why a status changed. Audit entries carry only these codes, never free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The holder lost the device or card.
    Lost,
    /// Stolen.
    Stolen,
    /// Replaced by a newer credential.
    Superseded,
    /// The holder asked.
    HolderRequest,
    /// Issued by mistake.
    IssuedInError,
    /// The holder no longer meets the conditions.
    EligibilityEnded,
    /// The holder died.
    Deceased,
    /// Under investigation (suspension).
    Investigation,
    /// The reason for a suspension no longer applies.
    Resolved,
}

impl std::str::FromStr for Reason {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, String> {
        serde_json::from_value(Value::String(code.to_owned()))
            .map_err(|_| format!("unknown reason `{code}`"))
    }
}

impl Reason {
    /// The reasons a clerk may give to revoke, most common first.
    pub const FOR_REVOKE: [Reason; 7] = [
        Reason::Lost,
        Reason::Stolen,
        Reason::Superseded,
        Reason::HolderRequest,
        Reason::IssuedInError,
        Reason::EligibilityEnded,
        Reason::Deceased,
    ];
    /// The reasons a clerk may give to suspend.
    pub const FOR_SUSPEND: [Reason; 3] =
        [Reason::Investigation, Reason::Lost, Reason::HolderRequest];
    /// The reasons a clerk may give to lift a suspension.
    pub const FOR_UNSUSPEND: [Reason; 1] = [Reason::Resolved];

    /// The reason as a clerk reads it.
    pub fn label(self, lang: Lang) -> &'static str {
        let (ko, en) = match self {
            Reason::Lost => ("분실", "Lost"),
            Reason::Stolen => ("도난", "Stolen"),
            Reason::Superseded => ("새 자격증명으로 대체", "Replaced by a newer credential"),
            Reason::HolderRequest => ("소지자 요청", "The holder asked"),
            Reason::IssuedInError => ("잘못 발급됨", "Issued in error"),
            Reason::EligibilityEnded => ("자격 요건 상실", "No longer eligible"),
            Reason::Deceased => ("사망", "Deceased"),
            Reason::Investigation => ("조사 중", "Under investigation"),
            Reason::Resolved => ("정지 사유 해소", "The reason for suspension is resolved"),
        };
        lang.choose(ko, en)
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Lost => "lost",
            Reason::Stolen => "stolen",
            Reason::Superseded => "superseded",
            Reason::HolderRequest => "holder_request",
            Reason::IssuedInError => "issued_in_error",
            Reason::EligibilityEnded => "eligibility_ended",
            Reason::Deceased => "deceased",
            Reason::Investigation => "investigation",
            Reason::Resolved => "resolved",
        }
    }
}

/// A credential's record, as operators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialRecord {
    /// Credential id.
    pub id: String,
    /// Type.
    #[serde(rename = "type")]
    pub type_id: String,
    /// Status.
    pub status: CredentialStatus,
    /// Status list id and index.
    pub status_list: String,
    /// Index in the list.
    pub status_index: u64,
    /// Issuance time.
    pub issued_at: i64,
}

impl From<CredentialRow> for CredentialRecord {
    fn from(row: CredentialRow) -> Self {
        CredentialRecord {
            id: row.id,
            type_id: row.type_id,
            status: row.status,
            status_list: row.list_id,
            status_index: row.status_index,
            issued_at: row.issued_at,
        }
    }
}

/// How long a verifier may cache a status list (`ttl`), seconds.
const STATUS_LIST_TTL: i64 = 300;

/// A status list signed in both its forms.
struct SignedList {
    /// The `statuslist+jwt`.
    token: String,
    /// The CWT form, base64url.
    cwt: String,
}

/// A 2-bit Token Status List of `capacity` entries with `states` set (the others valid).
fn status_list(
    capacity: u64,
    states: &[(u64, CredentialStatus)],
) -> Result<TokenStatusList, InternalError> {
    let mut list = TokenStatusList::new(2, capacity as usize)?;
    for (index, status) in states {
        list.set(*index as usize, status.token_status())?;
    }
    Ok(list)
}

impl IssuerService {
    /// A random index not known to be used, from the issuer's first list with room, or from a
    /// new list published to the registry. Another service instance may take the same index
    /// meanwhile: the caller's insert then reports the conflict and asks again.
    pub(super) async fn next_index(
        &self,
        hosted: &Hosted,
        signing: &SigningKey,
        now: i64,
    ) -> Result<(String, u64), AdminError> {
        let mut allocators = self.inner.allocators.lock().await;
        if !allocators.contains_key(&hosted.slug) {
            let mut lists = Vec::new();
            for list in self.inner.db.lists(&hosted.slug).await? {
                let mut allocator = IndexAllocator::new(list.capacity as usize);
                for used in self.inner.db.used_indices(&list.list_id).await? {
                    allocator.mark_used(used as usize);
                }
                lists.push((list, allocator));
            }
            allocators.insert(hosted.slug.clone(), lists);
        }
        let lists = allocators
            .get_mut(&hosted.slug)
            .ok_or(AdminError::NotFound)?;
        for (list, allocator) in lists.iter_mut() {
            if let Some(index) = allocator.allocate(&mut rand::thread_rng()) {
                return Ok((list.list_id.clone(), index as u64));
            }
        }
        let list = ListRow {
            list_id: format!("{}-{}", hosted.slug, &new_id()[..8]),
            capacity: self.inner.config.list_capacity as u64,
            version: 1,
        };
        // Publish the empty list first, so every status URI resolves from the start.
        let token = self.status_token(hosted, signing, &list.list_id, list.capacity, &[], now)?;
        self.publish(hosted, signing, &list.list_id, 1, token, now)
            .await?;
        self.inner.db.insert_list(&hosted.slug, &list, now).await?;
        let mut allocator = IndexAllocator::new(list.capacity as usize);
        let index = allocator
            .allocate(&mut rand::thread_rng())
            .ok_or(InternalError::NoFreeIndex)?;
        let list_id = list.list_id.clone();
        lists.push((list, allocator));
        Ok((list_id, index as u64))
    }

    fn status_token(
        &self,
        hosted: &Hosted,
        signing: &SigningKey,
        list_id: &str,
        capacity: u64,
        states: &[(u64, CredentialStatus)],
        now: i64,
    ) -> Result<SignedList, InternalError> {
        let list = status_list(capacity, states)?;
        self.sign_status_list(hosted, signing, list_id, &list, now)
    }

    /// The list signed in both forms: the `statuslist+jwt` and its CWT form, which mdocs'
    /// status references are served.
    fn sign_status_list(
        &self,
        hosted: &Hosted,
        signing: &SigningKey,
        list_id: &str,
        list: &TokenStatusList,
        now: i64,
    ) -> Result<SignedList, InternalError> {
        let claims = StatusListTokenClaims {
            sub: self.registry().status_list_uri(list_id),
            iat: now,
            exp: None,
            ttl: Some(STATUS_LIST_TTL),
            status_list: list.encode(),
            extra: [("iss".to_owned(), Value::String(hosted.did.to_string()))]
                .into_iter()
                .collect(),
        };
        let cwt = dojang_mdoc::sign_status_list_cwt(
            &dojang_mdoc::StatusListCwt {
                sub: claims.sub.clone(),
                iat: now,
                exp: None,
                ttl: Some(STATUS_LIST_TTL),
                kid: signing.kid.clone(),
            },
            list,
            &signing.key,
        )?;
        Ok(SignedList {
            token: tsl::sign_token(&claims, Some(&signing.kid), &signing.key)?,
            cwt: b64::encode(cwt),
        })
    }

    /// Publishes `version` of a list. The entry is signed once; over HTTP the registry client
    /// sends those very bytes again when an answer is lost, so a publication the registry
    /// committed comes back as a success with its index (in the same process, no answer is
    /// lost).
    async fn publish(
        &self,
        hosted: &Hosted,
        signing: &SigningKey,
        list_id: &str,
        version: u64,
        signed: SignedList,
        now: i64,
    ) -> Result<u64, AdminError> {
        let token = signed.token;
        let operation = Operation::StatusPublish {
            issuer: hosted.did.clone(),
            list_id: list_id.to_owned(),
            version,
            token: token.clone(),
            cwt: Some(signed.cwt),
        };
        let entry =
            Entry::sign(&operation, &signing.key, &signing.url).map_err(InternalError::from)?;
        match self.registry().submit(entry).await {
            Ok(index) => Ok(index),
            // A registry that answers a repeated entry with `replayed` rather than its index:
            // ours was committed if the list it holds is this very token.
            Err(refused) if refused.code() == Some("replayed") => {
                match self
                    .registry()
                    .status_list(list_id, &signing.every_public_key(), now)
                    .await?
                {
                    Some(held) if held.version == version && held.token == token => Ok(held.index),
                    _ => Err(refused.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Commits each hosted issuer's status lists by one `status.root` entry when they changed
    /// since its last one — what lets trust bundles carry the lists as bare bits and deltas only
    /// the entries that changed ([`dojang_ledger::lists`]). Each list's digest is taken from the
    /// version the registry holds, its token checked against the issuer's own keys, at the
    /// version this database published. An issuer whose lists move meanwhile (a revocation
    /// between reading and appending: the registry refuses a root that is not of its lists) is
    /// committed on a later call. Returns the slugs committed.
    pub async fn commit_status_lists(&self, now: i64) -> Result<Vec<String>, AdminError> {
        let mut committed = Vec::new();
        for hosted in self.inner.issuers.values() {
            let mut memo = hosted.committed.lock().await;
            let rows = self.inner.db.lists(&hosted.slug).await?;
            let versions: BTreeMap<String, u64> = rows
                .iter()
                .map(|l| (l.list_id.clone(), l.version))
                .collect();
            if rows.is_empty() || versions == memo.versions {
                continue;
            }
            // The key is held only to sign and append, not across the reads below.
            let keys = hosted.signing.read().await.every_public_key();
            let mut covered = Vec::with_capacity(rows.len());
            for row in &rows {
                let digest = match memo.digests.get(&row.list_id) {
                    Some(&(version, digest)) if version == row.version => digest,
                    _ => {
                        let held = self
                            .registry()
                            .status_list(&row.list_id, &keys, now)
                            .await?
                            .filter(|held| held.version == row.version);
                        let Some(held) = held else {
                            tracing::warn!(slug = %hosted.slug, list_id = %row.list_id,
                                "the registry does not hold this list at the version published; \
                                 its issuer's lists are committed later");
                            covered.clear();
                            break;
                        };
                        let digest = dojang_ledger::lists::list_digest(&held.list);
                        memo.digests
                            .insert(row.list_id.clone(), (row.version, digest));
                        digest
                    }
                };
                covered.push((
                    row.list_id.clone(),
                    self.registry().status_list_uri(&row.list_id),
                    digest,
                ));
            }
            if covered.is_empty() {
                continue;
            }
            let root = dojang_ledger::lists::status_root(
                covered
                    .iter()
                    .map(|(id, uri, d)| (id.as_str(), uri.as_str(), d)),
            );
            let version = dojang_core::clock::unix_now_ms().max(memo.root_version + 1);
            let signing = hosted.signing.read().await;
            let operation = Operation::StatusRoot {
                issuer: hosted.did.clone(),
                version,
                lists: covered.len() as u64,
                root: b64::encode(root),
            };
            let entry =
                Entry::sign(&operation, &signing.key, &signing.url).map_err(InternalError::from)?;
            match self.registry().submit(entry).await {
                Ok(_) => {
                    memo.versions = versions;
                    memo.root_version = version;
                    committed.push(hosted.slug.clone());
                }
                Err(refused) if refused.code() == Some("status_list") => {
                    tracing::info!(slug = %hosted.slug, "lists changed while committing; will retry");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(committed)
    }

    /// Revokes, suspends or unsuspends a credential, and publishes the new status list. If the
    /// registry does not accept the new list, nothing changes.
    ///
    /// The registry can be ahead of this database: a publication it committed whose answer
    /// never came back (the operator saw an error, the database kept the old statuses). Then
    /// the registry's list is the newer truth; it is adopted ([`Self::reconcile`]) and the
    /// change made on top of it — republishing this database's older view would silently undo
    /// what verifiers already see, a revocation above all.
    pub async fn change_status(
        &self,
        operator: &Operator,
        slug: &str,
        credential_id: &str,
        action: StatusAction,
        reason: Reason,
        now: i64,
    ) -> Result<CredentialRecord, AdminError> {
        let hosted = self.hosted(slug)?;
        if operator.issuer != slug {
            return Err(AdminError::Forbidden("this token is for another issuer"));
        }
        let db = &self.inner.db;
        let record = db
            .credential(credential_id)
            .await?
            .filter(|c| c.issuer == slug)
            .ok_or(AdminError::NotFound)?;
        operator.may(slug, &record.type_id)?;
        action
            .from(record.status)
            .ok_or_else(|| cannot(action, record.status))?;
        let capacity = db
            .lists(slug)
            .await?
            .into_iter()
            .find(|l| l.list_id == record.list_id)
            .map(|l| l.capacity)
            .ok_or(AdminError::NotFound)?;
        // Held to the end: a rotation waits for the change, whose entry its key signs.
        let signing = hosted.signing.read().await;
        let mut tx = db.begin_status_change(&record.list_id).await?;
        // Checked again under the list's lock: a change that got there first (a revocation
        // above all) is not overwritten.
        let current = locked_status(&mut tx, credential_id).await?;
        let next = action
            .from(current)
            .ok_or_else(|| cannot(action, current))?;
        tx.set_status(credential_id, next).await?;
        let states = tx.states(&record.list_id).await?;
        let token = self.status_token(hosted, &signing, &record.list_id, capacity, &states, now)?;
        let status = match self
            .publish(hosted, &signing, &record.list_id, tx.version, token, now)
            .await
        {
            Ok(_) => next,
            Err(AdminError::Registry(refused)) if refused.code() == Some("status_list") => {
                tx.set_status(credential_id, current).await?;
                let change = Pending {
                    hosted,
                    signing: &signing,
                    operator,
                    record: &record,
                    capacity,
                    action,
                    now,
                };
                match self.reconcile(&change, &mut tx, refused).await? {
                    Settled::Changed(next) => next,
                    Settled::AlreadyThere => action.goal(),
                    Settled::Refused(status) => {
                        // The reconciliation itself stands; the change does not.
                        tx.commit().await?;
                        return Err(cannot(action, status));
                    }
                }
            }
            Err(e) => return Err(e),
        };
        tx.audit(
            &new_id(),
            slug,
            &operator.id,
            action.audited(),
            &record.type_id,
            Some(credential_id),
            Some(reason.code()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(CredentialRecord {
            status,
            ..record.into()
        })
    }

    /// The registry refused a publication of `change`'s list (`refused`); if that is because
    /// it holds a newer version, brings this database in line with it inside `tx` and makes
    /// the change on top.
    ///
    /// The registry's list must be signed by this issuer's own key (only the issuer can publish
    /// its lists). Every credential takes the registry's status, except that a revocation on
    /// either side stands: a revocation is never undone. If the result differs from the
    /// registry's list, it is published as the version after the registry's. Each adopted
    /// status is audited as `reconciled_<status>` (credential id and type, nothing personal).
    async fn reconcile(
        &self,
        change: &Pending<'_>,
        tx: &mut StatusTx,
        refused: LedgerError,
    ) -> Result<Settled, AdminError> {
        let Pending {
            hosted,
            signing,
            operator,
            record,
            capacity,
            action,
            now,
        } = *change;
        let list_id = &record.list_id;
        let Some(published) = self
            .registry()
            .status_list(list_id, &signing.every_public_key(), now)
            .await?
            .filter(|p| p.version >= tx.version)
        else {
            // Not ahead: refused for another reason.
            return Err(refused.into());
        };
        let theirs = &published.list;
        if theirs.bits() != 2 || theirs.len() as u64 != capacity {
            return Err(AdminError::Conflict(format!(
                "the registry's status list `{list_id}` does not have this list's shape \
                 (레지스트리의 상태 목록 `{list_id}`의 형식이 이 목록과 다릅니다)"
            )));
        }
        let adopted = Self::adopt(tx, list_id, theirs).await?;
        let target = locked_status(tx, &record.id).await?;
        let settled = match action.from(target) {
            Some(next) => {
                tx.set_status(&record.id, next).await?;
                Settled::Changed(next)
            }
            None if target == action.goal() => Settled::AlreadyThere,
            None => Settled::Refused(target),
        };
        let states = tx.states(list_id).await?;
        let ours = status_list(capacity, &states)?;
        let republished = ours.as_bytes() != theirs.as_bytes();
        if republished {
            tx.raise_version(list_id, published.version + 1).await?;
            let token = self.sign_status_list(hosted, signing, list_id, &ours, now)?;
            self.publish(hosted, signing, list_id, tx.version, token, now)
                .await?;
        } else {
            tx.raise_version(list_id, published.version).await?;
        }
        for (id, type_id, status) in &adopted {
            // The requested change found already made is audited as that change.
            if matches!(settled, Settled::AlreadyThere) && *id == record.id {
                continue;
            }
            tx.audit(
                &new_id(),
                &hosted.slug,
                &operator.id,
                &format!("reconciled_{}", status.as_str()),
                type_id,
                Some(id),
                None,
                now,
            )
            .await?;
        }
        tracing::warn!(
            list_id = %list_id,
            registry_version = published.version,
            adopted = adopted.len(),
            republished,
            "the registry was ahead of this database: its status list was adopted, revocations kept"
        );
        Ok(settled)
    }

    /// Brings every credential of `list_id` in line with the registry's list `theirs`, except
    /// that a revocation on either side stands; returns what changed: (id, type, new status).
    /// Refuses a registry list that sets entries no credential here has: republishing would undo
    /// them, adopting them would give their indices away.
    async fn adopt(
        tx: &mut StatusTx,
        list_id: &str,
        theirs: &TokenStatusList,
    ) -> Result<Vec<(String, String, CredentialStatus)>, AdminError> {
        let entries = tx.entries(list_id).await?;
        let known: HashSet<u64> = entries.iter().map(|(_, _, index, _)| *index).collect();
        let strangers = (0..theirs.len())
            .filter(|i| !known.contains(&(*i as u64)))
            .filter(|i| theirs.status(*i) != Ok(TokenStatus::Valid))
            .count();
        if strangers > 0 {
            return Err(AdminError::Conflict(format!(
                "the registry's status list `{list_id}` sets {strangers} entries this database has \
                 no credential for (restored from an older backup?); status changes on this list \
                 wait until that is repaired (레지스트리의 상태 목록 `{list_id}`에 이 데이터베이스에 \
                 없는 자격증명 {strangers}건의 상태가 있습니다. 복구될 때까지 이 목록의 상태를 \
                 바꿀 수 없습니다)"
            )));
        }
        let mut adopted = Vec::new();
        for (id, type_id, index, ours) in entries {
            let registry = match theirs.status(index as usize) {
                Ok(TokenStatus::Valid) => CredentialStatus::Valid,
                Ok(TokenStatus::Invalid) => CredentialStatus::Revoked,
                Ok(TokenStatus::Suspended) => CredentialStatus::Suspended,
                _ => {
                    return Err(AdminError::Conflict(format!(
                        "the registry's status list `{list_id}` holds a status this issuer \
                         never sets (레지스트리의 상태 목록 `{list_id}`에 이 발급자가 쓰지 않는 \
                         상태 값이 있습니다)"
                    )));
                }
            };
            let merged = match (ours, registry) {
                (CredentialStatus::Revoked, _) | (_, CredentialStatus::Revoked) => {
                    CredentialStatus::Revoked
                }
                (_, registry) => registry,
            };
            if merged != ours {
                tx.set_status(&id, merged).await?;
                adopted.push((id, type_id, merged));
            }
        }
        Ok(adopted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_back_as_stored() {
        for status in [
            CredentialStatus::Valid,
            CredentialStatus::Revoked,
            CredentialStatus::Suspended,
        ] {
            assert_eq!(CredentialStatus::parse(status.as_str()).ok(), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                status.as_str(),
                "stored as it is serialized"
            );
        }
        assert!(matches!(
            CredentialStatus::parse("invalid"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
