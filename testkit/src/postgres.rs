//! A fresh PostgreSQL database per test, on the server `DOJANG_TEST_POSTGRES_URL` names, dropped
//! (connections and all) with the value that holds it.

use sqlx::Connection as _;

/// A test database; dropping it drops the database.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    /// Its name.
    pub name: String,
    admin: String,
}

/// A new database `dojang_test_<purpose>_<unique>`; `None`, with a line saying the test
/// skipped, when `DOJANG_TEST_POSTGRES_URL` is not set.
///
/// # Panics
/// When the server cannot be reached or the database cannot be created: a test that was given
/// a server must not pass without it.
pub async fn fresh_database(purpose: &str) -> Option<TestDatabase> {
    let Ok(admin) = std::env::var("DOJANG_TEST_POSTGRES_URL") else {
        println!("skipped: DOJANG_TEST_POSTGRES_URL is not set");
        return None;
    };
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!("dojang_test_{purpose}_{}_{unique:x}", std::process::id());
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("DOJANG_TEST_POSTGRES_URL: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    let (server, _) = admin
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("DOJANG_TEST_POSTGRES_URL names no database"));
    Some(TestDatabase {
        url: format!("{server}/{name}"),
        name,
        admin,
    })
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside a runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut connection)
                        .await;
                }
            });
        })
        .join();
    }
}
