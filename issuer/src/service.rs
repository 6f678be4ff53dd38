//! The issuer service: hosted issuers, operators, offers, OpenID4VCI issuance, status changes
//! and their publication, and the audit trail.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use dojang_core::b64;
use dojang_core::compact;
use dojang_core::did::{Did, Relationship};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::oid4vci::{
    self, CredentialOffer, CredentialRequest, CredentialResponse, Grants, IssuedCredential,
    PreAuthorizedCodeGrant, ProofError, TokenResponse, TxCode,
};
use dojang_core::seal::{KdfParams, PassphraseSealed, SealKey, Sealed};
use dojang_core::status::token::{
    self as tsl, StatusListTokenClaims, TokenStatus, TokenStatusList,
};
use dojang_core::status::{IndexAllocator, MIN_ENTRIES, StatusListReference};
use dojang_ledger::entry::{Entry, Operation};
use dojang_ledger::state::{dojang_did, dojang_document};
use dojang_schemas::{Catalog, Issuance, SchemaError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use unicode_normalization::UnicodeNormalization as _;
use zeroize::Zeroizing;

use crate::db::{
    self, Conflict, CredentialRow, Db, DbError, IssuerRow, ListRow, OfferRow, OperatorRow, StatusTx,
};
use crate::ledger::{LedgerError, RegistryClient};

pub use crate::db::MAX_TX_ATTEMPTS;

/// What the token endpoint says once an offer's transaction-code attempts are used up.
const OFFER_LOCKED: &str = "too many wrong transaction codes: this offer is locked, ask the \
     issuing office for a new one (거래 코드를 여러 번 잘못 입력하여 이 제안이 잠겼습니다. \
     발급 기관에 새 제안을 요청하세요)";

/// What the service needs to run.
pub struct IssuerConfig {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The service's public base URL; issuer identifiers are `<public_url>/issuers/<slug>`.
    pub public_url: String,
    /// The registry.
    pub registry: RegistryClient,
    /// Passphrase sealing issuer keys and secrets.
    pub passphrase: Zeroizing<String>,
    /// Argon2id parameters for sealing.
    pub kdf: KdfParams,
    /// Keep issued claim sets (sealed)? Off by default: revocation needs none of them.
    pub keep_claims: bool,
    /// How long an offer stays redeemable, seconds.
    pub offer_ttl: i64,
    /// Access token lifetime, seconds.
    pub token_ttl: i64,
    /// `c_nonce` lifetime, seconds.
    pub nonce_ttl: i64,
    /// Entries per status list (at least 131,072).
    pub list_capacity: usize,
}

impl IssuerConfig {
    /// Defaults: offers live 7 days, tokens 10 minutes, nonces 5 minutes; claims not kept.
    pub fn new(
        database_url: &str,
        public_url: &str,
        registry: RegistryClient,
        passphrase: Zeroizing<String>,
    ) -> Self {
        IssuerConfig {
            database_url: database_url.to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            registry,
            passphrase,
            kdf: KdfParams::DEFAULT,
            keep_claims: false,
            offer_ttl: 7 * 86_400,
            token_ttl: 600,
            nonce_ttl: 300,
            list_capacity: MIN_ENTRIES,
        }
    }
}

/// Errors of the operator-facing API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// No operator token, or an unknown, tampered, expired or disabled one.
    #[error("authentication required: {0}")]
    Unauthenticated(&'static str),
    /// The operator may not act for this issuer or type.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// No such issuer, offer or credential (for this operator).
    #[error("not found")]
    NotFound,
    /// The claims do not match the type's schema.
    #[error("{0}")]
    Invalid(#[from] SchemaError),
    /// A request field is invalid.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The change conflicts with the current state (already revoked, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The registry could not be reached or refused the publication; nothing was changed.
    #[error("{0}")]
    Registry(#[from] LedgerError),
    /// Storage or keys failed.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DbError> for AdminError {
    fn from(e: DbError) -> Self {
        AdminError::Internal(e.to_string())
    }
}

/// Errors of the token endpoint (RFC 6749 §5.2 codes, 400).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// `invalid_request`: a parameter is missing or not expected.
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// `invalid_grant`: wrong, expired or used code, or wrong transaction code.
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    /// `unsupported_grant_type`.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// Storage failed.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DbError> for TokenError {
    fn from(e: DbError) -> Self {
        TokenError::Internal(e.to_string())
    }
}

/// Errors of the credential endpoint (OpenID4VCI 1.0 §8.3.1; bearer errors per RFC 6750).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// No access token (401, no error code).
    #[error("missing access token")]
    MissingToken,
    /// `invalid_token` (401): unknown, expired or for another issuer.
    #[error("invalid_token")]
    InvalidToken,
    /// `invalid_credential_request`.
    #[error("invalid_credential_request: {0}")]
    InvalidCredentialRequest(String),
    /// `unknown_credential_configuration`.
    #[error("unknown_credential_configuration")]
    UnknownCredentialConfiguration,
    /// `invalid_proof`: missing, invalid, or without a nonce.
    #[error("invalid_proof: {0}")]
    InvalidProof(String),
    /// `invalid_nonce`: not one of ours, used, or expired.
    #[error("invalid_nonce")]
    InvalidNonce,
    /// `credential_request_denied`: already issued, not accredited, …
    #[error("credential_request_denied: {0}")]
    Denied(String),
    /// Storage, keys or the registry failed.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DbError> for CredentialError {
    fn from(e: DbError) -> Self {
        CredentialError::Internal(e.to_string())
    }
}

/// An authenticated operator.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Operator id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The issuer it acts for.
    pub issuer: String,
    /// Types it may act on.
    pub types: Vec<String>,
}

impl Operator {
    fn may(&self, issuer: &str, type_id: &str) -> Result<(), AdminError> {
        if self.issuer != issuer {
            return Err(AdminError::Forbidden("this token is for another issuer"));
        }
        if !self.types.iter().any(|t| t == type_id) {
            return Err(AdminError::Forbidden(
                "this token does not cover this credential type",
            ));
        }
        Ok(())
    }
}

/// An offer request from an operator.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewOffer {
    /// Credential type id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// The subject's claims.
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    /// An identifier to find the citizen's credentials later (card or document number). Only a
    /// keyed hash of it is stored.
    #[serde(default)]
    pub subject: Option<String>,
    /// Require a transaction code (default true).
    #[serde(default = "yes")]
    pub tx_code: bool,
    /// Makes re-submission safe: the same key returns the same offer.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn yes() -> bool {
    true
}

/// A created offer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedOffer {
    /// Offer id.
    pub offer_id: String,
    /// The OpenID4VCI credential offer.
    #[schema(value_type = Object)]
    pub credential_offer: CredentialOffer,
    /// The offer as an `openid-credential-offer://` URI (what the QR code holds).
    pub credential_offer_uri: String,
    /// The transaction code to give the citizen separately (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// The offer URI as a QR code (SVG).
    pub qr_svg: String,
    /// Whether this is an earlier offer returned for a repeated idempotency key.
    pub replayed: bool,
}

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
    fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Valid => "valid",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Suspended => "suspended",
        }
    }

    fn parse(text: &str) -> Result<Self, DbError> {
        match text {
            "valid" => Ok(CredentialStatus::Valid),
            "revoked" => Ok(CredentialStatus::Revoked),
            "suspended" => Ok(CredentialStatus::Suspended),
            _ => Err(DbError::Corrupt("credential status")),
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
    let status = tx
        .status(credential_id)
        .await?
        .ok_or(AdminError::NotFound)?;
    Ok(CredentialStatus::parse(&status)?)
}

/// A status change in progress: who asks, for which credential, on which list.
struct Pending<'a> {
    hosted: &'a Hosted,
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

/// A calendar date as people type it — `1994-03-15`, `19940315`, `1994.3.15`, `1994/03/15`,
/// `1994. 3. 15.` — shown as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CalendarDate {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month.
    pub day: u8,
}

impl std::str::FromStr for CalendarDate {
    type Err = SubjectError;

    fn from_str(text: &str) -> Result<Self, SubjectError> {
        let groups: Vec<&str> = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .collect();
        let separators_ok = text
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || matches!(c, '-' | '.' | '/'));
        let (year, month, day) = match groups.as_slice() {
            [all] if all.len() == 8 => (&all[..4], &all[4..6], &all[6..]),
            [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => (*y, *m, *d),
            _ => return Err(SubjectError::Date),
        };
        let (Ok(year), Ok(month), Ok(day), true) =
            (year.parse(), month.parse(), day.parse(), separators_ok)
        else {
            return Err(SubjectError::Date);
        };
        let date = CalendarDate { year, month, day };
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(SubjectError::Date),
        };
        if day == 0 || day > days_in_month {
            return Err(SubjectError::Date);
        }
        Ok(date)
    }
}

impl std::fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl CalendarDate {
    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        CalendarDate {
            year: year as i32,
            month: month as u8,
            day: day as u8,
        }
    }
}

/// Why a citizen's identifying details could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// The card or document number has no letters or digits.
    #[error("the card or document number is empty (카드 또는 문서 번호가 비어 있습니다)")]
    Number,
    /// The name is empty.
    #[error("the name is empty (이름이 비어 있습니다)")]
    Name,
    /// The date is not a calendar date.
    #[error("not a date: use YYYY-MM-DD (날짜 형식이 아닙니다. YYYY-MM-DD로 입력하세요)")]
    Date,
}

/// A citizen as an office identifies them, to find their credentials later: a card or document
/// number, or a name and birth date. What the office types is normalised — spaces and case do
/// not matter, nor do the punctuation of a number or the format of a date, nor how the text was
/// encoded (Unicode NFKC: Hangul typed as separate jamo, full-width letters and digits from a
/// Korean input method) — into one canonical
/// text, and only a keyed hash of that text is ever kept or compared (see
/// [`IssuerService::find_credentials`]). The text itself is never stored, logged or shown;
/// `Debug` prints only `Subject(..)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Subject {
    canonical: String,
    /// Forms an offer made over the API (which keeps its `subject` as given) may have used.
    as_given: Vec<String>,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Subject(..)")
    }
}

impl Subject {
    /// A card or document number: its letters and digits, upper-case
    /// (`sc-2026 000001` and `SC-2026-000001` are one number).
    pub fn number(text: &str) -> Result<Self, SubjectError> {
        let number: String = text
            .nfkc()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_uppercase)
            .collect();
        if number.is_empty() {
            return Err(SubjectError::Number);
        }
        let trimmed = text.trim();
        let mut as_given = vec![
            trimmed.to_owned(),
            trimmed.to_uppercase(),
            trimmed.to_lowercase(),
        ];
        as_given.dedup();
        Ok(Subject {
            canonical: format!("number:{number}"),
            as_given,
        })
    }

    /// A name and birth date: the name lower-case without spaces, the date as `YYYY-MM-DD`.
    pub fn person(name: &str, birth_date: &str) -> Result<Self, SubjectError> {
        let name: String = name
            .nfkc()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        if name.is_empty() {
            return Err(SubjectError::Name);
        }
        let date: CalendarDate = birth_date.parse()?;
        Ok(Subject {
            canonical: format!("person:{name}|{date}"),
            as_given: Vec::new(),
        })
    }

    /// The canonical text: what an offer's `subject` should be for this citizen to be found by
    /// [`IssuerService::find_credentials`].
    pub fn canonical(&self) -> &str {
        &self.canonical
    }
}

/// What a clerk looks for among an issuer's credentials. Every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct CredentialQuery {
    /// Of this type.
    pub type_id: Option<String>,
    /// In this status.
    pub status: Option<CredentialStatus>,
    /// Issued from this offer.
    pub offer_id: Option<String>,
    /// Issued at or after (Unix seconds).
    pub issued_from: Option<i64>,
    /// Issued before (Unix seconds).
    pub issued_before: Option<i64>,
    /// For this citizen.
    pub subject: Option<Subject>,
    /// At most this many, newest first (1 to 1,000; 0 means 100).
    pub limit: usize,
}

/// A credential found by [`IssuerService::find_credentials`].
#[derive(Debug, Clone, Serialize)]
pub struct ListedCredential {
    /// The credential's record.
    #[serde(flatten)]
    pub record: CredentialRecord,
    /// The offer it was issued from.
    pub offer_id: Option<String>,
}

struct Hosted {
    slug: String,
    name: String,
    did: Did,
    kid: String,
    key: SecretKey,
    pepper: [u8; 32],
    claims_key: SealKey,
    /// Authenticates the stateless access tokens and nonces this issuer hands out.
    mac_key: aws_lc_rs::hmac::Key,
}

impl Hosted {
    /// `b64(payload).b64(HMAC(payload))`: what this issuer hands out as access token or nonce.
    fn seal_token(&self, payload: &[u8]) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.mac_key, payload);
        format!("{}.{}", b64::encode(payload), b64::encode(tag.as_ref()))
    }

    /// The payload of a token this issuer made, if it is one.
    fn open_token(&self, token: &str) -> Option<Vec<u8>> {
        let (payload, tag) = token.split_once('.')?;
        let payload = b64::decode(payload).ok()?;
        let tag = b64::decode(tag).ok()?;
        aws_lc_rs::hmac::verify(&self.mac_key, &payload, &tag).ok()?;
        Some(payload)
    }
}

/// The formats every credential is offered in. One offer, one credential, one status index;
/// the wallet asks for each format with the same access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// SD-JWT VC (`dc+sd-jwt`), for online presentation; configuration id `<type>`.
    SdJwt,
    /// The compact credential of the offline QR profile (`dojang-qr`); configuration id
    /// `<type>-qr`.
    Qr,
}

impl Format {
    /// Both formats.
    pub const ALL: [Format; 2] = [Format::SdJwt, Format::Qr];
    const ALL_BITS: i64 = 0b11;

    /// Its bit in an offer's `issued_formats`.
    pub fn bit(self) -> i64 {
        match self {
            Format::SdJwt => 1,
            Format::Qr => 2,
        }
    }

    /// The OpenID4VCI `format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::SdJwt => dojang_core::sd_jwt::vc::TYP,
            Format::Qr => compact::FORMAT,
        }
    }

    /// The credential configuration id of `type_id` in this format.
    pub fn configuration_id(self, type_id: &str) -> String {
        match self {
            Format::SdJwt => type_id.to_owned(),
            Format::Qr => format!("{type_id}-qr"),
        }
    }

    /// The format `configuration` names, if it is one of `type_id`'s.
    pub fn of_configuration(configuration: &str, type_id: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.configuration_id(type_id) == configuration)
    }
}

/// Token kinds, so an access token can never pass for a nonce or the reverse.
const ACCESS_TOKEN: u8 = b'a';
const NONCE: u8 = b'n';

/// `kind ‖ expiry (8 bytes) ‖ body`.
fn token_payload(kind: u8, expires_at: i64, body: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(9 + body.len());
    payload.push(kind);
    payload.extend_from_slice(&expires_at.to_be_bytes());
    payload.extend_from_slice(body);
    payload
}

/// The expiry and body of an unexpired token of `kind`.
fn token_body(payload: &[u8], kind: u8, now: i64) -> Option<(i64, &[u8])> {
    let (&found, rest) = payload.split_first()?;
    let (expiry, body) = rest.split_at_checked(8)?;
    let expires_at = i64::from_be_bytes(expiry.try_into().ok()?);
    (found == kind && expires_at > now).then_some((expires_at, body))
}

struct Inner {
    db: Db,
    config: IssuerConfig,
    catalog: &'static Catalog,
    issuers: BTreeMap<String, Hosted>,
    /// Per issuer: its status lists and the indices known to be used in each.
    allocators: Mutex<HashMap<String, Vec<(ListRow, IndexAllocator)>>>,
}

/// The issuer service (cheap to clone).
#[derive(Clone)]
pub struct IssuerService {
    inner: Arc<Inner>,
}

/// Random bytes, base64url.
fn random_token(len: usize) -> Result<String, String> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "random generator failed".to_owned())?;
    Ok(b64::encode(bytes))
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

fn derive(secret: &[u8], label: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(label.len() + secret.len());
    input.extend_from_slice(label);
    input.extend_from_slice(secret);
    let mut out = [0u8; 32];
    out.copy_from_slice(&sha256(&input));
    out
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Creates a hosted issuer: a new ES256 key and did:dojang, registered on the registry.
/// Returns the DID; the root authority must still accredit it.
pub async fn create_issuer(
    db: &Db,
    registry: &RegistryClient,
    passphrase: &str,
    kdf: KdfParams,
    slug: &str,
    name: &str,
    now: i64,
) -> Result<Did, AdminError> {
    if slug.is_empty()
        || slug.len() > 32
        || !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(AdminError::BadRequest(
            "issuer slugs are 1-32 of [a-z0-9-]".into(),
        ));
    }
    let internal = |e: &dyn std::fmt::Display| AdminError::Internal(e.to_string());
    let key = SecretKey::generate(Algorithm::Es256).map_err(|e| internal(&e))?;
    let did = dojang_did(key.public_key());
    let document = dojang_document(
        &did,
        &[(
            "key-1",
            key.public_key(),
            &[
                Relationship::AssertionMethod,
                Relationship::Authentication,
                Relationship::CapabilityInvocation,
            ],
        )],
    );
    let entry = Entry::sign(
        &Operation::DidCreate { document },
        &key,
        &did.with_fragment("key-1"),
    )
    .map_err(|e| internal(&e))?;
    registry.submit(entry).await?;
    let mut secret = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(secret.as_mut())
        .map_err(|_| AdminError::Internal("random generator failed".into()))?;
    let seal = |bytes: &[u8], purpose: &str| -> Result<String, AdminError> {
        let sealed = PassphraseSealed::seal(bytes, passphrase.as_bytes(), purpose, kdf)
            .map_err(|e| internal(&e))?;
        serde_json::to_string(&sealed).map_err(|e| internal(&e))
    };
    db.insert_issuer(
        &IssuerRow {
            slug: slug.to_owned(),
            name: name.to_owned(),
            did: did.to_string(),
            sealed_key: seal(
                key.secret_bytes().as_ref(),
                &format!("dojang-issuer-key:{slug}"),
            )?,
            sealed_secret: seal(secret.as_ref(), &format!("dojang-issuer-secret:{slug}"))?,
        },
        now,
    )
    .await?;
    Ok(did)
}

/// Creates an operator token for an issuer: returns (operator id, token). The token is shown
/// once; only its SHA-256 is stored.
pub async fn create_operator(
    db: &Db,
    issuer: &str,
    name: &str,
    types: &[String],
    expires_at: Option<i64>,
    now: i64,
) -> Result<(String, String), AdminError> {
    if !db.issuers().await?.iter().any(|i| i.slug == issuer) {
        return Err(AdminError::NotFound);
    }
    let token = format!("dojang_{}", random_token(32).map_err(AdminError::Internal)?);
    let id = new_id();
    db.insert_operator(
        &OperatorRow {
            id: id.clone(),
            issuer: issuer.to_owned(),
            name: name.to_owned(),
            types: types.to_vec(),
            expires_at,
            disabled: false,
        },
        &sha256(token.as_bytes()),
        now,
    )
    .await?;
    Ok((id, token))
}

impl IssuerService {
    /// Opens the database and unseals every hosted issuer's keys.
    pub async fn open(config: IssuerConfig) -> Result<Self, AdminError> {
        let db = Db::open(&config.database_url).await?;
        let mut issuers = BTreeMap::new();
        for row in db.issuers().await? {
            let open = |sealed: &str, purpose: String| -> Result<Zeroizing<Vec<u8>>, AdminError> {
                let sealed: PassphraseSealed = serde_json::from_str(sealed)
                    .map_err(|e| AdminError::Internal(e.to_string()))?;
                sealed
                    .open(config.passphrase.as_bytes(), &purpose)
                    .map_err(|e| {
                        AdminError::Internal(format!(
                            "cannot unseal the keys of `{}`: {e}",
                            row.slug
                        ))
                    })
            };
            let key_bytes = open(&row.sealed_key, format!("dojang-issuer-key:{}", row.slug))?;
            let key = SecretKey::from_bytes(Algorithm::Es256, &key_bytes)
                .map_err(|e| AdminError::Internal(e.to_string()))?;
            let secret = open(
                &row.sealed_secret,
                format!("dojang-issuer-secret:{}", row.slug),
            )?;
            let did = Did::parse(&row.did).map_err(|e| AdminError::Internal(e.to_string()))?;
            issuers.insert(
                row.slug.clone(),
                Hosted {
                    kid: did.with_fragment("key-1").to_string(),
                    slug: row.slug,
                    name: row.name,
                    did,
                    key,
                    pepper: derive(&secret, b"dojang-subject-ref\n"),
                    claims_key: SealKey::from_bytes(&derive(&secret, b"dojang-offer-claims\n")),
                    mac_key: aws_lc_rs::hmac::Key::new(
                        aws_lc_rs::hmac::HMAC_SHA256,
                        &derive(&secret, b"dojang-oid4vci-tokens\n"),
                    ),
                },
            );
        }
        Ok(IssuerService {
            inner: Arc::new(Inner {
                db,
                config,
                catalog: Catalog::builtin(),
                issuers,
                allocators: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The registry client.
    pub fn registry(&self) -> &RegistryClient {
        &self.inner.config.registry
    }

    /// Hosted issuers: (slug, name, DID).
    pub fn issuers(&self) -> Vec<(String, String, Did)> {
        self.inner
            .issuers
            .values()
            .map(|h| (h.slug.clone(), h.name.clone(), h.did.clone()))
            .collect()
    }

    fn hosted(&self, slug: &str) -> Result<&Hosted, AdminError> {
        self.inner.issuers.get(slug).ok_or(AdminError::NotFound)
    }

    /// The credential issuer identifier of `slug`.
    pub fn issuer_id(&self, slug: &str) -> String {
        format!("{}/issuers/{slug}", self.inner.config.public_url)
    }

    /// Checks an operator token.
    pub async fn authenticate(
        &self,
        token: Option<&str>,
        now: i64,
    ) -> Result<Operator, AdminError> {
        let token = token.ok_or(AdminError::Unauthenticated("missing bearer token"))?;
        let row = self
            .inner
            .db
            .operator_by_token(&sha256(token.as_bytes()))
            .await?
            .ok_or(AdminError::Unauthenticated("unknown token"))?;
        if row.disabled {
            return Err(AdminError::Unauthenticated("token disabled"));
        }
        if row.expires_at.is_some_and(|at| at <= now) {
            return Err(AdminError::Unauthenticated("token expired"));
        }
        Ok(Operator {
            id: row.id,
            name: row.name,
            issuer: row.issuer,
            types: row.types,
        })
    }

    /// Whether `slug` is accredited for `type_id` on the registry right now.
    async fn accredited(&self, hosted: &Hosted, type_id: &str) -> Result<bool, LedgerError> {
        Ok(self
            .registry()
            .accredited_types(&hosted.did)
            .await?
            .iter()
            .any(|t| t == type_id))
    }

    fn subject_ref(hosted: &Hosted, subject: &str) -> String {
        let mut input = hosted.pepper.to_vec();
        input.extend_from_slice(subject.as_bytes());
        b64::encode(sha256(&input))
    }

    /// Creates an offer of `type` with `claims` for a citizen.
    pub async fn create_offer(
        &self,
        operator: &Operator,
        slug: &str,
        offer: NewOffer,
        now: i64,
    ) -> Result<CreatedOffer, AdminError> {
        let hosted = self.hosted(slug)?;
        operator.may(slug, &offer.type_id)?;
        // The catalog's refusal would name the type asked for.
        let ty = self
            .inner
            .catalog
            .get(&offer.type_id)
            .map_err(|_| AdminError::BadRequest("unknown credential type".into()))?;
        ty.validate(&offer.claims)?;
        if !self.accredited(hosted, &offer.type_id).await? {
            return Err(AdminError::Forbidden(
                "this issuer is not accredited for this credential type",
            ));
        }
        let code = random_token(32).map_err(AdminError::Internal)?;
        let tx_code = if offer.tx_code {
            let mut digits = [0u8; 6];
            aws_lc_rs::rand::fill(&mut digits)
                .map_err(|_| AdminError::Internal("random generator failed".into()))?;
            Some(
                digits
                    .iter()
                    .map(|d| char::from(b'0' + d % 10))
                    .collect::<String>(),
            )
        } else {
            None
        };
        let claims_json =
            serde_json::to_vec(&offer.claims).map_err(|e| AdminError::Internal(e.to_string()))?;
        let sealed = hosted
            .claims_key
            .seal(&claims_json, "dojang-offer-claims")
            .map_err(|e| AdminError::Internal(e.to_string()))?;
        let id = new_id();
        let expires_at = now + self.inner.config.offer_ttl;
        let row = OfferRow {
            id: id.clone(),
            issuer: slug.to_owned(),
            type_id: offer.type_id.clone(),
            claims_sealed: Some(
                serde_json::to_string(&sealed).map_err(|e| AdminError::Internal(e.to_string()))?,
            ),
            subject_ref: offer
                .subject
                .as_deref()
                .map(|s| Self::subject_ref(hosted, s)),
            tx_code_hash: tx_code.as_deref().map(|c| sha256(c.as_bytes())),
            tx_attempts: 0,
            state: "open".into(),
            operator: operator.id.clone(),
            credential_id: None,
            issued_formats: 0,
            expires_at,
        };
        if let Some(key) = &offer.idempotency_key
            && (key.is_empty() || key.len() > 128)
        {
            return Err(AdminError::BadRequest(
                "idempotency keys are 1 to 128 characters".into(),
            ));
        }
        if let Err(existing) = self
            .inner
            .db
            .insert_offer(
                &row,
                &sha256(code.as_bytes()),
                offer.idempotency_key.as_deref(),
                now,
            )
            .await?
        {
            // The same request again: the first offer stands. Its codes are not stored in clear,
            // so they cannot be shown again.
            let first = self
                .inner
                .db
                .offer(&existing)
                .await?
                .ok_or(AdminError::NotFound)?;
            return Ok(CreatedOffer {
                offer_id: first.id,
                credential_offer: self.offer_document(
                    slug,
                    &first.type_id,
                    "",
                    first.tx_code_hash.is_some(),
                ),
                credential_offer_uri: String::new(),
                tx_code: None,
                expires_at: first.expires_at,
                qr_svg: String::new(),
                replayed: true,
            });
        }
        let credential_offer = self.offer_document(slug, &offer.type_id, &code, tx_code.is_some());
        let uri = credential_offer.to_uri();
        Ok(CreatedOffer {
            offer_id: id,
            qr_svg: qr_svg(&uri)?,
            credential_offer,
            credential_offer_uri: uri,
            tx_code,
            expires_at,
            replayed: false,
        })
    }

    fn offer_document(
        &self,
        slug: &str,
        type_id: &str,
        code: &str,
        tx_code: bool,
    ) -> CredentialOffer {
        CredentialOffer {
            credential_issuer: self.issuer_id(slug),
            credential_configuration_ids: Format::ALL
                .iter()
                .map(|f| f.configuration_id(type_id))
                .collect(),
            grants: Grants {
                pre_authorized_code: PreAuthorizedCodeGrant {
                    pre_authorized_code: code.to_owned(),
                    tx_code: tx_code.then(|| TxCode {
                        input_mode: Some("numeric".into()),
                        length: Some(6),
                        description: Some("The 6-digit code the issuing office gave you".into()),
                    }),
                },
            },
        }
    }

    /// The token endpoint: exchanges a pre-authorized code (and transaction code) for an
    /// access token. A code works once.
    pub async fn token(
        &self,
        slug: &str,
        form: &HashMap<String, String>,
        now: i64,
    ) -> Result<TokenResponse, TokenError> {
        match form.get("grant_type").map(String::as_str) {
            Some(oid4vci::PRE_AUTHORIZED_GRANT) => {}
            Some(_) => return Err(TokenError::UnsupportedGrantType),
            None => return Err(TokenError::InvalidRequest("grant_type is missing")),
        }
        let code = form
            .get("pre-authorized_code")
            .ok_or(TokenError::InvalidRequest("pre-authorized_code is missing"))?;
        let db = &self.inner.db;
        let offer = db
            .offer_by_code(&sha256(code.as_bytes()))
            .await?
            .filter(|o| o.issuer == slug)
            .ok_or(TokenError::InvalidGrant("unknown pre-authorized code"))?;
        if offer.expires_at <= now {
            return Err(TokenError::InvalidGrant(
                "the pre-authorized code has expired",
            ));
        }
        if offer.state != "open" {
            return Err(Self::closed_offer(&offer));
        }
        match (&offer.tx_code_hash, form.get("tx_code")) {
            (None, Some(_)) => {
                return Err(TokenError::InvalidRequest(
                    "no transaction code is expected",
                ));
            }
            (Some(_), None) => return Err(TokenError::InvalidRequest("tx_code is missing")),
            (Some(expected), Some(given)) => {
                // An attempt is claimed (counted and checked in one statement) before the code
                // is compared: concurrent requests cannot all read "attempts left" and all
                // guess.
                let Some(attempt) = db.claim_tx_attempt(&offer.id).await? else {
                    db.lock_offer(&offer.id).await?;
                    return Err(self.refusal(&offer.id).await);
                };
                if !constant_time_eq(expected, &sha256(given.as_bytes())) {
                    if attempt >= MAX_TX_ATTEMPTS {
                        db.lock_offer(&offer.id).await?;
                    }
                    return Err(TokenError::InvalidGrant("wrong transaction code"));
                }
            }
            (None, None) => {}
        }
        // Redemption re-checks the state and the attempts in the database.
        if !db.redeem(&offer.id).await? {
            return Err(self.refusal(&offer.id).await);
        }
        let hosted = self
            .inner
            .issuers
            .get(slug)
            .ok_or(TokenError::InvalidGrant("unknown issuer"))?;
        let expires_at = now + self.inner.config.token_ttl;
        Ok(TokenResponse {
            access_token: hosted.seal_token(&token_payload(
                ACCESS_TOKEN,
                expires_at,
                offer.id.as_bytes(),
            )),
            token_type: "Bearer".into(),
            expires_in: self.inner.config.token_ttl,
        })
    }

    /// Why an offer that was open a moment ago cannot be redeemed now.
    async fn refusal(&self, offer_id: &str) -> TokenError {
        match self.inner.db.offer(offer_id).await {
            Ok(Some(offer)) => Self::closed_offer(&offer),
            Ok(None) => TokenError::InvalidGrant("unknown pre-authorized code"),
            Err(e) => e.into(),
        }
    }

    /// The refusal for an offer that is not open, or has no transaction-code attempts left.
    fn closed_offer(offer: &OfferRow) -> TokenError {
        if offer.state == "locked"
            || (offer.state == "open" && offer.tx_attempts >= MAX_TX_ATTEMPTS)
        {
            TokenError::InvalidGrant(OFFER_LOCKED)
        } else if offer.state == "expired" {
            TokenError::InvalidGrant("the pre-authorized code has expired")
        } else {
            TokenError::InvalidGrant("the pre-authorized code was already used")
        }
    }

    /// The nonce endpoint: an unpredictable, expiring nonce that needs no storage until it is
    /// used (then it is recorded, so it works once).
    pub fn nonce(&self, slug: &str, now: i64) -> Result<String, CredentialError> {
        let hosted = self
            .inner
            .issuers
            .get(slug)
            .ok_or(CredentialError::InvalidToken)?;
        let mut random = [0u8; 16];
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| CredentialError::Internal("random generator failed".into()))?;
        Ok(hosted.seal_token(&token_payload(
            NONCE,
            now + self.inner.config.nonce_ttl,
            &random,
        )))
    }

    /// The credential endpoint. Everything the issuance changes — the nonce used, the status
    /// index claimed, the offer closed, the audit event — is one transaction, committed only
    /// once the credential is signed.
    pub async fn credential(
        &self,
        slug: &str,
        access_token: Option<&str>,
        request: &CredentialRequest,
        now: i64,
    ) -> Result<CredentialResponse, CredentialError> {
        let db = &self.inner.db;
        let token = access_token.ok_or(CredentialError::MissingToken)?;
        let hosted = self
            .inner
            .issuers
            .get(slug)
            .ok_or(CredentialError::InvalidToken)?;
        let payload = hosted
            .open_token(token)
            .ok_or(CredentialError::InvalidToken)?;
        let offer_id = token_body(&payload, ACCESS_TOKEN, now)
            .and_then(|(_, body)| std::str::from_utf8(body).ok())
            .ok_or(CredentialError::InvalidToken)?;
        let offer = db
            .offer(offer_id)
            .await?
            .filter(|o| o.issuer == slug)
            .ok_or(CredentialError::InvalidToken)?;
        let configuration = request
            .credential_configuration_id
            .as_deref()
            .ok_or_else(|| {
                CredentialError::InvalidCredentialRequest(
                    "credential_configuration_id is missing".into(),
                )
            })?;
        let format = Format::of_configuration(configuration, &offer.type_id)
            .ok_or(CredentialError::UnknownCredentialConfiguration)?;
        let proofs = request.proof_jwts();
        let [proof] = proofs.as_slice() else {
            return Err(CredentialError::InvalidProof(
                "exactly one jwt proof is required".into(),
            ));
        };
        let verified =
            oid4vci::verify_proof(proof, &self.issuer_id(slug), now, 300).map_err(|e| match e {
                ProofError::MissingNonce => {
                    CredentialError::InvalidProof("the proof carries no c_nonce".into())
                }
                other => CredentialError::InvalidProof(other.to_string()),
            })?;
        let nonce_expiry = hosted
            .open_token(&verified.nonce)
            .and_then(|p| token_body(&p, NONCE, now).map(|(expiry, _)| expiry))
            .ok_or(CredentialError::InvalidNonce)?;
        // The first format issued makes the credential; another format re-issues it at the
        // same status index, so revoking one revokes both.
        let first = match offer.state.as_str() {
            "redeemed" => true,
            "issued" if offer.issued_formats & format.bit() == 0 => false,
            _ => {
                return Err(CredentialError::Denied(
                    "this offer's credential was already issued".into(),
                ));
            }
        };
        if !self
            .accredited(hosted, &offer.type_id)
            .await
            .map_err(|e| CredentialError::Internal(e.to_string()))?
        {
            return Err(CredentialError::Denied(
                "the issuer is not accredited for this credential type".into(),
            ));
        }
        let sealed: Sealed = offer
            .claims_sealed
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| {
                CredentialError::Denied("the offer no longer holds its claims".into())
            })?;
        let internal = |e: &dyn std::fmt::Display| CredentialError::Internal(e.to_string());
        let claims_json = hosted
            .claims_key
            .open(&sealed, "dojang-offer-claims")
            .map_err(|e| internal(&e))?;
        let claims: Map<String, Value> =
            serde_json::from_slice(&claims_json).map_err(|e| internal(&e))?;
        let ty = self
            .inner
            .catalog
            .get(&offer.type_id)
            .map_err(|e| internal(&e))?;
        let last_format = (offer.issued_formats | format.bit()) == Format::ALL_BITS;
        let sign = |status: StatusListReference| -> Result<String, CredentialError> {
            let draft = ty
                .draft(
                    claims.clone(),
                    Issuance {
                        issuer: hosted.did.to_string(),
                        issued_at: now,
                        valid_until: None,
                        holder_key: Some(verified.key.clone()),
                        status: Some(status),
                    },
                )
                .map_err(|e| internal(&e))?;
            match format {
                Format::SdJwt => draft
                    .sign(&hosted.key, &hosted.kid)
                    .map_err(|e| internal(&e)),
                Format::Qr => compact::issue(&draft, &hosted.key, &hosted.kid)
                    .map(|bytes| b64::encode(&bytes))
                    .map_err(|e| internal(&e)),
            }
        };
        let respond = |credential| CredentialResponse {
            credentials: vec![IssuedCredential { credential }],
            notification_id: None,
        };

        if !first {
            let issued = match &offer.credential_id {
                Some(id) => db.credential(id).await?,
                None => None,
            }
            .ok_or_else(|| {
                CredentialError::Internal("an issued offer without its credential".into())
            })?;
            let credential = sign(StatusListReference {
                idx: issued.status_index,
                uri: self.registry().status_list_uri(&issued.list_id),
            })?;
            let added = db::AddedFormat {
                nonce: verified.nonce.clone(),
                nonce_expires_at: nonce_expiry,
                offer_id: offer.id.clone(),
                format: format.bit(),
                last_format,
            };
            return match db.add_format(added).await? {
                Ok(()) => Ok(respond(credential)),
                Err(Conflict::NonceUsed) => Err(CredentialError::InvalidNonce),
                Err(_) => Err(CredentialError::Denied(
                    "this offer's credential was already issued in this format".into(),
                )),
            };
        }

        let kept_claims = match self.inner.config.keep_claims {
            true => Some(
                serde_json::to_string(
                    &hosted
                        .claims_key
                        .seal(&claims_json, "dojang-issued-claims")
                        .map_err(|e| internal(&e))?,
                )
                .map_err(|e| internal(&e))?,
            ),
            false => None,
        };
        let credential_id = new_id();
        let expires_at = ty
            .descriptor()
            .default_validity_days
            .map(|d| now + i64::from(d) * 86_400);
        // The credential is signed before anything is recorded, so a recorded issuance always
        // has a credential. Choosing the index may publish a new list; if another instance took
        // the index meanwhile, the credential is signed again at another.
        for _ in 0..64 {
            let (list_id, status_index) = self
                .next_index(hosted, now)
                .await
                .map_err(|e| internal(&e))?;
            let credential = sign(StatusListReference {
                idx: status_index,
                uri: self.registry().status_list_uri(&list_id),
            })?;
            let record = db::Issuance {
                nonce: verified.nonce.clone(),
                nonce_expires_at: nonce_expiry,
                credential: CredentialRow {
                    id: credential_id.clone(),
                    issuer: slug.to_owned(),
                    type_id: offer.type_id.clone(),
                    list_id,
                    status_index,
                    status: "valid".into(),
                    subject_ref: offer.subject_ref.clone(),
                    issued_at: now,
                },
                claims_sealed: kept_claims.clone(),
                expires_at,
                offer_id: offer.id.clone(),
                operator: offer.operator.clone(),
                audit_id: new_id(),
                format: format.bit(),
                last_format,
            };
            match db.issue(record).await? {
                Ok(()) => return Ok(respond(credential)),
                Err(Conflict::IndexTaken) => continue,
                Err(Conflict::NonceUsed) => return Err(CredentialError::InvalidNonce),
                Err(Conflict::OfferClosed) => {
                    return Err(CredentialError::Denied(
                        "this offer's credential was already issued".into(),
                    ));
                }
            }
        }
        Err(CredentialError::Internal(
            "could not find a free status index".into(),
        ))
    }

    /// A random index not known to be used, from the issuer's first list with room, or from a
    /// new list published to the registry. Another service instance may take the same index
    /// meanwhile: the caller's insert then reports the conflict and asks again.
    async fn next_index(&self, hosted: &Hosted, now: i64) -> Result<(String, u64), AdminError> {
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
        let token = self.status_token(hosted, &list.list_id, list.capacity, &[], now)?;
        self.publish(hosted, &list.list_id, 1, token, now).await?;
        self.inner.db.insert_list(&hosted.slug, &list, now).await?;
        let mut allocator = IndexAllocator::new(list.capacity as usize);
        let index = allocator
            .allocate(&mut rand::thread_rng())
            .ok_or_else(|| AdminError::Internal("a new list has no room".into()))?;
        let list_id = list.list_id.clone();
        lists.push((list, allocator));
        Ok((list_id, index as u64))
    }

    /// A 2-bit Token Status List of `capacity` entries with `states` set (the others valid).
    fn status_list(capacity: u64, states: &[(u64, String)]) -> Result<TokenStatusList, AdminError> {
        let mut list = TokenStatusList::new(2, capacity as usize)
            .map_err(|e| AdminError::Internal(e.to_string()))?;
        for (index, state) in states {
            let status = CredentialStatus::parse(state)?;
            list.set(*index as usize, status.token_status())
                .map_err(|e| AdminError::Internal(e.to_string()))?;
        }
        Ok(list)
    }

    fn status_token(
        &self,
        hosted: &Hosted,
        list_id: &str,
        capacity: u64,
        states: &[(u64, String)],
        now: i64,
    ) -> Result<String, AdminError> {
        let list = Self::status_list(capacity, states)?;
        self.sign_status_list(hosted, list_id, &list, now)
    }

    fn sign_status_list(
        &self,
        hosted: &Hosted,
        list_id: &str,
        list: &TokenStatusList,
        now: i64,
    ) -> Result<String, AdminError> {
        let claims = StatusListTokenClaims {
            sub: self.registry().status_list_uri(list_id),
            iat: now,
            exp: None,
            ttl: Some(300),
            status_list: list.encode(),
            extra: [("iss".to_owned(), Value::String(hosted.did.to_string()))]
                .into_iter()
                .collect(),
        };
        tsl::sign_token(&claims, Some(&hosted.kid), &hosted.key)
            .map_err(|e| AdminError::Internal(e.to_string()))
    }

    /// Publishes `version` of a list. The entry is signed once and the registry client sends
    /// those very bytes again when an answer is lost, so a publication the registry committed
    /// comes back as a success with its index.
    async fn publish(
        &self,
        hosted: &Hosted,
        list_id: &str,
        version: u64,
        token: String,
        now: i64,
    ) -> Result<u64, AdminError> {
        let operation = Operation::StatusPublish {
            issuer: hosted.did.clone(),
            list_id: list_id.to_owned(),
            version,
            token: token.clone(),
        };
        let kid = hosted.did.with_fragment("key-1");
        let entry = Entry::sign(&operation, &hosted.key, &kid)
            .map_err(|e| AdminError::Internal(e.to_string()))?;
        match self.registry().submit(entry).await {
            Ok(index) => Ok(index),
            // A registry that answers a repeated entry with `replayed` rather than its index:
            // ours was committed if the list it holds is this very token.
            Err(LedgerError::Refused { code, message }) if code == "replayed" => {
                match self
                    .registry()
                    .status_list(list_id, hosted.key.public_key(), now)
                    .await?
                {
                    Some(held) if held.version == version && held.token == token => Ok(held.index),
                    _ => Err(LedgerError::Refused { code, message }.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
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
        let listed = CredentialStatus::parse(&record.status)?;
        action.from(listed).ok_or_else(|| cannot(action, listed))?;
        let capacity = db
            .lists(slug)
            .await?
            .into_iter()
            .find(|l| l.list_id == record.list_id)
            .map(|l| l.capacity)
            .ok_or(AdminError::NotFound)?;
        let mut tx = db.begin_status_change(&record.list_id).await?;
        // Checked again under the list's lock: a change that got there first (a revocation
        // above all) is not overwritten.
        let current = locked_status(&mut tx, credential_id).await?;
        let next = action
            .from(current)
            .ok_or_else(|| cannot(action, current))?;
        tx.set_status(credential_id, next.as_str()).await?;
        let states = tx.states(&record.list_id).await?;
        let token = self.status_token(hosted, &record.list_id, capacity, &states, now)?;
        let status = match self
            .publish(hosted, &record.list_id, tx.version, token, now)
            .await
        {
            Ok(_) => next,
            Err(AdminError::Registry(LedgerError::Refused { code, message }))
                if code == "status_list" =>
            {
                tx.set_status(credential_id, current.as_str()).await?;
                let change = Pending {
                    hosted,
                    operator,
                    record: &record,
                    capacity,
                    action,
                    now,
                };
                let refused = LedgerError::Refused { code, message };
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
        let action_name = match action {
            StatusAction::Revoke => "revoked",
            StatusAction::Suspend => "suspended",
            StatusAction::Unsuspend => "unsuspended",
        };
        tx.audit(
            &new_id(),
            slug,
            &operator.id,
            action_name,
            &record.type_id,
            Some(credential_id),
            Some(reason.code()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(CredentialRecord {
            id: record.id,
            type_id: record.type_id,
            status,
            status_list: record.list_id,
            status_index: record.status_index,
            issued_at: record.issued_at,
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
            operator,
            record,
            capacity,
            action,
            now,
        } = *change;
        let list_id = &record.list_id;
        let Some(published) = self
            .registry()
            .status_list(list_id, hosted.key.public_key(), now)
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
                tx.set_status(&record.id, next.as_str()).await?;
                Settled::Changed(next)
            }
            None if target == action.goal() => Settled::AlreadyThere,
            None => Settled::Refused(target),
        };
        let states = tx.states(list_id).await?;
        let ours = Self::status_list(capacity, &states)?;
        let republished = ours.as_bytes() != theirs.as_bytes();
        if republished {
            tx.raise_version(list_id, published.version + 1).await?;
            let token = self.sign_status_list(hosted, list_id, &ours, now)?;
            self.publish(hosted, list_id, tx.version, token, now)
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
        for (id, type_id, index, status) in entries {
            let ours = CredentialStatus::parse(&status)?;
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
                tx.set_status(&id, merged.as_str()).await?;
                adopted.push((id, type_id, merged));
            }
        }
        Ok(adopted)
    }

    /// The issuer's credentials (metadata only), optionally for one subject reference.
    pub async fn credentials(
        &self,
        operator: &Operator,
        slug: &str,
        subject: Option<&str>,
    ) -> Result<Vec<CredentialRecord>, AdminError> {
        let hosted = self.hosted(slug)?;
        if operator.issuer != slug {
            return Err(AdminError::Forbidden("this token is for another issuer"));
        }
        let subject_ref = subject.map(|s| Self::subject_ref(hosted, s));
        self.inner
            .db
            .credentials(slug, subject_ref.as_deref(), 500)
            .await?
            .into_iter()
            .filter(|c| operator.types.contains(&c.type_id))
            .map(|c| {
                Ok(CredentialRecord {
                    status: CredentialStatus::parse(&c.status)?,
                    id: c.id,
                    type_id: c.type_id,
                    status_list: c.list_id,
                    status_index: c.status_index,
                    issued_at: c.issued_at,
                })
            })
            .collect()
    }

    /// The issuer's credentials (metadata only) that match `query`, newest first, with the
    /// offer each was issued from: what a clerk searches to find what to revoke. An operator
    /// sees only its own issuer's credentials of its own types. A citizen is matched by the
    /// keyed hash of their [`Subject`]'s canonical text (and, for a number, of the text as
    /// typed, which is what an offer made over the API keeps), never by the text itself.
    pub async fn find_credentials(
        &self,
        operator: &Operator,
        slug: &str,
        query: &CredentialQuery,
    ) -> Result<Vec<ListedCredential>, AdminError> {
        let hosted = self.hosted(slug)?;
        if operator.issuer != slug {
            return Err(AdminError::Forbidden("this token is for another issuer"));
        }
        let types = match &query.type_id {
            Some(type_id) => {
                operator.may(slug, type_id)?;
                vec![type_id.clone()]
            }
            None => operator.types.clone(),
        };
        let mut subject_refs: Vec<String> = Vec::new();
        if let Some(subject) = &query.subject {
            for text in std::iter::once(&subject.canonical).chain(&subject.as_given) {
                let subject_ref = Self::subject_ref(hosted, text);
                if !subject_refs.contains(&subject_ref) {
                    subject_refs.push(subject_ref);
                }
            }
        }
        let filter = db::CredentialFilter {
            issuer: slug,
            types: &types,
            status: query.status.map(CredentialStatus::as_str),
            offer_id: query.offer_id.as_deref(),
            issued_from: query.issued_from,
            issued_before: query.issued_before,
            subject_refs: query.subject.as_ref().map(|_| subject_refs.as_slice()),
            limit: match query.limit {
                0 => 100,
                n => n.min(1_000) as i64,
            },
        };
        self.inner
            .db
            .find_credentials(&filter)
            .await?
            .into_iter()
            .map(|(c, offer_id)| {
                Ok(ListedCredential {
                    record: CredentialRecord {
                        status: CredentialStatus::parse(&c.status)?,
                        id: c.id,
                        type_id: c.type_id,
                        status_list: c.list_id,
                        status_index: c.status_index,
                        issued_at: c.issued_at,
                    },
                    offer_id,
                })
            })
            .collect()
    }

    /// The credential issued from `offer_id`: a clerk revokes or suspends by the offer id given
    /// at issuance. Refused with [`AdminError::Conflict`] while the offer has no credential
    /// yet (it says the offer's state).
    pub async fn credential_of_offer(
        &self,
        operator: &Operator,
        slug: &str,
        offer_id: &str,
    ) -> Result<String, AdminError> {
        self.hosted(slug)?;
        let offer = self
            .inner
            .db
            .offer(offer_id)
            .await?
            .filter(|o| o.issuer == slug)
            .ok_or(AdminError::NotFound)?;
        operator.may(slug, &offer.type_id)?;
        offer.credential_id.ok_or_else(|| {
            AdminError::Conflict(format!(
                "offer {offer_id} is {state}: no credential was issued from it \
                 (제안 {offer_id}의 상태는 {state}이며, 이 제안으로 발급된 자격증명이 없습니다)",
                state = offer.state
            ))
        })
    }

    /// Anchors unanchored audit events in the registry, one `audit` entry per issuer with
    /// counts by action, type and reason. Returns how many events were anchored.
    pub async fn anchor_audit(&self) -> Result<usize, AdminError> {
        self.anchor_audit_via(|entry| async move { Ok(self.registry().submit(entry).await?) })
            .await
    }

    /// [`IssuerService::anchor_audit`], appending each entry with `submit` (which returns its
    /// log index): for a registry in the same process that is shutting down its HTTP side.
    pub async fn anchor_audit_via<F, Fut>(&self, submit: F) -> Result<usize, AdminError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<u64, AdminError>>,
    {
        let mut anchored = 0;
        for hosted in self.inner.issuers.values() {
            let events = self.inner.db.unanchored_audit(&hosted.slug).await?;
            if events.is_empty() {
                continue;
            }
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for (_, action, type_id, reason, _) in &events {
                *counts.entry(format!("{action}:{type_id}")).or_default() += 1;
                if let Some(reason) = reason {
                    *counts.entry(format!("reason:{reason}")).or_default() += 1;
                }
            }
            let operation = Operation::Audit {
                issuer: hosted.did.clone(),
                period_start: events.first().map_or(0, |e| e.4),
                period_end: events.last().map_or(0, |e| e.4),
                counts,
            };
            let entry = Entry::sign(&operation, &hosted.key, &hosted.did.with_fragment("key-1"))
                .map_err(|e| AdminError::Internal(e.to_string()))?;
            let index = submit(entry).await?;
            let ids: Vec<String> = events.into_iter().map(|e| e.0).collect();
            self.inner.db.mark_anchored(&ids, index).await?;
            anchored += ids.len();
        }
        Ok(anchored)
    }

    /// Expires old offers and sweeps used-up nonces and tokens.
    pub async fn housekeeping(&self, now: i64) -> Result<(), AdminError> {
        self.inner
            .db
            .expire_offers(now, self.inner.config.token_ttl)
            .await?;
        self.inner.db.sweep(now).await?;
        Ok(())
    }

    /// Credential issuer metadata for `slug`.
    pub fn metadata(&self, slug: &str) -> Result<oid4vci::IssuerMetadata, AdminError> {
        let hosted = self.hosted(slug)?;
        let id = self.issuer_id(slug);
        // The types whose descriptor names this issuer; an issuer no descriptor names may offer any.
        let named: Vec<_> = self
            .inner
            .catalog
            .iter()
            .filter(|ty| ty.descriptor().issuers.iter().any(|i| i.slug == slug))
            .collect();
        let types = if named.is_empty() {
            self.inner.catalog.iter().collect()
        } else {
            named
        };
        let configurations = types
            .into_iter()
            .flat_map(|ty| Format::ALL.map(|format| (ty, format)))
            .map(|(ty, format)| {
                let d = ty.descriptor();
                let algs = vec!["ES256".to_owned(), "EdDSA".to_owned()];
                (
                    format.configuration_id(&d.id),
                    oid4vci::CredentialConfiguration {
                        format: format.name().into(),
                        vct: Some(d.vct.clone()),
                        cryptographic_binding_methods_supported: vec![
                            "jwk".into(),
                            "did:key".into(),
                            "did:jwk".into(),
                        ],
                        credential_signing_alg_values_supported: vec!["ES256".into()],
                        proof_types_supported: [(
                            "jwt".to_owned(),
                            oid4vci::ProofType {
                                proof_signing_alg_values_supported: algs,
                            },
                        )]
                        .into_iter()
                        .collect(),
                        credential_metadata: Some(oid4vci::CredentialMetadata {
                            display: vec![oid4vci::Display {
                                name: d.name.clone(),
                                locale: Some("en".into()),
                                description: Some(d.description.clone()),
                            }],
                            claims: ty
                                .schema()
                                .get("properties")
                                .and_then(Value::as_object)
                                .map(|p| {
                                    p.keys()
                                        .map(|k| oid4vci::ClaimDescription {
                                            path: vec![k.clone()],
                                            mandatory: Some(
                                                d.always_disclosed
                                                    .iter()
                                                    .any(|a| a.trim_start_matches('/') == k),
                                            ),
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }),
                    },
                )
            })
            .collect();
        Ok(oid4vci::IssuerMetadata {
            credential_endpoint: format!("{id}/credential"),
            nonce_endpoint: Some(format!("{id}/nonce")),
            authorization_servers: None,
            credential_configurations_supported: configurations,
            display: vec![oid4vci::Display {
                name: hosted.name.clone(),
                locale: Some("en".into()),
                description: None,
            }],
            credential_issuer: id,
        })
    }

    /// OAuth authorization server metadata for `slug`.
    pub fn authorization_server(
        &self,
        slug: &str,
    ) -> Result<oid4vci::AuthorizationServerMetadata, AdminError> {
        self.hosted(slug)?;
        let id = self.issuer_id(slug);
        Ok(oid4vci::AuthorizationServerMetadata {
            token_endpoint: format!("{id}/token"),
            issuer: id,
            grant_types_supported: vec![oid4vci::PRE_AUTHORIZED_GRANT.into()],
            anonymous_access: true,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn qr_svg(text: &str) -> Result<String, AdminError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_kind_and_expiry() {
        let payload = token_payload(ACCESS_TOKEN, 1_000, b"offer-1");
        assert_eq!(
            token_body(&payload, ACCESS_TOKEN, 999),
            Some((1_000, &b"offer-1"[..]))
        );
        assert_eq!(
            token_body(&payload, ACCESS_TOKEN, 1_000),
            None,
            "expired at its expiry"
        );
        assert_eq!(
            token_body(&payload, NONCE, 999),
            None,
            "an access token is not a nonce"
        );
        assert_eq!(
            token_body(&payload[..5], ACCESS_TOKEN, 0),
            None,
            "truncated"
        );
        assert_eq!(token_body(&[], ACCESS_TOKEN, 0), None);
    }

    #[test]
    fn dates_are_read_as_people_type_them() {
        let date = CalendarDate {
            year: 1994,
            month: 3,
            day: 15,
        };
        for text in [
            "1994-03-15",
            "19940315",
            "1994.3.15",
            "1994/03/15",
            " 1994. 3. 15. ",
        ] {
            assert_eq!(text.parse::<CalendarDate>(), Ok(date), "{text}");
        }
        assert_eq!(date.to_string(), "1994-03-15");
        for text in [
            "1994-02-30",
            "1994-13-01",
            "94-03-15",
            "1994-03",
            "1994-03-15T00:00",
            "",
            "2023-02-29",
        ] {
            assert_eq!(
                text.parse::<CalendarDate>(),
                Err(SubjectError::Date),
                "{text}"
            );
        }
        assert_eq!("2024-02-29".parse::<CalendarDate>().map(|d| d.day), Ok(29));
        // Known answers: the epoch, a leap day, and a day before the epoch.
        for (text, days) in [
            ("1970-01-01", 0),
            ("2000-02-29", 11_016),
            ("1969-12-31", -1),
        ] {
            let date: CalendarDate = text.parse().unwrap();
            assert_eq!(date.days_since_epoch(), days, "{text}");
            assert_eq!(CalendarDate::from_days_since_epoch(days), date);
        }
    }

    #[test]
    fn subjects_are_normalised_before_hashing_and_never_shown() {
        let number = Subject::number("SC-2026-000001").unwrap();
        assert_eq!(number.canonical(), "number:SC2026000001");
        assert_eq!(
            Subject::number(" sc 2026-000001 ").unwrap().canonical(),
            number.canonical()
        );
        assert_eq!(Subject::number(" - "), Err(SubjectError::Number));
        let person = Subject::person("Kim  Minji", "1994.3.15").unwrap();
        assert_eq!(person.canonical(), "person:kimminji|1994-03-15");
        assert_eq!(
            Subject::person(" KIM MINJI", "19940315")
                .unwrap()
                .canonical(),
            person.canonical()
        );
        assert_eq!(
            Subject::person("김민지", "1994-03-15").unwrap().canonical(),
            "person:김민지|1994-03-15"
        );
        // Hangul as separate jamo (as some keyboards and systems send it) and full-width
        // characters are the same citizen.
        let jamo = "\u{1100}\u{1175}\u{11B7}\u{1106}\u{1175}\u{11AB}\u{110C}\u{1175}";
        assert_eq!(
            Subject::person(jamo, "1994-03-15").unwrap().canonical(),
            "person:김민지|1994-03-15"
        );
        assert_eq!(
            Subject::number("ＳＣ－２０２６－０００００１")
                .unwrap()
                .canonical(),
            number.canonical()
        );
        assert_eq!(Subject::person(" ", "1994-03-15"), Err(SubjectError::Name));
        assert_eq!(
            Subject::person("Kim", "03/15/1994"),
            Err(SubjectError::Date)
        );
        assert_eq!(format!("{person:?}"), "Subject(..)");
    }
}
