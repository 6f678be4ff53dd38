//! Running the `dojang` binary and its servers in tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub fn dojang(args: &[&str]) -> Output {
    dojang_with(args, &[])
}

/// Runs `dojang` with extra environment variables.
pub fn dojang_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args(args)
        .env("DOJANG_PASSPHRASE", "test")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

pub fn ok(args: &[&str]) -> String {
    ok_with(args, &[])
}

/// [`ok`] with extra environment variables.
pub fn ok_with(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = dojang_with(args, env);
    assert!(
        out.status.success(),
        "dojang {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A server process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a `dojang` server whose first stdout line says `listening on <url>`.
pub fn spawn(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dojang"))
        .args(args)
        .env("DOJANG_PASSPHRASE", "test")
        .stdout(Stdio::piped())
        .stderr(
            std::env::var_os("DOJANG_TEST_SERVER_LOG").map_or_else(Stdio::null, |path| {
                Stdio::from(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .unwrap(),
                )
            }),
        )
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split("listening on ")
        .nth(1)
        .expect("listening line")
        .trim()
        .to_owned();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Server(child), url)
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh PostgreSQL database on `DOJANG_TEST_POSTGRES_URL`, dropped with this value.
pub struct PgDatabase {
    pub url: String,
    pub name: String,
    admin: String,
}

/// A fresh database named `dojang_test_<purpose>_<pid>`; `None` (and a line saying the test
/// skipped) without `DOJANG_TEST_POSTGRES_URL`.
pub async fn postgres_database(purpose: &str) -> Option<PgDatabase> {
    use sqlx::Connection as _;
    let Ok(admin) = std::env::var("DOJANG_TEST_POSTGRES_URL") else {
        println!("skipped: DOJANG_TEST_POSTGRES_URL is not set");
        return None;
    };
    let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap();
    let name = format!("dojang_test_{purpose}_{}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut connection)
            .await
            .unwrap();
    }
    Some(PgDatabase {
        url: format!("{}/{name}", admin.rsplit_once('/').unwrap().0),
        name,
        admin,
    })
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside a runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                use sqlx::Connection as _;
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
