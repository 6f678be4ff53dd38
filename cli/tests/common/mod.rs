//! Running the `dojang` binary and its servers in tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub use dojang_testkit::postgres::TestDatabase;
use dojang_wallet::{Wallet, openid4vp};
use serde_json::{Value, json};

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

/// A `dojang up` as its console and a wallet reach it.
pub struct Up {
    pub http: reqwest::Client,
    pub base: String,
    /// The demo token.
    pub token: String,
}

impl Up {
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.bearer_auth(&self.token).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{status}: {body}");
        body
    }

    pub async fn get(&self, path: &str) -> Value {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    /// Asks the verifier service for the mobile ID's family name and age flag in `format`, and
    /// answers with the wallet: the verdict.
    pub async fn present(&self, wallet: &Wallet, format: &str) -> Value {
        let request = self
            .post(
                "/verifier/api/oid4vp/requests",
                json!({"type": "mobile-id", "claims": ["family_name", "age_over_19"], "format": format}),
            )
            .await;
        let scanned = openid4vp::request_from_text(request["uri"].as_str().unwrap()).unwrap();
        let found = openid4vp::matches(wallet, &scanned).await.unwrap();
        // What the citizen is shown: the two claims, whichever format answers.
        assert_eq!(found[0].mdoc, format == "mso_mdoc");
        assert_eq!(found[0].claim_pointers(), ["/family_name", "/age_over_19"]);
        openid4vp::respond(wallet, &self.http, &scanned, &found, now())
            .await
            .unwrap();
        let state = request["state"].as_str().unwrap();
        let result = self
            .get(&format!("/verifier/api/oid4vp/requests/{state}"))
            .await;
        assert_eq!(result["status"], "answered", "{result}");
        result["verdicts"][0].clone()
    }
}

impl Up {
    /// A mobile ID offer from the console, of the type's example claims.
    pub async fn mobile_id_offer(&self) -> Value {
        let claims = dojang_schemas::Catalog::builtin()
            .get("mobile-id")
            .unwrap()
            .example()
            .clone();
        self.post(
            "/console/api/offers",
            json!({"type": "mobile-id", "claims": claims}),
        )
        .await
    }

    /// A citizen's new wallet at `path` (an ES256 holder key), holding what `offer` (parsed as
    /// `parsed`) gives.
    pub async fn receive(
        &self,
        path: &std::path::Path,
        offer: &Value,
        parsed: &dojang_core::oid4vci::CredentialOffer,
    ) -> (Wallet, dojang_wallet::StoredCredential) {
        let wallet = Wallet::create(
            path,
            b"citizen",
            dojang_core::seal::KdfParams::INSECURE_FOR_TESTS,
        )
        .await
        .unwrap();
        let options = dojang_wallet::receive::ReceiveOptions {
            tx_code: offer["tx_code"].as_str(),
            alg: dojang_core::key::Algorithm::Es256,
            now: now(),
        };
        let held = dojang_wallet::receive::receive(&wallet, &self.http, parsed, options)
            .await
            .unwrap();
        (wallet, held)
    }
}

pub fn now() -> i64 {
    dojang_core::clock::unix_now()
}
