//! All of the issuer's SQL, over sqlx's `Any` driver (SQLite or PostgreSQL; schema in
//! `migrations/<db>/issuer`).
//!
//! One file per story, like the service: hosted issuers, operators and the audit trail here;
//! offers in `offers`; status lists and credential records, with the locked status change
//! ([`StatusTx`]), in `status`; the issuance writes (redemption, issuance, used nonces) and
//! SQLite's group commit in `writes`.
//!
//! Offer states and credential statuses are stored as text and read back into their enums
//! ([`OfferState`], [`CredentialStatus`]) as rows are read, so the rest of the issuer never
//! sees the text; text that names no state is [`StoreError::Corrupt`].

use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use dojang_migrations::{Backend, Service};

use crate::service::{CredentialStatus, OfferState};

mod offers;
mod status;
mod writes;

pub use dojang_migrations::StoreError;
pub use status::{CredentialFilter, StatusTx};
pub use writes::{AddedFormat, Conflict, Issuance};

use writes::GroupCommit;

/// Transaction codes evaluated per offer before it is locked. The database enforces it: an
/// attempt is claimed ([`Db::claim_tx_attempt`]) before a code is compared, and redemption
/// ([`Db::redeem`]) re-checks the count, so concurrent requests cannot buy extra guesses.
pub const MAX_TX_ATTEMPTS: i64 = 5;

/// A hosted issuer as stored.
#[derive(Debug, Clone)]
pub struct IssuerRow {
    /// Short name in URLs (`seoul`).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Its `did:dojang`.
    pub did: String,
    /// The signing key, sealed; empty when the key is in an HSM.
    pub sealed_key: String,
    /// The signing key's PKCS#11 URI, when it is in an HSM.
    pub key_uri: Option<String>,
    /// The fragment of the signing key's verification method in the DID document (`key-1`).
    pub key_id: String,
    /// The public keys it signed with before (multikey), newest last.
    pub retired_keys: Vec<String>,
    /// The data secret (subject-reference pepper, claims key), sealed.
    pub sealed_secret: String,
    /// How its purpose keys come from the data secret.
    pub key_derivation: KeyDerivation,
}

/// An issuer's signing key as stored: the columns of [`IssuerRow`] a rotation changes.
#[derive(Debug, Clone)]
pub struct IssuerKey {
    /// Sealed; empty when the key is in an HSM.
    pub sealed_key: String,
    /// Its PKCS#11 URI, when it is in an HSM.
    pub key_uri: Option<String>,
    /// Its verification method's fragment.
    pub key_id: String,
    /// The public keys signed with before (multikey), newest last.
    pub retired_keys: Vec<String>,
}

/// A key change in progress: the issuer's row is changed and locked until [`KeyTx::commit`];
/// dropped, nothing changed.
pub struct KeyTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl KeyTx {
    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// How an issuer's purpose keys (subject-reference pepper, claims key, token key) come from its
/// data secret. Recorded per issuer: what was stored under one derivation is read under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDerivation {
    /// `SHA-256(label ‖ secret)`, and subject references as `SHA-256(pepper ‖ subject)`: issuers
    /// created before HKDF, whose stored subject references and sealed claims depend on it.
    Sha256Label,
    /// HKDF-SHA256 (RFC 5869) with the label as `info`, and subject references as
    /// HMAC-SHA256 under the pepper: every issuer created now.
    HkdfSha256,
}

impl KeyDerivation {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyDerivation::Sha256Label => "sha256-label",
            KeyDerivation::HkdfSha256 => "hkdf-sha256",
        }
    }

    /// The derivation stored as `name`.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        match name {
            "sha256-label" => Ok(KeyDerivation::Sha256Label),
            "hkdf-sha256" => Ok(KeyDerivation::HkdfSha256),
            _ => Err(StoreError::Corrupt("issuer key derivation")),
        }
    }
}

/// An operator as stored.
#[derive(Debug, Clone)]
pub struct OperatorRow {
    /// Operator id.
    pub id: String,
    /// The issuer it acts for.
    pub issuer: String,
    /// Its name.
    pub name: String,
    /// Credential types it may act on.
    pub types: Vec<String>,
    /// Token expiry (Unix seconds), if any.
    pub expires_at: Option<i64>,
    /// Whether it was disabled.
    pub disabled: bool,
}

/// An offer as stored.
#[derive(Debug, Clone)]
pub struct OfferRow {
    /// Offer id.
    pub id: String,
    /// The issuer.
    pub issuer: String,
    /// Credential type.
    pub type_id: String,
    /// Claims, sealed; `None` once issued.
    pub claims_sealed: Option<String>,
    /// Hashed subject reference (a card or document number, or as the API caller gave it).
    pub subject_ref: Option<String>,
    /// Hashed name and birth date, when the type names those claims.
    pub person_ref: Option<String>,
    /// SHA-256 of the transaction code, if one is required.
    pub tx_code_hash: Option<Vec<u8>>,
    /// Transaction codes evaluated so far (each one claims an attempt before it is compared).
    pub tx_attempts: i64,
    /// Where it is in its lifecycle.
    pub state: OfferState,
    /// The operator who created it.
    pub operator: String,
    /// The credential issued from it, once issued.
    pub credential_id: Option<String>,
    /// The formats issued so far, as bits ([`Format::bit`](crate::service::Format::bit)).
    pub issued_formats: i64,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

/// A status list as stored.
#[derive(Debug, Clone)]
pub struct ListRow {
    /// List id (unique in the registry).
    pub list_id: String,
    /// Entries.
    pub capacity: u64,
    /// Last published version.
    pub version: u64,
}

/// A credential record as stored (what revocation needs).
#[derive(Debug, Clone)]
pub struct CredentialRow {
    /// Credential id.
    pub id: String,
    /// The issuer.
    pub issuer: String,
    /// Credential type.
    pub type_id: String,
    /// Its status list.
    pub list_id: String,
    /// Its index in that list.
    pub status_index: u64,
    /// Its status.
    pub status: CredentialStatus,
    /// Hashed subject reference.
    pub subject_ref: Option<String>,
    /// Issuance time.
    pub issued_at: i64,
}

/// The issuer's database.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite's group commit (see [`Db::write`]).
    group: Option<Arc<GroupCommit>>,
}

impl Db {
    /// Opens `url` and applies the issuer's migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let (pool, backend) = dojang_migrations::open(url, Service::Issuer).await?;
        let group = (backend == Backend::Sqlite).then(|| GroupCommit::start(pool.clone()));
        Ok(Db {
            pool,
            backend,
            group,
        })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    // ---- issuers

    /// Records a hosted issuer.
    pub async fn insert_issuer(&self, row: &IssuerRow, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO issuer_issuers (slug, name, did, sealed_key, key_uri, key_id, retired_keys, sealed_secret, key_derivation, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&row.slug)
        .bind(&row.name)
        .bind(&row.did)
        .bind(&row.sealed_key)
        .bind(&row.key_uri)
        .bind(&row.key_id)
        .bind(serde_json::to_string(&row.retired_keys).unwrap_or_else(|_| "[]".into()))
        .bind(&row.sealed_secret)
        .bind(row.key_derivation.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every hosted issuer.
    pub async fn issuers(&self) -> Result<Vec<IssuerRow>, StoreError> {
        sqlx::query(
            "SELECT slug, name, did, sealed_key, key_uri, key_id, retired_keys, sealed_secret, key_derivation FROM issuer_issuers ORDER BY slug",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(IssuerRow {
                slug: r.try_get("slug")?,
                name: r.try_get("name")?,
                did: r.try_get("did")?,
                sealed_key: r.try_get("sealed_key")?,
                key_uri: r.try_get("key_uri")?,
                key_id: r.try_get("key_id")?,
                retired_keys: serde_json::from_str(&r.try_get::<String, _>("retired_keys")?)
                    .map_err(|_| StoreError::Corrupt("retired_keys is not a JSON list"))?,
                sealed_secret: r.try_get("sealed_secret")?,
                key_derivation: KeyDerivation::parse(&r.try_get::<String, _>("key_derivation")?)?,
            })
        })
        .collect()
    }

    /// Starts replacing `slug`'s signing key: the row is changed (and locked) only if its key
    /// is still `from_key_id`; the change takes effect at [`KeyTx::commit`]. `None` when
    /// another rotation got there first.
    pub async fn begin_key_change(
        &self,
        slug: &str,
        from_key_id: &str,
        new: &IssuerKey,
    ) -> Result<Option<KeyTx>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE issuer_issuers SET sealed_key = $1, key_uri = $2, key_id = $3, retired_keys = $4 WHERE slug = $5 AND key_id = $6",
        )
        .bind(&new.sealed_key)
        .bind(&new.key_uri)
        .bind(&new.key_id)
        .bind(serde_json::to_string(&new.retired_keys).unwrap_or_else(|_| "[]".into()))
        .bind(slug)
        .bind(from_key_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        Ok((changed == 1).then_some(KeyTx { tx }))
    }

    // ---- operators

    /// Records an operator with the hash of its token.
    pub async fn insert_operator(
        &self,
        row: &OperatorRow,
        token_hash: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO issuer_operators (id, issuer, name, types, token_hash, expires_at, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
        )
        .bind(&row.id)
        .bind(&row.issuer)
        .bind(&row.name)
        .bind(row.types.join(","))
        .bind(token_hash.to_vec())
        .bind(row.expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The operator holding the token with this hash.
    pub async fn operator_by_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<OperatorRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, issuer, name, types, expires_at, disabled FROM issuer_operators WHERE token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let types: String = r.try_get("types")?;
            let disabled: i64 = r.try_get("disabled")?;
            Ok(OperatorRow {
                id: r.try_get("id")?,
                issuer: r.try_get("issuer")?,
                name: r.try_get("name")?,
                types: types
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                expires_at: r.try_get("expires_at")?,
                disabled: disabled != 0,
            })
        })
        .transpose()
    }

    // ---- audit

    /// Unanchored audit events of an issuer: (id, action, type, reason, at).
    pub async fn unanchored_audit(
        &self,
        issuer: &str,
    ) -> Result<Vec<(String, String, String, Option<String>, i64)>, StoreError> {
        sqlx::query("SELECT id, action, type, reason, at FROM issuer_audit WHERE issuer = $1 AND anchored_index IS NULL ORDER BY at")
            .bind(issuer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("action")?, r.try_get("type")?, r.try_get("reason")?, r.try_get("at")?)))
            .collect()
    }

    /// Marks audit events anchored at a registry index.
    pub async fn mark_anchored(&self, ids: &[String], index: u64) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query("UPDATE issuer_audit SET anchored_index = $1 WHERE id = $2")
                .bind(index as i64)
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Every audit event of an issuer, newest first: (action, type, credential id, reason, at, anchored index).
    #[allow(clippy::type_complexity)]
    pub async fn audit_trail(
        &self,
        issuer: &str,
        limit: i64,
    ) -> Result<
        Vec<(
            String,
            String,
            Option<String>,
            Option<String>,
            i64,
            Option<i64>,
        )>,
        StoreError,
    > {
        sqlx::query(
            "SELECT action, type, credential_id, reason, at, anchored_index FROM issuer_audit WHERE issuer = $1 ORDER BY at DESC LIMIT $2",
        )
        .bind(issuer)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("action")?,
                r.try_get("type")?,
                r.try_get("credential_id")?,
                r.try_get("reason")?,
                r.try_get("at")?,
                r.try_get("anchored_index")?,
            ))
        })
        .collect()
    }
}

/// A non-negative integer column.
fn uint(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt("negative number"))
}
