//! Offers: recorded with their codes' hashes, redeemed once, locked after too many wrong
//! transaction codes, expired by housekeeping. Redemption itself is one of the issuance
//! writes (`writes`), so on SQLite it joins their group commit.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, MAX_TX_ATTEMPTS, OfferRow, StoreError};
use crate::service::OfferState;

impl Db {
    /// Records an offer. With an idempotency key already used for this issuer, records nothing
    /// and returns the existing offer's id.
    pub async fn insert_offer(
        &self,
        row: &OfferRow,
        code_hash: &[u8],
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<Result<(), String>, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO issuer_offers (id, issuer, type, claims_sealed, subject_ref, person_ref, code_hash, \
             tx_code_hash, tx_attempts, state, operator, idempotency_key, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'open', $9, $10, $11, $12) \
             ON CONFLICT (issuer, idempotency_key) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.issuer)
        .bind(&row.type_id)
        .bind(&row.claims_sealed)
        .bind(&row.subject_ref)
        .bind(&row.person_ref)
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
    pub async fn offer_by_code(&self, code_hash: &[u8]) -> Result<Option<OfferRow>, StoreError> {
        self.offer_where("code_hash = $1", code_hash.to_vec()).await
    }

    /// The offer with this id.
    pub async fn offer(&self, id: &str) -> Result<Option<OfferRow>, StoreError> {
        self.offer_where("id = $1", id.to_owned()).await
    }

    async fn offer_where<T>(
        &self,
        condition: &'static str,
        value: T,
    ) -> Result<Option<OfferRow>, StoreError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
    {
        let sql = format!(
            "SELECT id, issuer, type, claims_sealed, subject_ref, person_ref, tx_code_hash, tx_attempts, state, operator, issued_formats, \
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
    pub async fn claim_tx_attempt(&self, id: &str) -> Result<Option<i64>, StoreError> {
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
    pub async fn lock_offer(&self, id: &str) -> Result<bool, StoreError> {
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
    pub async fn expire_offers(&self, now: i64, grace: i64) -> Result<u64, StoreError> {
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
}

fn offer_row(r: &AnyRow) -> Result<OfferRow, StoreError> {
    let state: String = r.try_get("state")?;
    Ok(OfferRow {
        id: r.try_get("id")?,
        issuer: r.try_get("issuer")?,
        type_id: r.try_get("type")?,
        claims_sealed: r.try_get("claims_sealed")?,
        subject_ref: r.try_get("subject_ref")?,
        person_ref: r.try_get("person_ref")?,
        tx_code_hash: r.try_get("tx_code_hash")?,
        tx_attempts: r.try_get("tx_attempts")?,
        state: OfferState::parse(&state)?,
        operator: r.try_get("operator")?,
        credential_id: r.try_get("credential_id")?,
        issued_formats: r.try_get("issued_formats")?,
        expires_at: r.try_get("expires_at")?,
    })
}
