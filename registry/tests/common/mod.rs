//! Fixtures: a registry's configuration and databases; the ledger's parties and log are
//! `dojang_testkit::ledger`'s.

#![allow(dead_code, unreachable_pub, unused_imports)]

pub use dojang_testkit::ledger::{Actor, grant};

pub const ORIGIN: &str = "registry.dojang.example/log";

/// A fresh SQLite database file under `dir`.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("registry.db").display())
}

pub use dojang_testkit::postgres::TestDatabase;

/// A fresh PostgreSQL database, dropped with the returned value; `None` if
/// `DOJANG_TEST_POSTGRES_URL` is not set (the caller says it skipped).
pub async fn postgres_database() -> Option<TestDatabase> {
    dojang_testkit::postgres::fresh_database("registry").await
}

pub fn config(url: &str) -> dojang_registry::service::RegistryConfig {
    dojang_testkit::registry::config(url, ORIGIN)
}
