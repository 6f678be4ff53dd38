//! Running the `dojang` binary and its servers in tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub use dojang_testkit::postgres::TestDatabase;

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

/// A fresh PostgreSQL database, dropped with this value (`None`, saying so, without one).
pub async fn postgres_database(purpose: &str) -> Option<TestDatabase> {
    dojang_testkit::postgres::fresh_database(purpose).await
}
