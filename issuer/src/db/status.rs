//! Status lists and credential records: the lists an issuer publishes, the indices used in
//! them, the records operators search, and a status change under the list's row lock.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{CredentialRow, Db, ListRow, StoreError, uint};
use crate::service::CredentialStatus;

impl Db {
    /// The issuer's status lists, oldest first.
    pub async fn lists(&self, issuer: &str) -> Result<Vec<ListRow>, StoreError> {
        sqlx::query("SELECT list_id, capacity, version FROM issuer_status_lists WHERE issuer = $1 ORDER BY created_at, list_id")
            .bind(issuer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(ListRow { list_id: r.try_get("list_id")?, capacity: uint(r, "capacity")?, version: uint(r, "version")? }))
            .collect()
    }

    /// Records a new list at version `version`.
    pub async fn insert_list(
        &self,
        issuer: &str,
        list: &ListRow,
        now: i64,
    ) -> Result<(), StoreError> {
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
    pub async fn used_indices(&self, list_id: &str) -> Result<Vec<u64>, StoreError> {
        sqlx::query("SELECT status_index FROM issuer_credentials WHERE list_id = $1")
            .bind(list_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| uint(r, "status_index"))
            .collect()
    }

    /// A credential record.
    pub async fn credential(&self, id: &str) -> Result<Option<CredentialRow>, StoreError> {
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
    ) -> Result<Vec<CredentialRow>, StoreError> {
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
    ) -> Result<Vec<(CredentialRow, Option<String>)>, StoreError> {
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
            let numbers = placeholders(refs.len());
            let people = placeholders(refs.len());
            sql += &format!(" AND (c.subject_ref IN ({numbers}) OR o.person_ref IN ({people}))");
        }
        sql += &format!(" ORDER BY c.issued_at DESC, c.id LIMIT {}", placeholders(1));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(filter.issuer);
        for type_id in filter.types {
            query = query.bind(type_id);
        }
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
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
        let refs = filter.subject_refs.unwrap_or_default();
        for subject_ref in refs.iter().chain(refs) {
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

    /// Starts a status change on `list_id`: takes the list's row lock and bumps its version.
    pub async fn begin_status_change(&self, list_id: &str) -> Result<StatusTx, StoreError> {
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
}

/// What [`Db::find_credentials`] looks for; every filter given must match.
#[derive(Debug, Clone)]
pub struct CredentialFilter<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// Of one of these types.
    pub types: &'a [String],
    /// In this status.
    pub status: Option<CredentialStatus>,
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

/// A status change in progress: the list's row is locked and its version bumped.
pub struct StatusTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The version this change will publish.
    pub version: u64,
}

impl StatusTx {
    /// A credential's status, as this change sees it (the list's lock held).
    pub async fn status(
        &mut self,
        credential_id: &str,
    ) -> Result<Option<CredentialStatus>, StoreError> {
        let row = sqlx::query("SELECT status FROM issuer_credentials WHERE id = $1")
            .bind(credential_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(status).transpose()
    }

    /// Sets a credential's status; returns its previous status.
    pub async fn set_status(
        &mut self,
        credential_id: &str,
        status: CredentialStatus,
    ) -> Result<Option<CredentialStatus>, StoreError> {
        let previous = self.status(credential_id).await?;
        sqlx::query("UPDATE issuer_credentials SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(credential_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(previous)
    }

    /// The non-valid entries of the list: (index, status).
    pub async fn states(
        &mut self,
        list_id: &str,
    ) -> Result<Vec<(u64, CredentialStatus)>, StoreError> {
        sqlx::query("SELECT status_index, status FROM issuer_credentials WHERE list_id = $1 AND status <> 'valid'")
            .bind(list_id)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|r| Ok((uint(r, "status_index")?, status(r)?)))
            .collect()
    }

    /// Every credential of the list, by index: (id, type, index, status).
    pub async fn entries(
        &mut self,
        list_id: &str,
    ) -> Result<Vec<(String, String, u64, CredentialStatus)>, StoreError> {
        sqlx::query("SELECT id, type, status_index, status FROM issuer_credentials WHERE list_id = $1 ORDER BY status_index")
            .bind(list_id)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("type")?, uint(r, "status_index")?, status(r)?)))
            .collect()
    }

    /// Records an audit event as part of this change.
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
    ) -> Result<(), StoreError> {
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
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Sets the list's version to `version` (after learning the registry's).
    pub async fn raise_version(&mut self, list_id: &str, version: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE issuer_status_lists SET version = $1 WHERE list_id = $2")
            .bind(version as i64)
            .bind(list_id)
            .execute(&mut *self.tx)
            .await?;
        self.version = version;
        Ok(())
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// The `status` column, read back into its enum.
fn status(r: &AnyRow) -> Result<CredentialStatus, StoreError> {
    let text: String = r.try_get("status")?;
    CredentialStatus::parse(&text)
}

fn credential_row(r: &AnyRow) -> Result<CredentialRow, StoreError> {
    Ok(CredentialRow {
        id: r.try_get("id")?,
        issuer: r.try_get("issuer")?,
        type_id: r.try_get("type")?,
        list_id: r.try_get("list_id")?,
        status_index: uint(r, "status_index")?,
        status: status(r)?,
        subject_ref: r.try_get("subject_ref")?,
        issued_at: r.try_get("issued_at")?,
    })
}
