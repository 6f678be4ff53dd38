//! `dojang-migrations`: every table dojang keeps, and one way to open a database.
//!
//! The SQL lives beside this crate, one folder per database and service
//! (`sqlite/registry`, `postgres/issuer`, …), and is embedded at build time. Services may share
//! one database, so each owns a version range (registry 1000–1999, issuer 2000–2999) and runs
//! its migrations with "ignore missing", leaving the others' alone. The holder wallet is not
//! here: it is SQLite only, on a phone, and keeps its own migrations (`holder-wallet/migrations`,
//! versions 3000–3999).
//!
//! Queries go through sqlx's `Any` driver, written once in the SQL both databases accept; only
//! the migrations differ (`BLOB` / `BYTEA`).
#![forbid(unsafe_code)]

use std::str::FromStr as _;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The URL is neither SQLite nor PostgreSQL.
    #[error("unsupported database URL (use sqlite://… or postgres://…)")]
    UnsupportedUrl,
    /// Connecting failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The file exists but is not an SQLite database.
    #[error("{path} is not an SQLite database")]
    NotSqlite {
        /// The file.
        path: String,
    },
}

/// Why a storage operation of a service failed (the registry's store, the issuer's database).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database returned an error.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Opening the database or migrating it failed.
    #[error("{0}")]
    Open(#[from] OpenError),
    /// Stored data is inconsistent (a hash of the wrong length, a negative size…).
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    /// The shared transaction holding this write failed to commit; nothing of it was kept.
    #[error("commit failed: {0}")]
    Commit(String),
}

impl StoreError {
    /// Whether this is a unique-constraint violation (a lost race, a duplicate).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// Which database is behind a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (a file, WAL mode).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A service whose schema this crate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The registry (versions 1000–1999).
    Registry,
    /// The issuer (versions 2000–2999).
    Issuer,
}

impl Service {
    fn migrator(self, backend: Backend) -> Migrator {
        match (self, backend) {
            (Service::Registry, Backend::Sqlite) => sqlx::migrate!("sqlite/registry"),
            (Service::Registry, Backend::Postgres) => sqlx::migrate!("postgres/registry"),
            (Service::Issuer, Backend::Sqlite) => sqlx::migrate!("sqlite/issuer"),
            (Service::Issuer, Backend::Postgres) => sqlx::migrate!("postgres/issuer"),
        }
    }
}

/// Refuses an existing, non-empty file that does not start with SQLite's header, before
/// SQLite (and the pool, which would retry for its whole acquire timeout) sees it.
fn refuse_foreign_file(url: &str) -> Result<(), OpenError> {
    use std::io::Read as _;
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(()); // missing: SQLite creates it
    };
    let mut header = [0u8; 16];
    match file.read(&mut header) {
        Ok(0) => Ok(()),
        Ok(16) if &header == b"SQLite format 3\0" => Ok(()),
        _ => Err(OpenError::NotSqlite {
            path: path.to_owned(),
        }),
    }
}

/// Opens `url` and brings `service`'s tables up to date.
///
/// SQLite files are created if missing and run in WAL mode with `synchronous = FULL` (an
/// acknowledged write survives a crash of the process or the machine) and a 10 s busy timeout.
pub async fn open(url: &str, service: Service) -> Result<(AnyPool, Backend), OpenError> {
    sqlx::any::install_default_drivers();
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Backend::Postgres
    } else {
        return Err(OpenError::UnsupportedUrl);
    };
    if backend == Backend::Sqlite {
        refuse_foreign_file(url)?;
    }
    let url = match backend {
        Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
        _ => url.to_owned(),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA busy_timeout = 10000",
                        "PRAGMA foreign_keys = ON",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(AnyConnectOptions::from_str(&url)?)
        .await?;
    let mut migrator = service.migrator(backend);
    migrator.set_ignore_missing(true);
    migrator.run(&pool).await?;
    Ok((pool, backend))
}
