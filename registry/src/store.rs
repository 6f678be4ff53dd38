//! All of the registry's SQL, over sqlx's `Any` driver: SQLite (a file, WAL mode, the embedded
//! default) or PostgreSQL (`postgres://…`, the production path). Queries are written once in
//! the dialect both accept; migrations differ only in column types (`migrations/<db>/registry`).
//!
//! Appends happen inside [`AppendTx`], whose first statement writes the single `registry_head`
//! row. That takes the database's write lock before anything is read — a row lock in
//! PostgreSQL, the database lock in SQLite — so two sequencers, in one process or several,
//! take turns and can never append at the same index.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use dojang_ledger::merkle::{Hash, Node};
use dojang_ledger::state::StatusListRecord;

pub use dojang_migrations::Backend;
use dojang_migrations::Service;
pub use dojang_migrations::StoreError;

/// One stored entry.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Log index.
    pub index: u64,
    /// Sequencing time, ms.
    pub timestamp_ms: u64,
    /// The entry JWS.
    pub entry: String,
}

impl StoredEntry {
    /// The leaf it was sequenced as.
    pub fn leaf(&self) -> dojang_ledger::entry::Leaf {
        dojang_ledger::entry::Leaf {
            timestamp_ms: self.timestamp_ms,
            entry: self.entry.clone(),
        }
    }
}

/// An entry found already in the log.
#[derive(Debug, Clone, Copy)]
pub struct KnownEntry {
    /// SHA-256 of the entry JWS.
    pub entry_hash: Hash,
    /// Its log index.
    pub index: u64,
    /// Its sequencing time, ms.
    pub timestamp_ms: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
}

/// A leaf to insert.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// Log index.
    pub index: u64,
    /// Sequencing time, ms.
    pub timestamp_ms: u64,
    /// Leaf hash.
    pub leaf_hash: &'a Hash,
    /// SHA-256 of the entry JWS (replay detection).
    pub entry_hash: &'a Hash,
    /// The entry JWS.
    pub entry: &'a str,
    /// Operation name.
    pub op: &'a str,
    /// The DID or list the operation is about.
    pub subject: &'a str,
}

/// The registry's database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` and applies the registry's migrations (see `dojang-migrations`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let (pool, backend) = dojang_migrations::open(url, Service::Registry).await?;
        Ok(Store { pool, backend })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The committed log size and last timestamp.
    pub async fn head(&self) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query("SELECT size, last_ts FROM registry_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((uint(&row, "size")?, uint(&row, "last_ts")?))
    }

    /// The entry at `index`.
    pub async fn entry(&self, index: u64) -> Result<Option<StoredEntry>, StoreError> {
        let row = sqlx::query("SELECT idx, ts, entry FROM registry_entries WHERE idx = $1")
            .bind(int(index))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(stored_entry).transpose()
    }

    /// Entries `from..to`, in order.
    pub async fn entries(&self, from: u64, to: u64) -> Result<Vec<StoredEntry>, StoreError> {
        sqlx::query(
            "SELECT idx, ts, entry FROM registry_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(int(from))
        .bind(int(to))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(stored_entry)
        .collect()
    }

    /// The entries that define DIDs and accreditation (everything but status publications,
    /// status roots and audit events), in order: what the ledger state is rebuilt from.
    pub async fn state_entries(&self, below: u64) -> Result<Vec<StoredEntry>, StoreError> {
        sqlx::query(
            "SELECT idx, ts, entry FROM registry_entries \
             WHERE op NOT IN ('status.publish', 'status.root', 'audit') AND idx < $1 ORDER BY idx",
        )
        .bind(int(below))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(stored_entry)
        .collect()
    }

    /// Each issuer's latest `status.root` below `below`, in log order: what a rebuilt state
    /// takes (an issuer commits every few minutes; only the last one counts).
    pub async fn latest_roots(&self, below: u64) -> Result<Vec<StoredEntry>, StoreError> {
        sqlx::query(
            "SELECT idx, ts, entry FROM registry_entries WHERE idx IN \
             (SELECT MAX(idx) FROM registry_entries WHERE op = 'status.root' AND idx < $1 \
              GROUP BY subject) ORDER BY idx",
        )
        .bind(int(below))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(stored_entry)
        .collect()
    }

    /// The latest publication of a status list below `below`.
    pub async fn publication_below(
        &self,
        list_id: &str,
        below: u64,
    ) -> Result<Option<StoredEntry>, StoreError> {
        sqlx::query(
            "SELECT idx, ts, entry FROM registry_entries \
             WHERE subject = $1 AND op = 'status.publish' AND idx < $2 ORDER BY idx DESC LIMIT 1",
        )
        .bind(list_id)
        .bind(int(below))
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(stored_entry)
        .transpose()
    }

    /// The index of the leaf with this leaf hash.
    pub async fn index_of_leaf(&self, leaf_hash: &Hash) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query("SELECT idx FROM registry_entries WHERE leaf_hash = $1")
            .bind(leaf_hash.to_vec())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| uint(r, "idx")).transpose()
    }

    /// Indices of the operations on `subject` (a DID or list id), in order.
    pub async fn subject_indices(&self, subject: &str) -> Result<Vec<u64>, StoreError> {
        sqlx::query("SELECT idx FROM registry_entries WHERE subject = $1 ORDER BY idx")
            .bind(subject)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| uint(r, "idx"))
            .collect()
    }

    /// Hashes of perfect subtrees, in the order asked.
    pub async fn nodes(&self, nodes: &[Node]) -> Result<Vec<Hash>, StoreError> {
        let mut found = std::collections::HashMap::with_capacity(nodes.len());
        for chunk in nodes.chunks(200) {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "SELECT level, idx, hash FROM registry_nodes WHERE {}",
                placeholders.join(" OR ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for &(level, index) in chunk {
                query = query.bind(i64::from(level)).bind(int(index));
            }
            for row in query.fetch_all(&self.pool).await? {
                let level: i64 = row.try_get("level")?;
                found.insert((level as u32, uint(&row, "idx")?), hash(&row, "hash")?);
            }
        }
        nodes
            .iter()
            .map(|n| {
                found
                    .get(n)
                    .copied()
                    .ok_or(StoreError::Corrupt("missing tree node"))
            })
            .collect()
    }

    /// The newest signed checkpoint and its cosignature lines.
    pub async fn latest_checkpoint(
        &self,
    ) -> Result<Option<(u64, String, Vec<String>)>, StoreError> {
        let row =
            sqlx::query("SELECT size, note FROM registry_checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let size = uint(&row, "size")?;
                let note: String = row.try_get("note")?;
                Ok(Some((size, note, self.cosignatures(size).await?)))
            }
        }
    }

    /// The signed checkpoint for `size`, and its cosignature lines.
    pub async fn checkpoint(&self, size: u64) -> Result<Option<(String, Vec<String>)>, StoreError> {
        let row = sqlx::query("SELECT note FROM registry_checkpoints WHERE size = $1")
            .bind(int(size))
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some((row.try_get("note")?, self.cosignatures(size).await?))),
        }
    }

    async fn cosignatures(&self, size: u64) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query("SELECT line FROM registry_cosignatures WHERE size = $1 ORDER BY witness")
                .bind(int(size))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get("line"))
                .collect::<Result<_, _>>()?,
        )
    }

    /// Records a witness's cosignature line for the checkpoint of `size`.
    pub async fn add_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO registry_cosignatures (size, witness, line) VALUES ($1, $2, $3) \
             ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line",
        )
        .bind(int(size))
        .bind(witness)
        .bind(line)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest version of every status list.
    pub async fn status_lists(&self) -> Result<Vec<StatusListRecord>, StoreError> {
        sqlx::query("SELECT list_id, issuer, uri, version, idx, ts, token, cwt FROM registry_status_lists ORDER BY list_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let issuer: String = row.try_get("issuer")?;
                Ok(StatusListRecord {
                    list_id: row.try_get("list_id")?,
                    issuer: dojang_core::Did::parse(&issuer).map_err(|_| StoreError::Corrupt("issuer DID"))?,
                    uri: row.try_get("uri")?,
                    version: uint(row, "version")?,
                    index: uint(row, "idx")?,
                    timestamp_ms: uint(row, "ts")?,
                    token: row.try_get("token")?,
                    cwt: row.try_get("cwt")?,
                    digest: None,
                })
            })
            .collect()
    }

    /// A sealed key by name.
    pub async fn sealed_key(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT sealed FROM registry_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("sealed")).transpose()?)
    }

    /// Stores a sealed key unless one with this name exists; returns the stored value.
    pub async fn put_sealed_key(&self, name: &str, sealed: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO registry_keys (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(sealed)
            .execute(&self.pool)
            .await?;
        self.sealed_key(name)
            .await?
            .ok_or(StoreError::Corrupt("key vanished"))
    }

    /// Starts an append: takes the write lock and reads the committed head.
    pub async fn begin_append(&self) -> Result<AppendTx, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE registry_head SET size = size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT size, last_ts FROM registry_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        Ok(AppendTx {
            size: uint(&row, "size")?,
            last_ts: uint(&row, "last_ts")?,
            tx,
        })
    }

    /// The witness's last cosigned size and root for `origin`.
    pub async fn witness_state(&self, origin: &str) -> Result<Option<(u64, Hash)>, StoreError> {
        let row = sqlx::query("SELECT size, root FROM witness_logs WHERE origin = $1")
            .bind(origin)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((uint(&r, "size")?, hash(&r, "root")?)))
            .transpose()
    }

    /// Atomically moves the witness's state for `origin` from `old` size to `new`: fails (returns
    /// `false`) if another request moved it first.
    pub async fn advance_witness(
        &self,
        origin: &str,
        old: u64,
        new: u64,
        root: &Hash,
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = if old == 0 {
            sqlx::query(
                "INSERT INTO witness_logs (origin, size, root, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, updated_at = excluded.updated_at \
                 WHERE witness_logs.size = 0",
            )
            .bind(origin)
            .bind(int(new))
            .bind(root.to_vec())
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected()
        } else {
            sqlx::query("UPDATE witness_logs SET size = $1, root = $2, updated_at = $3 WHERE origin = $4 AND size = $5")
                .bind(int(new))
                .bind(root.to_vec())
                .bind(now)
                .bind(origin)
                .bind(int(old))
                .execute(&self.pool)
                .await?
                .rows_affected()
        };
        Ok(changed == 1)
    }
}

/// An open append transaction holding the log's write lock.
pub struct AppendTx {
    tx: Transaction<'static, Any>,
    /// Committed size when the lock was taken.
    pub size: u64,
    /// Last timestamp when the lock was taken.
    pub last_ts: u64,
}

impl AppendTx {
    /// Entries committed by others since `from` (up to the locked size), in order.
    pub async fn entries_since(
        &mut self,
        from: u64,
    ) -> Result<Vec<(StoredEntry, String)>, StoreError> {
        sqlx::query("SELECT idx, ts, entry, op FROM registry_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx")
            .bind(int(from))
            .bind(int(self.size))
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|row| Ok((stored_entry(row)?, row.try_get("op")?)))
            .collect()
    }

    /// Which of `entry_hashes` are already in the log, and where.
    pub async fn known_entries(
        &mut self,
        entry_hashes: &[Hash],
    ) -> Result<Vec<KnownEntry>, StoreError> {
        let mut known = Vec::new();
        for chunk in entry_hashes.chunks(200) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT entry_hash, idx, ts, leaf_hash FROM registry_entries WHERE entry_hash IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for h in chunk {
                query = query.bind(h.to_vec());
            }
            for row in query.fetch_all(&mut *self.tx).await? {
                known.push(KnownEntry {
                    entry_hash: hash(&row, "entry_hash")?,
                    index: uint(&row, "idx")?,
                    timestamp_ms: uint(&row, "ts")?,
                    leaf_hash: hash(&row, "leaf_hash")?,
                });
            }
        }
        Ok(known)
    }

    /// Inserts leaves, many rows per statement.
    pub async fn insert_entries(&mut self, rows: &[NewEntry<'_>]) -> Result<(), StoreError> {
        for chunk in rows.chunks(100) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 7;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO registry_entries (idx, ts, leaf_hash, entry_hash, entry, op, subject) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                query = query
                    .bind(int(row.index))
                    .bind(int(row.timestamp_ms))
                    .bind(row.leaf_hash.to_vec())
                    .bind(row.entry_hash.to_vec())
                    .bind(row.entry)
                    .bind(row.op)
                    .bind(row.subject);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Inserts perfect-subtree hashes, many rows per statement.
    pub async fn insert_nodes(&mut self, nodes: &[(Node, Hash)]) -> Result<(), StoreError> {
        for chunk in nodes.chunks(300) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            let sql = format!(
                "INSERT INTO registry_nodes (level, idx, hash) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for &((level, index), hash) in chunk {
                query = query
                    .bind(i64::from(level))
                    .bind(int(index))
                    .bind(hash.to_vec());
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Records the latest version of a status list.
    pub async fn upsert_status_list(
        &mut self,
        record: &StatusListRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO registry_status_lists (list_id, issuer, uri, version, idx, ts, token, cwt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (list_id) DO UPDATE SET issuer = excluded.issuer, uri = excluded.uri, \
             version = excluded.version, idx = excluded.idx, ts = excluded.ts, \
             token = excluded.token, cwt = excluded.cwt",
        )
        .bind(&record.list_id)
        .bind(record.issuer.as_str())
        .bind(&record.uri)
        .bind(int(record.version))
        .bind(int(record.index))
        .bind(int(record.timestamp_ms))
        .bind(&record.token)
        .bind(&record.cwt)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records a signed checkpoint.
    pub async fn insert_checkpoint(
        &mut self,
        size: u64,
        note: &str,
        created_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO registry_checkpoints (size, note, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (size) DO NOTHING",
        )
        .bind(int(size))
        .bind(note)
        .bind(created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Commits with the new head.
    pub async fn commit(mut self, size: u64, last_ts: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE registry_head SET size = $1, last_ts = $2 WHERE id = 1")
            .bind(int(size))
            .bind(int(last_ts))
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

fn int(value: u64) -> i64 {
    // Sizes, indices and millisecond timestamps stay far below 2^63.
    value as i64
}

fn uint(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt("negative number"))
}

fn hash(row: &AnyRow, column: &str) -> Result<Hash, StoreError> {
    let bytes: Vec<u8> = row.try_get(column)?;
    Hash::try_from(bytes).map_err(|_| StoreError::Corrupt("hash is not 32 bytes"))
}

fn stored_entry(row: &AnyRow) -> Result<StoredEntry, StoreError> {
    Ok(StoredEntry {
        index: uint(row, "idx")?,
        timestamp_ms: uint(row, "ts")?,
        entry: row.try_get("entry")?,
    })
}
