//! All of the issuer's SQL, over sqlx's `Any` driver (SQLite or PostgreSQL; schema in
//! `migrations/<db>/issuer`).

use std::sync::{Arc, Weak};

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::{Mutex, mpsc, oneshot};

use dojang_migrations::{Backend, Service};

/// Transaction codes evaluated per offer before it is locked. The database enforces it: an
/// attempt is claimed ([`Db::claim_tx_attempt`]) before a code is compared, and redemption
/// ([`Db::redeem`]) re-checks the count, so concurrent requests cannot buy extra guesses.
pub const MAX_TX_ATTEMPTS: i64 = 5;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The database returned an error.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Opening or migrating failed.
    #[error("{0}")]
    Open(#[from] dojang_migrations::OpenError),
    /// Stored data is inconsistent.
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    /// The shared transaction holding this write failed to commit; nothing of it was kept.
    #[error("commit failed: {0}")]
    Commit(String),
}

impl DbError {
    /// Whether this is a unique-constraint violation (a lost race, a duplicate).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// A hosted issuer as stored.
#[derive(Debug, Clone)]
pub struct IssuerRow {
    /// Short name in URLs (`seoul`).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Its `did:dojang`.
    pub did: String,
    /// The signing key, sealed.
    pub sealed_key: String,
    /// The data secret (subject-reference pepper, claims key), sealed.
    pub sealed_secret: String,
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
    /// Hashed subject reference.
    pub subject_ref: Option<String>,
    /// SHA-256 of the transaction code, if one is required.
    pub tx_code_hash: Option<Vec<u8>>,
    /// Transaction codes evaluated so far (each one claims an attempt before it is compared).
    pub tx_attempts: i64,
    /// `open`, `redeemed`, `issued`, `locked`, `expired`.
    pub state: String,
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
    /// `valid`, `revoked` or `suspended`.
    pub status: String,
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
    pub async fn open(url: &str) -> Result<Self, DbError> {
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
    pub async fn insert_issuer(&self, row: &IssuerRow, now: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO issuer_issuers (slug, name, did, sealed_key, sealed_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&row.slug)
        .bind(&row.name)
        .bind(&row.did)
        .bind(&row.sealed_key)
        .bind(&row.sealed_secret)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every hosted issuer.
    pub async fn issuers(&self) -> Result<Vec<IssuerRow>, DbError> {
        sqlx::query(
            "SELECT slug, name, did, sealed_key, sealed_secret FROM issuer_issuers ORDER BY slug",
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
                sealed_secret: r.try_get("sealed_secret")?,
            })
        })
        .collect()
    }

    // ---- operators

    /// Records an operator with the hash of its token.
    pub async fn insert_operator(
        &self,
        row: &OperatorRow,
        token_hash: &[u8],
        now: i64,
    ) -> Result<(), DbError> {
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
    ) -> Result<Option<OperatorRow>, DbError> {
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

    // ---- offers

    /// Records an offer. With an idempotency key already used for this issuer, records nothing
    /// and returns the existing offer's id.
    pub async fn insert_offer(
        &self,
        row: &OfferRow,
        code_hash: &[u8],
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<Result<(), String>, DbError> {
        let inserted = sqlx::query(
            "INSERT INTO issuer_offers (id, issuer, type, claims_sealed, subject_ref, code_hash, tx_code_hash, \
             tx_attempts, state, operator, idempotency_key, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 'open', $8, $9, $10, $11) \
             ON CONFLICT (issuer, idempotency_key) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.issuer)
        .bind(&row.type_id)
        .bind(&row.claims_sealed)
        .bind(&row.subject_ref)
        .bind(code_hash.to_vec())
        .bind(row.tx_code_hash.clone())
        .bind(&row.operator)
        .bind(idempotency_key)
        .bind(row.expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Ok(()));
        }
        let existing =
            sqlx::query("SELECT id FROM issuer_offers WHERE issuer = $1 AND idempotency_key = $2")
                .bind(&row.issuer)
                .bind(idempotency_key)
                .fetch_one(&self.pool)
                .await?;
        Ok(Err(existing.try_get("id")?))
    }

    /// The offer with this pre-authorized code hash.
    pub async fn offer_by_code(&self, code_hash: &[u8]) -> Result<Option<OfferRow>, DbError> {
        self.offer_where("code_hash = $1", code_hash.to_vec()).await
    }

    /// The offer with this id.
    pub async fn offer(&self, id: &str) -> Result<Option<OfferRow>, DbError> {
        self.offer_where("id = $1", id.to_owned()).await
    }

    async fn offer_where<T>(
        &self,
        condition: &'static str,
        value: T,
    ) -> Result<Option<OfferRow>, DbError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
    {
        let sql = format!(
            "SELECT id, issuer, type, claims_sealed, subject_ref, tx_code_hash, tx_attempts, state, operator, issued_formats, \
             credential_id, expires_at FROM issuer_offers WHERE {condition}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(offer_row).transpose()
    }

    /// Claims one transaction-code attempt of an open offer, counting and checking in one
    /// statement; returns the attempt's number, or `None` if the offer is not open or its
    /// attempts are used up — then no code may be compared.
    pub async fn claim_tx_attempt(&self, id: &str) -> Result<Option<i64>, DbError> {
        let row = sqlx::query(
            "UPDATE issuer_offers SET tx_attempts = tx_attempts + 1 \
             WHERE id = $1 AND state = 'open' AND tx_attempts < $2 RETURNING tx_attempts",
        )
        .bind(id)
        .bind(MAX_TX_ATTEMPTS)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("tx_attempts")).transpose()?)
    }

    /// Locks an open offer whose transaction-code attempts are used up; `false` if it was not
    /// open or has attempts left.
    pub async fn lock_offer(&self, id: &str) -> Result<bool, DbError> {
        let changed = sqlx::query(
            "UPDATE issuer_offers SET state = 'locked' \
             WHERE id = $1 AND state = 'open' AND tx_attempts >= $2",
        )
        .bind(id)
        .bind(MAX_TX_ATTEMPTS)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Expires offers past their time and drops claims no wallet can ask for any more; returns
    /// how many offers expired. A redeemed offer (and an issued one still holding claims for
    /// its other format) gets `grace` seconds more: the wallet's access token may outlive the
    /// offer by that much.
    pub async fn expire_offers(&self, now: i64, grace: i64) -> Result<u64, DbError> {
        let mut tx = self.pool.begin().await?;
        let expired = sqlx::query(
            "UPDATE issuer_offers SET state = 'expired', claims_sealed = NULL \
             WHERE (state = 'open' AND expires_at <= $1) OR (state = 'redeemed' AND expires_at <= $2)",
        )
        .bind(now)
        .bind(now - grace)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE issuer_offers SET claims_sealed = NULL \
             WHERE state = 'issued' AND claims_sealed IS NOT NULL AND expires_at <= $1",
        )
        .bind(now - grace)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(expired)
    }

    // ---- nonces

    /// Forgets used nonces that have expired anyway.
    pub async fn sweep(&self, now: i64) -> Result<(), DbError> {
        sqlx::query("DELETE FROM issuer_used_nonces WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- status lists and credentials

    /// The issuer's status lists, oldest first.
    pub async fn lists(&self, issuer: &str) -> Result<Vec<ListRow>, DbError> {
        sqlx::query("SELECT list_id, capacity, version FROM issuer_status_lists WHERE issuer = $1 ORDER BY created_at, list_id")
            .bind(issuer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(ListRow { list_id: r.try_get("list_id")?, capacity: uint(r, "capacity")?, version: uint(r, "version")? }))
            .collect()
    }

    /// Records a new list at version `version`.
    pub async fn insert_list(&self, issuer: &str, list: &ListRow, now: i64) -> Result<(), DbError> {
        sqlx::query("INSERT INTO issuer_status_lists (list_id, issuer, capacity, version, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&list.list_id)
            .bind(issuer)
            .bind(list.capacity as i64)
            .bind(list.version as i64)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Indices already used in a list.
    pub async fn used_indices(&self, list_id: &str) -> Result<Vec<u64>, DbError> {
        sqlx::query("SELECT status_index FROM issuer_credentials WHERE list_id = $1")
            .bind(list_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| uint(r, "status_index"))
            .collect()
    }

    /// A credential record.
    pub async fn credential(&self, id: &str) -> Result<Option<CredentialRow>, DbError> {
        let row = sqlx::query(
            "SELECT id, issuer, type, list_id, status_index, status, subject_ref, issued_at FROM issuer_credentials WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(credential_row).transpose()
    }

    /// The issuer's credentials of `types`, newest first, optionally for one subject reference.
    pub async fn credentials(
        &self,
        issuer: &str,
        subject_ref: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CredentialRow>, DbError> {
        let rows = match subject_ref {
            Some(subject) => {
                sqlx::query(
                    "SELECT id, issuer, type, list_id, status_index, status, subject_ref, issued_at FROM issuer_credentials \
                     WHERE issuer = $1 AND subject_ref = $2 ORDER BY issued_at DESC LIMIT $3",
                )
                .bind(issuer)
                .bind(subject)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT id, issuer, type, list_id, status_index, status, subject_ref, issued_at FROM issuer_credentials \
                     WHERE issuer = $1 ORDER BY issued_at DESC LIMIT $2",
                )
                .bind(issuer)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(credential_row).collect()
    }

    /// The issuer's credentials that match `filter`, newest first, each with the offer it was
    /// issued from.
    pub async fn find_credentials(
        &self,
        filter: &CredentialFilter<'_>,
    ) -> Result<Vec<(CredentialRow, Option<String>)>, DbError> {
        if filter.types.is_empty() || filter.subject_refs.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        // Only placeholders are formatted into the statement; every value is bound.
        let mut sql = String::from(
            "SELECT c.id, c.issuer, c.type, c.list_id, c.status_index, c.status, c.subject_ref, c.issued_at, \
             o.id AS offer_id FROM issuer_credentials c LEFT JOIN issuer_offers o ON o.credential_id = c.id \
             WHERE c.issuer = $1",
        );
        let mut next = 2;
        let mut placeholders = |count: usize| {
            let list: Vec<String> = (next..next + count).map(|n| format!("${n}")).collect();
            next += count;
            list.join(", ")
        };
        sql += &format!(" AND c.type IN ({})", placeholders(filter.types.len()));
        if filter.status.is_some() {
            sql += &format!(" AND c.status = {}", placeholders(1));
        }
        if filter.offer_id.is_some() {
            sql += &format!(" AND o.id = {}", placeholders(1));
        }
        if filter.issued_from.is_some() {
            sql += &format!(" AND c.issued_at >= {}", placeholders(1));
        }
        if filter.issued_before.is_some() {
            sql += &format!(" AND c.issued_at < {}", placeholders(1));
        }
        if let Some(refs) = filter.subject_refs {
            sql += &format!(" AND c.subject_ref IN ({})", placeholders(refs.len()));
        }
        sql += &format!(" ORDER BY c.issued_at DESC, c.id LIMIT {}", placeholders(1));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(filter.issuer);
        for type_id in filter.types {
            query = query.bind(type_id);
        }
        if let Some(status) = filter.status {
            query = query.bind(status);
        }
        if let Some(offer_id) = filter.offer_id {
            query = query.bind(offer_id);
        }
        if let Some(from) = filter.issued_from {
            query = query.bind(from);
        }
        if let Some(before) = filter.issued_before {
            query = query.bind(before);
        }
        for subject_ref in filter.subject_refs.unwrap_or_default() {
            query = query.bind(subject_ref);
        }
        query
            .bind(filter.limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((credential_row(r)?, r.try_get("offer_id")?)))
            .collect()
    }

    /// Records an issuance — the nonce used, the credential at its status index, the offer
    /// closed, the audit event — all together or not at all. Conflicts are reported, not
    /// raised: nothing of a conflicting issuance is kept.
    pub async fn issue(&self, issuance: Issuance) -> Result<Result<(), Conflict>, DbError> {
        self.write(Write::Issue(Box::new(issuance))).await
    }

    /// Records the issuance of an issued credential in another format (see [`AddedFormat`]).
    pub async fn add_format(&self, added: AddedFormat) -> Result<Result<(), Conflict>, DbError> {
        self.write(Write::AddFormat(added)).await
    }

    /// Moves an offer from `open` to `redeemed`; `false` if it was not open (a replay or a
    /// lost race) or more than [`MAX_TX_ATTEMPTS`] transaction codes were evaluated for it.
    pub async fn redeem(&self, offer_id: &str) -> Result<bool, DbError> {
        Ok(self
            .write(Write::Redeem(offer_id.to_owned()))
            .await?
            .is_ok())
    }

    /// Applies `write` atomically. On SQLite, whose single writer pays one fsync per commit,
    /// concurrent writes share a group commit; PostgreSQL runs them side by side in
    /// transactions of their own and coalesces their WAL flushes itself.
    async fn write(&self, write: Write) -> Result<Result<(), Conflict>, DbError> {
        match &self.group {
            Some(group) => group.write(write).await,
            None => {
                let mut tx = self.pool.begin().await?;
                let outcome = write.apply(&mut tx).await?;
                if outcome.is_ok() {
                    tx.commit().await?;
                }
                Ok(outcome)
            }
        }
    }

    /// Starts a status change on `list_id`: takes the list's row lock and bumps its version.
    pub async fn begin_status_change(&self, list_id: &str) -> Result<StatusTx, DbError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("UPDATE issuer_status_lists SET version = version + 1 WHERE list_id = $1 RETURNING version")
            .bind(list_id)
            .fetch_one(&mut *tx)
            .await?;
        Ok(StatusTx {
            version: uint(&row, "version")?,
            tx,
        })
    }

    // ---- audit

    /// Records an audit event.
    #[allow(clippy::too_many_arguments)]
    pub async fn audit(
        &self,
        id: &str,
        issuer: &str,
        operator: &str,
        action: &str,
        type_id: &str,
        credential_id: Option<&str>,
        reason: Option<&str>,
        at: i64,
    ) -> Result<(), DbError> {
        audit_insert(
            id,
            issuer,
            operator,
            action,
            type_id,
            credential_id,
            reason,
            at,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Unanchored audit events of an issuer: (id, action, type, reason, at).
    pub async fn unanchored_audit(
        &self,
        issuer: &str,
    ) -> Result<Vec<(String, String, String, Option<String>, i64)>, DbError> {
        sqlx::query("SELECT id, action, type, reason, at FROM issuer_audit WHERE issuer = $1 AND anchored_index IS NULL ORDER BY at")
            .bind(issuer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("action")?, r.try_get("type")?, r.try_get("reason")?, r.try_get("at")?)))
            .collect()
    }

    /// Marks audit events anchored at a registry index.
    pub async fn mark_anchored(&self, ids: &[String], index: u64) -> Result<(), DbError> {
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
        DbError,
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

/// What [`Db::find_credentials`] looks for; every filter given must match.
#[derive(Debug, Clone)]
pub struct CredentialFilter<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// Of one of these types.
    pub types: &'a [String],
    /// In this status.
    pub status: Option<&'a str>,
    /// Issued from this offer.
    pub offer_id: Option<&'a str>,
    /// Issued at or after (Unix seconds).
    pub issued_from: Option<i64>,
    /// Issued before (Unix seconds).
    pub issued_before: Option<i64>,
    /// With one of these hashed subject references.
    pub subject_refs: Option<&'a [String]>,
    /// At most this many.
    pub limit: i64,
}

/// Everything one issued credential writes.
#[derive(Debug, Clone)]
pub struct Issuance {
    /// The proof's `c_nonce`, recorded as used.
    pub nonce: String,
    /// When the nonce would have expired anyway (the row can be swept after).
    pub nonce_expires_at: i64,
    /// The credential, at its status index.
    pub credential: CredentialRow,
    /// Its claims, sealed, when the issuer keeps them.
    pub claims_sealed: Option<String>,
    /// When it expires, if it does.
    pub expires_at: Option<i64>,
    /// The redeemed offer it closes.
    pub offer_id: String,
    /// The operator who made the offer, for the audit event.
    pub operator: String,
    /// The audit event's id.
    pub audit_id: String,
    /// The format issued, as its bit.
    pub format: i64,
    /// Whether this was the last format on offer, so the offer's claims can go.
    pub last_format: bool,
}

/// The same credential issued again in another format: no new status index, no new audit
/// event, the offer's claims dropped if this was the last format on offer.
#[derive(Debug, Clone)]
pub struct AddedFormat {
    /// The proof's `c_nonce`, recorded as used.
    pub nonce: String,
    /// When the nonce would have expired anyway.
    pub nonce_expires_at: i64,
    /// The issued offer.
    pub offer_id: String,
    /// The format issued, as its bit.
    pub format: i64,
    /// Whether this was the last format on offer.
    pub last_format: bool,
}

/// Why an issuance was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The nonce was used before.
    NonceUsed,
    /// Another issuance took the status index meanwhile.
    IndexTaken,
    /// The offer is not open (token) or not redeemed (credential) any more.
    OfferClosed,
}

enum Write {
    Redeem(String),
    Issue(Box<Issuance>),
    AddFormat(AddedFormat),
}

impl Write {
    /// Applies the write on `conn`, inside the shared transaction. Conflicts are found with
    /// `ON CONFLICT DO NOTHING` and `WHERE state = ..`, so they never abort a PostgreSQL
    /// transaction.
    async fn apply(&self, conn: &mut AnyConnection) -> Result<Result<(), Conflict>, DbError> {
        let closed = |changed: u64| {
            if changed == 1 {
                Ok(())
            } else {
                Err(Conflict::OfferClosed)
            }
        };
        let issuance = match self {
            Write::Redeem(offer_id) => {
                let changed = sqlx::query(
                    "UPDATE issuer_offers SET state = 'redeemed' \
                     WHERE id = $1 AND state = 'open' AND tx_attempts <= $2",
                )
                .bind(offer_id)
                .bind(MAX_TX_ATTEMPTS)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                return Ok(closed(changed));
            }
            Write::AddFormat(added) => {
                if !use_nonce(conn, &added.nonce, added.nonce_expires_at).await? {
                    return Ok(Err(Conflict::NonceUsed));
                }
                let sql = if added.last_format {
                    "UPDATE issuer_offers SET issued_formats = issued_formats | $1, claims_sealed = NULL \
                     WHERE id = $2 AND state = 'issued' AND (issued_formats & $1) = 0"
                } else {
                    "UPDATE issuer_offers SET issued_formats = issued_formats | $1 \
                     WHERE id = $2 AND state = 'issued' AND (issued_formats & $1) = 0"
                };
                let changed = sqlx::query(sql)
                    .bind(added.format)
                    .bind(&added.offer_id)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                return Ok(closed(changed));
            }
            Write::Issue(issuance) => issuance,
        };
        if !use_nonce(conn, &issuance.nonce, issuance.nonce_expires_at).await? {
            return Ok(Err(Conflict::NonceUsed));
        }
        let row = &issuance.credential;
        let claimed = sqlx::query(
            "INSERT INTO issuer_credentials (id, issuer, type, list_id, status_index, status, subject_ref, claims_sealed, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (list_id, status_index) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.issuer)
        .bind(&row.type_id)
        .bind(&row.list_id)
        .bind(row.status_index as i64)
        .bind(&row.status)
        .bind(&row.subject_ref)
        .bind(&issuance.claims_sealed)
        .bind(row.issued_at)
        .bind(issuance.expires_at)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if claimed != 1 {
            return Ok(Err(Conflict::IndexTaken));
        }
        let sql = if issuance.last_format {
            "UPDATE issuer_offers SET state = 'issued', credential_id = $1, issued_formats = $2, claims_sealed = NULL \
             WHERE id = $3 AND state = 'redeemed'"
        } else {
            "UPDATE issuer_offers SET state = 'issued', credential_id = $1, issued_formats = $2 \
             WHERE id = $3 AND state = 'redeemed'"
        };
        let changed = sqlx::query(sql)
            .bind(&row.id)
            .bind(issuance.format)
            .bind(&issuance.offer_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        if changed != 1 {
            return Ok(Err(Conflict::OfferClosed));
        }
        sqlx::query(
            "INSERT INTO issuer_audit (id, issuer, operator, action, type, credential_id, reason, at) VALUES ($1, $2, $3, 'issued', $4, $5, NULL, $6)",
        )
        .bind(&issuance.audit_id)
        .bind(&row.issuer)
        .bind(&issuance.operator)
        .bind(&row.type_id)
        .bind(&row.id)
        .bind(row.issued_at)
        .execute(&mut *conn)
        .await?;
        Ok(Ok(()))
    }
}

/// Records a `c_nonce` as used; `false` if it already was.
async fn use_nonce(
    conn: &mut AnyConnection,
    nonce: &str,
    expires_at: i64,
) -> Result<bool, DbError> {
    let inserted = sqlx::query(
        "INSERT INTO issuer_used_nonces (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
    )
    .bind(nonce)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Group commit for SQLite: concurrent writes share one transaction, each inside its own
/// savepoint, and a committer task commits whatever has gathered — so a burst of issuances
/// pays for one durable commit (one fsync) instead of one each. A write is acknowledged only
/// after the commit that holds it; a failed commit fails every write in it.
///
/// The batch's lock is held through the commit: SQLite has one writer anyway, and writers
/// queued on the lock (FIFO) form the next batch.
struct GroupCommit {
    pool: AnyPool,
    batch: Mutex<Batch>,
    /// One message per opened batch, to the committer.
    opened: mpsc::UnboundedSender<()>,
}

#[derive(Default)]
struct Batch {
    tx: Option<sqlx::Transaction<'static, sqlx::Any>>,
    acknowledge: Vec<oneshot::Sender<Result<(), String>>>,
}

impl GroupCommit {
    fn start(pool: AnyPool) -> Arc<Self> {
        let (opened, mut batches) = mpsc::unbounded_channel();
        let group = Arc::new(GroupCommit {
            pool,
            batch: Mutex::default(),
            opened,
        });
        let weak: Weak<GroupCommit> = Arc::downgrade(&group);
        tokio::spawn(async move {
            // Ends when the last `Db` is dropped (the sender goes with it).
            while batches.recv().await.is_some() {
                let Some(group) = weak.upgrade() else { break };
                let mut batch = group.batch.lock().await;
                let Some(tx) = batch.tx.take() else { continue };
                let outcome = tx.commit().await.map_err(|e| e.to_string());
                for acknowledge in batch.acknowledge.drain(..) {
                    let _ = acknowledge.send(outcome.clone());
                }
            }
        });
        group
    }

    async fn write(self: &Arc<Self>, write: Write) -> Result<Result<(), Conflict>, DbError> {
        // On a task of its own, so a caller going away mid-write cannot leave a savepoint open.
        let group = self.clone();
        let task = tokio::spawn(async move {
            let mut batch = group.batch.lock().await;
            let acknowledged = match group.add(&mut batch, &write).await {
                Ok(Ok(())) => {
                    let (sender, receiver) = oneshot::channel();
                    batch.acknowledge.push(sender);
                    receiver
                }
                other => return other,
            };
            drop(batch);
            match acknowledged.await {
                Ok(Ok(())) => Ok(Ok(())),
                Ok(Err(e)) => Err(DbError::Commit(e)),
                Err(_) => Err(DbError::Commit("the committer stopped".into())),
            }
        });
        task.await.map_err(|e| DbError::Commit(e.to_string()))?
    }

    /// Adds `write` to the open batch (opening one if needed) inside a savepoint, undone if
    /// the write conflicts or fails. If even undoing fails, the whole batch is abandoned.
    async fn add(&self, batch: &mut Batch, write: &Write) -> Result<Result<(), Conflict>, DbError> {
        let tx = match &mut batch.tx {
            Some(tx) => tx,
            empty => {
                let tx = empty.insert(self.pool.begin().await?);
                let _ = self.opened.send(());
                tx
            }
        };
        if let Err(e) = sqlx::query("SAVEPOINT write").execute(&mut **tx).await {
            return Err(batch.abandon(e));
        }
        let outcome = write.apply(tx).await;
        let undo = match outcome {
            Ok(Ok(())) => {
                sqlx::query("RELEASE SAVEPOINT write")
                    .execute(&mut **tx)
                    .await
            }
            _ => match sqlx::query("ROLLBACK TO SAVEPOINT write")
                .execute(&mut **tx)
                .await
            {
                Ok(_) => {
                    sqlx::query("RELEASE SAVEPOINT write")
                        .execute(&mut **tx)
                        .await
                }
                Err(e) => Err(e),
            },
        };
        match undo {
            Ok(_) => outcome,
            Err(e) => Err(batch.abandon(e)),
        }
    }
}

impl Batch {
    /// Rolls the batch back after `error` broke its transaction, failing every write in it.
    fn abandon(&mut self, error: sqlx::Error) -> DbError {
        self.tx = None;
        for acknowledge in self.acknowledge.drain(..) {
            let _ = acknowledge.send(Err(format!("the shared transaction broke: {error}")));
        }
        error.into()
    }
}

/// A status change in progress: the list's row is locked and its version bumped.
pub struct StatusTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The version this change will publish.
    pub version: u64,
}

impl StatusTx {
    /// A credential's status, as this change sees it (the list's lock held).
    pub async fn status(&mut self, credential_id: &str) -> Result<Option<String>, DbError> {
        sqlx::query("SELECT status FROM issuer_credentials WHERE id = $1")
            .bind(credential_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .map(|r| r.try_get("status"))
            .transpose()
            .map_err(Into::into)
    }

    /// Sets a credential's status; returns its previous status.
    pub async fn set_status(
        &mut self,
        credential_id: &str,
        status: &str,
    ) -> Result<Option<String>, DbError> {
        let previous = sqlx::query("SELECT status FROM issuer_credentials WHERE id = $1")
            .bind(credential_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .map(|r| r.try_get::<String, _>("status"))
            .transpose()?;
        sqlx::query("UPDATE issuer_credentials SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(credential_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(previous)
    }

    /// The non-valid entries of the list: (index, status).
    pub async fn states(&mut self, list_id: &str) -> Result<Vec<(u64, String)>, DbError> {
        sqlx::query("SELECT status_index, status FROM issuer_credentials WHERE list_id = $1 AND status <> 'valid'")
            .bind(list_id)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|r| Ok((uint(r, "status_index")?, r.try_get("status")?)))
            .collect()
    }

    /// Every credential of the list, by index: (id, type, index, status).
    pub async fn entries(
        &mut self,
        list_id: &str,
    ) -> Result<Vec<(String, String, u64, String)>, DbError> {
        sqlx::query("SELECT id, type, status_index, status FROM issuer_credentials WHERE list_id = $1 ORDER BY status_index")
            .bind(list_id)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("type")?, uint(r, "status_index")?, r.try_get("status")?)))
            .collect()
    }

    /// Records an audit event as part of this change (see [`Db::audit`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn audit(
        &mut self,
        id: &str,
        issuer: &str,
        operator: &str,
        action: &str,
        type_id: &str,
        credential_id: Option<&str>,
        reason: Option<&str>,
        at: i64,
    ) -> Result<(), DbError> {
        audit_insert(
            id,
            issuer,
            operator,
            action,
            type_id,
            credential_id,
            reason,
            at,
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Sets the list's version to `version` (after learning the registry's).
    pub async fn raise_version(&mut self, list_id: &str, version: u64) -> Result<(), DbError> {
        sqlx::query("UPDATE issuer_status_lists SET version = $1 WHERE list_id = $2")
            .bind(version as i64)
            .bind(list_id)
            .execute(&mut *self.tx)
            .await?;
        self.version = version;
        Ok(())
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

fn uint(row: &AnyRow, column: &str) -> Result<u64, DbError> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value).map_err(|_| DbError::Corrupt("negative number"))
}

fn offer_row(r: &AnyRow) -> Result<OfferRow, DbError> {
    Ok(OfferRow {
        id: r.try_get("id")?,
        issuer: r.try_get("issuer")?,
        type_id: r.try_get("type")?,
        claims_sealed: r.try_get("claims_sealed")?,
        subject_ref: r.try_get("subject_ref")?,
        tx_code_hash: r.try_get("tx_code_hash")?,
        tx_attempts: r.try_get("tx_attempts")?,
        state: r.try_get("state")?,
        operator: r.try_get("operator")?,
        credential_id: r.try_get("credential_id")?,
        issued_formats: r.try_get("issued_formats")?,
        expires_at: r.try_get("expires_at")?,
    })
}

fn credential_row(r: &AnyRow) -> Result<CredentialRow, DbError> {
    Ok(CredentialRow {
        id: r.try_get("id")?,
        issuer: r.try_get("issuer")?,
        type_id: r.try_get("type")?,
        list_id: r.try_get("list_id")?,
        status_index: uint(r, "status_index")?,
        status: r.try_get("status")?,
        subject_ref: r.try_get("subject_ref")?,
        issued_at: r.try_get("issued_at")?,
    })
}

/// The one statement that records an audit event, alone or inside a change.
#[allow(clippy::too_many_arguments)]
fn audit_insert<'q>(
    id: &'q str,
    issuer: &'q str,
    operator: &'q str,
    action: &'q str,
    type_id: &'q str,
    credential_id: Option<&'q str>,
    reason: Option<&'q str>,
    at: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO issuer_audit (id, issuer, operator, action, type, credential_id, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(issuer)
    .bind(operator)
    .bind(action)
    .bind(type_id)
    .bind(credential_id)
    .bind(reason)
    .bind(at)
}
