//! The issuance writes — an offer redeemed, a credential issued, another format of it — each
//! all-or-nothing, and on SQLite group-committed: concurrent writes share one transaction and
//! one fsync, each in a savepoint of its own.

use std::sync::{Arc, Weak};

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{CredentialRow, Db, MAX_TX_ATTEMPTS, StoreError};

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

impl Db {
    /// Records an issuance — the nonce used, the credential at its status index, the offer
    /// closed, the audit event — all together or not at all. Conflicts are reported, not
    /// raised: nothing of a conflicting issuance is kept.
    pub async fn issue(&self, issuance: Issuance) -> Result<Result<(), Conflict>, StoreError> {
        self.write(Write::Issue(Box::new(issuance))).await
    }

    /// Records the issuance of an issued credential in another format (see [`AddedFormat`]).
    pub async fn add_format(&self, added: AddedFormat) -> Result<Result<(), Conflict>, StoreError> {
        self.write(Write::AddFormat(added)).await
    }

    /// Moves an offer from `open` to `redeemed`; `false` if it was not open (a replay or a
    /// lost race) or more than [`MAX_TX_ATTEMPTS`] transaction codes were evaluated for it.
    pub async fn redeem(&self, offer_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .write(Write::Redeem(offer_id.to_owned()))
            .await?
            .is_ok())
    }

    /// Forgets used nonces that have expired anyway.
    pub async fn sweep(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM issuer_used_nonces WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Applies `write` atomically. On SQLite, whose single writer pays one fsync per commit,
    /// concurrent writes share a group commit; PostgreSQL runs them side by side in
    /// transactions of their own and coalesces their WAL flushes itself.
    async fn write(&self, write: Write) -> Result<Result<(), Conflict>, StoreError> {
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
}

enum Write {
    Redeem(String),
    Issue(Box<Issuance>),
    AddFormat(AddedFormat),
}

/// `Ok` if exactly one offer row changed, else the offer was not in the state required.
fn one_offer(changed: u64) -> Result<(), Conflict> {
    if changed == 1 {
        Ok(())
    } else {
        Err(Conflict::OfferClosed)
    }
}

impl Write {
    /// Applies the write on `conn`, inside the shared transaction. Conflicts are found with
    /// `ON CONFLICT DO NOTHING` and `WHERE state = ..`, so they never abort a PostgreSQL
    /// transaction.
    async fn apply(&self, conn: &mut AnyConnection) -> Result<Result<(), Conflict>, StoreError> {
        match self {
            Write::Redeem(offer_id) => redeem(conn, offer_id).await,
            Write::AddFormat(added) => add_format(conn, added).await,
            Write::Issue(issuance) => issue(conn, issuance).await,
        }
    }
}

async fn redeem(
    conn: &mut AnyConnection,
    offer_id: &str,
) -> Result<Result<(), Conflict>, StoreError> {
    let changed = sqlx::query(
        "UPDATE issuer_offers SET state = 'redeemed' \
         WHERE id = $1 AND state = 'open' AND tx_attempts <= $2",
    )
    .bind(offer_id)
    .bind(MAX_TX_ATTEMPTS)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(one_offer(changed))
}

async fn add_format(
    conn: &mut AnyConnection,
    added: &AddedFormat,
) -> Result<Result<(), Conflict>, StoreError> {
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
    Ok(one_offer(changed))
}

async fn issue(
    conn: &mut AnyConnection,
    issuance: &Issuance,
) -> Result<Result<(), Conflict>, StoreError> {
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
    .bind(row.status.as_str())
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

/// Records a `c_nonce` as used; `false` if it already was.
async fn use_nonce(
    conn: &mut AnyConnection,
    nonce: &str,
    expires_at: i64,
) -> Result<bool, StoreError> {
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
pub(super) struct GroupCommit {
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
    pub(super) fn start(pool: AnyPool) -> Arc<Self> {
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

    async fn write(self: &Arc<Self>, write: Write) -> Result<Result<(), Conflict>, StoreError> {
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
                Ok(Err(e)) => Err(StoreError::Commit(e)),
                Err(_) => Err(StoreError::Commit("the committer stopped".into())),
            }
        });
        task.await.map_err(|e| StoreError::Commit(e.to_string()))?
    }

    /// Adds `write` to the open batch (opening one if needed) inside a savepoint, undone if
    /// the write conflicts or fails. If even undoing fails, the whole batch is abandoned.
    async fn add(
        &self,
        batch: &mut Batch,
        write: &Write,
    ) -> Result<Result<(), Conflict>, StoreError> {
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
    fn abandon(&mut self, error: sqlx::Error) -> StoreError {
        self.tx = None;
        for acknowledge in self.acknowledge.drain(..) {
            let _ = acknowledge.send(Err(format!("the shared transaction broke: {error}")));
        }
        error.into()
    }
}
