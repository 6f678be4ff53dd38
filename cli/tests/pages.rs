//! The pages' APIs in `dojang up`, over real HTTP: the reader's language, the console's form
//! errors, finding a citizen, revoking with a reason, the wallet's plain-word errors, the
//! types' metadata, and HTTPS for phones (`--tls`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dojang_with, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Up {
    _server: common::Server,
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    base: String,
    token: String,
    http: reqwest::Client,
}

fn up(extra: &[&str]) -> Up {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut args = vec![
        "up",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let (server, base) = spawn(&args);
    let token = std::fs::read_to_string(data.join("demo-token"))
        .unwrap()
        .trim()
        .to_owned();
    Up {
        _server: server,
        _dir: dir,
        data,
        base,
        token,
        http: reqwest::Client::new(),
    }
}

impl Up {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        lang: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("accept-language", lang);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn post(&self, path: &str, lang: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, lang, Some(body))
            .await
    }

    async fn get(&self, path: &str, lang: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, lang, None).await
    }
}

fn citizen_card(card_number: &str, name: &str, birthdate: &str) -> Value {
    let mut claims: Value = serde_json::from_str(include_str!(
        "../../schemas/types/citizen-card/example.json"
    ))
    .unwrap();
    claims["card_number"] = json!(card_number);
    claims["name"] = json!(name);
    claims["birthdate"] = json!(birthdate);
    claims
}

#[tokio::test]
async fn a_clerk_issues_from_the_form_finds_the_citizen_and_revokes_with_a_reason() {
    let up = up(&[]);

    // The form's types: labels by pointer in the reader's language.
    let (_, types) = up.get("/console/api/types", "ko-KR,ko;q=0.9").await;
    let card = types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "citizen-card")
        .unwrap();
    assert_eq!(card["name"], "서울시민카드");
    assert_eq!(card["labels"]["/birthdate"]["label"], "생년월일");
    assert_eq!(card["schema"]["properties"]["birthdate"]["format"], "date");
    assert_eq!(card["order"][0], "/name");
    assert_eq!(card["order"][1], "/birthdate");
    assert_eq!(card["issuer"]["name"], "서울특별시");

    // A birth date in the future is refused at its field too.
    let future = citizen_card("SC-2026-777001", "Hong Gildong", "2999-01-01");
    let (_, refused) = up
        .post(
            "/console/api/offers",
            "en",
            json!({"type": "citizen-card", "claims": future}),
        )
        .await;
    assert_eq!(refused["fields"][0]["pointer"], "/birthdate", "{refused}");
    assert_eq!(refused["fields"][0]["message"], "Cannot be in the future");

    // A date that does not exist is refused at its field, in the reader's language, without
    // repeating what was typed.
    let bad = citizen_card("SC-2026-777001", "Hong Gildong", "2001-02-30");
    for (lang, said) in [("ko", "올바른 날짜가 아닙니다"), ("en", "Not a valid date")] {
        let (status, refused) = up
            .post(
                "/console/api/offers",
                lang,
                json!({"type": "citizen-card", "claims": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["error"], "invalid_claims");
        assert_eq!(refused["fields"][0]["pointer"], "/birthdate", "{refused}");
        let message = refused["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(said), "{message}");
        assert!(!refused.to_string().contains("2001-02-30"), "{refused}");
    }
    // A missing claim is pointed at where it belongs.
    let mut missing = citizen_card("SC-2026-777001", "Hong Gildong", "2001-02-03");
    missing.as_object_mut().unwrap().remove("name");
    let (_, refused) = up
        .post(
            "/console/api/offers",
            "en",
            json!({"type": "citizen-card", "claims": missing}),
        )
        .await;
    assert_eq!(refused["fields"][0]["pointer"], "/name", "{refused}");
    assert_eq!(refused["fields"][0]["message"], "Required");

    // Issued from the form, received by the wallet.
    let claims = citizen_card("SC-2026-777001", "Hong Gildong", "2001-02-03");
    let (status, offer) = up
        .post(
            "/console/api/offers",
            "ko",
            json!({"type": "citizen-card", "claims": claims}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{offer}");
    let offer_state = format!(
        "/console/api/offers/{}/{}",
        offer["issuer"].as_str().unwrap(),
        offer["offer_id"].as_str().unwrap()
    );
    assert_eq!(up.get(&offer_state, "ko").await.1["state"], "open");

    // A wrong code is explained in plain words, not as an OAuth error.
    let (status, wrong) = up
        .post(
            "/wallet/api/receive",
            "en",
            json!({"offer": offer["uri"], "tx_code": "000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = wrong["message"].as_str().unwrap();
    assert!(message.contains("6-digit code"), "{message}");
    assert!(!message.contains("invalid_grant"), "{message}");
    let (status, received) = up
        .post(
            "/wallet/api/receive",
            "ko",
            json!({"offer": offer["uri"], "tx_code": offer["tx_code"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{received}");
    assert_eq!(received["type_name"], "서울시민카드");
    assert_eq!(up.get(&offer_state, "ko").await.1["state"], "redeemed");

    // The wallet shows labelled values and refuses to show nothing.
    let (_, held) = up.get("/wallet/api/credentials", "en").await;
    let held = &held[0];
    assert_eq!(held["type_name"], "Seoul Citizen Card");
    let birth = held["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == json!(["birthdate"]))
        .unwrap();
    assert_eq!(birth["label"], "Date of birth");
    assert_eq!(birth["value"], "2001-02-03");
    assert_eq!(birth["kind"], "date");
    let (status, refused) = up
        .post(
            "/wallet/api/present",
            "ko",
            json!({"id": held["id"], "disclose": []}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"], "nothing_selected");
    assert!(refused["message"].as_str().unwrap().contains("하나 이상"));
    let (_, shown) = up
        .post(
            "/wallet/api/present",
            "ko",
            json!({"id": held["id"], "disclose": ["name", "age_over_19"]}),
        )
        .await;
    assert_eq!(shown["claims"], json!(["성명", "만 19세 이상"]));
    assert!(shown["expires_at"].as_i64().unwrap() > 0);
    assert!(shown["text"].as_str().unwrap().starts_with("DJ1:"));

    // The clerk finds the citizen by card number as typed at the counter, or by name and
    // birth date; neither is kept in the clear.
    let found = |query: &'static str| {
        let up = &up;
        async move {
            let (status, list) = up
                .get(&format!("/console/api/credentials?{query}"), "ko")
                .await;
            assert_eq!(status, StatusCode::OK, "{list}");
            list.as_array().unwrap().clone()
        }
    };
    let by_number = found("card_number=sc%202026%20777001").await;
    assert_eq!(by_number.len(), 1, "{by_number:?}");
    assert_eq!(by_number[0]["type_name"], "서울시민카드");
    assert_eq!(by_number[0]["status_name"], "유효");
    let by_person = found("name=HONG%20GILDONG&birthdate=20010203").await;
    assert_eq!(by_person[0]["id"], by_number[0]["id"]);
    assert!(
        found("name=Hong%20Gildong&birthdate=2001-02-04")
            .await
            .is_empty()
    );
    assert!(found("card_number=SC-2026-000000").await.is_empty());
    let (status, refused) = up
        .get("/console/api/credentials?name=Hong%20Gildong", "en")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"], "bad_search");
    for file in ["issuer.db", "issuer.db-wal"] {
        let path = up.data.join(file);
        if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            for plain in [
                "SC-2026-777001",
                "SC2026777001",
                "Hong Gildong",
                "honggildong",
            ] {
                assert!(!text.contains(plain), "{plain} in {file}");
            }
        }
    }

    // Revoking needs one of the action's reasons.
    let (_, reasons) = up.get("/console/api/reasons", "ko").await;
    assert!(
        reasons["revoke"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "lost" && r["label"] == "분실")
    );
    let revoke = format!(
        "/console/api/credentials/{}/{}/revoke",
        by_number[0]["issuer"].as_str().unwrap(),
        by_number[0]["id"].as_str().unwrap()
    );
    let (status, refused) = up.post(&revoke, "en", json!({"reason": "resolved"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"], "unknown_reason");
    assert_eq!(
        found("card_number=SC-2026-777001").await[0]["status"],
        "valid"
    );
    let (status, revoked) = up.post(&revoke, "en", json!({"reason": "lost"})).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    let (status, again) = up.post(&revoke, "ko", json!({"reason": "lost"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        again["message"].as_str().unwrap().contains("이미"),
        "{again}"
    );
}

#[tokio::test]
async fn verdicts_pages_and_errors_come_in_the_readers_language() {
    let up = up(&[]);
    let (_, offer) = up
        .post("/console/api/offers", "ko", json!({"type": "job-badge"}))
        .await;
    up.post(
        "/wallet/api/receive",
        "ko",
        json!({"offer": offer["uri"], "tx_code": offer["tx_code"]}),
    )
    .await;
    let (_, held) = up.get("/wallet/api/credentials", "ko").await;
    let (_, shown) = up
        .post(
            "/wallet/api/present",
            "ko",
            json!({"id": held[0]["id"], "disclose": ["identifier", "evidence"]}),
        )
        .await;
    let text = shown["text"].as_str().unwrap().to_owned();
    let verify = |lang: Option<&'static str>| {
        let (http, url, text) = (
            up.http.clone(),
            format!("{}/verifier/api/verify", up.base),
            text.clone(),
        );
        async move {
            let mut request = http.post(url).body(text);
            if let Some(lang) = lang {
                request = request.header("accept-language", lang);
            }
            request.send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let korean = verify(Some("ko-KR,ko;q=0.9,en;q=0.5")).await;
    assert_eq!(korean["decision"], "accepted", "{korean}");
    assert_eq!(korean["type_name"], "고용 디지털 배지");
    let labels: Vec<&str> = korean["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"성취 › 취득 기준 정보 › 취득 기준"),
        "{labels:?}"
    );
    assert!(labels.contains(&"식별자 › 식별값"), "{labels:?}");
    // Nested claims are rows of scalars: nothing for a page to print as raw JSON.
    assert!(
        korean["claims"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r["value"].is_object() && !r["value"].is_array())
    );
    let english = verify(Some("en-US")).await;
    assert_eq!(english["type_name"], "Employment Digital Badge");

    // Reason messages come from the catalog, one language each; both when none is asked.
    let (status, refused) = {
        let response = up
            .http
            .post(format!("{}/verifier/api/verify", up.base))
            .header("accept-language", "en")
            .body(text.replace("DJ1:", "DJ1:X"))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    let words = refused["reasons_in_words"][0].as_str().unwrap();
    assert!(words.starts_with("The QR code does not contain"), "{words}");
    let both = up
        .http
        .post(format!("{}/verifier/api/verify?lang=ko", up.base))
        .body("DJ1:?")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        both["reasons_in_words"][0]
            .as_str()
            .unwrap()
            .starts_with("QR 코드에"),
        "{both}"
    );

    // Error answers: the asked language, or both.
    let error = |lang: Option<&'static str>| {
        let (http, url) = (
            up.http.clone(),
            format!("{}/verifier/api/oid4vp/requests/nope", up.base),
        );
        async move {
            let mut request = http.get(url);
            if let Some(lang) = lang {
                request = request.header("accept-language", lang);
            }
            request.send().await.unwrap().json::<Value>().await.unwrap()["message"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(error(Some("ko")).await, "알 수 없거나 만료된 요청입니다");
    assert_eq!(error(Some("en")).await, "unknown or expired request");
    assert!(error(None).await.contains(" / "));

    // Pages carry the language the browser prefers, or the one chosen.
    for (path, lang, tag) in [
        ("/", "en-GB,en;q=0.9", "en"),
        ("/verifier/", "ko", "ko"),
        ("/console/", "fr, en;q=0.5", "en"),
        ("/wallet/?lang=ko", "en", "ko"),
        ("/", "fr", "ko"),
    ] {
        let html = up
            .http
            .get(format!("{}{path}", up.base))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!("<html lang=\"{tag}\">")),
            "{path} {lang}"
        );
    }

    // The pages' scripts come from this server, the QR decoder included (no CDN).
    for asset in ["ui.js", "ui.css", "jsQR.js"] {
        let response = up
            .http
            .get(format!("{}/verifier/assets/{asset}", up.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{asset}");
    }
    let html = up
        .http
        .get(format!("{}/verifier/", up.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("https://cdn") && !html.contains("unpkg.com"),
        "no CDN"
    );

    // The type's metadata resolves at its vct.
    let metadata: Value = up
        .http
        .get(format!("{}/types/urn:dojang:vct:job-badge:1", up.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["vct"], "urn:dojang:vct:job-badge:1");
    assert_eq!(metadata["display"][0]["lang"], "ko");
    let missing = up
        .http
        .get(format!("{}/verifier/types/urn:nope", up.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The CLI: `--lang`, else the environment; with neither, claim names and both languages.
    let bundle = up.data.join("bundle.jwt");
    let bundle = bundle.to_str().unwrap();
    let registry = format!("{}/registry", up.base);
    common::ok(&["registry", "bundle", "--url", &registry, "--out", bundle]);
    let broken = text.replace("DJ1:", "DJ1:X");
    let verify = |lang: &[&str], env: &[(&str, &str)], input: &str| {
        let mut args = vec!["verify", input, "--bundle", bundle];
        args.extend_from_slice(lang);
        let out = dojang_with(&args, env);
        String::from_utf8(out.stdout).unwrap()
    };
    let korean = verify(&["--lang", "ko"], &[("LANG", "en_US.UTF-8")], &text);
    assert!(
        korean.starts_with("ACCEPTED  job-badge  고용 디지털 배지"),
        "{korean}"
    );
    assert!(
        korean.contains("성취 › 성취명: Forklift Operation"),
        "{korean}"
    );
    let english = verify(&[], &[("LANG", "en_US.UTF-8")], &broken);
    assert!(english.starts_with("REJECTED"), "{english}");
    assert!(
        english.contains("malformed_qr: The QR code does not contain"),
        "{english}"
    );
    assert!(!english.contains("QR 코드에"), "{english}");
    let from_env = verify(&[], &[("DOJANG_LANG", "ko"), ("LANG", "C.UTF-8")], &broken);
    assert!(from_env.contains("malformed_qr: QR 코드에"), "{from_env}");
    let unset = verify(&[], &[("LANG", "C.UTF-8")], &text);
    assert!(
        unset.contains("claim    achievement.name: Forklift Operation"),
        "{unset}"
    );
}

#[tokio::test]
async fn up_tls_serves_https_with_a_kept_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = [
        "up",
        "--tls",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--public-url",
    ];
    let first_fingerprint = {
        let port = common::free_port();
        let public = format!("https://127.0.0.1:{port}");
        let listen = format!("127.0.0.1:{port}");
        let mut args = args.to_vec();
        args.push(&public);
        args[5] = &listen;
        let (_server, base) = spawn(&args);
        assert_eq!(base, public);
        let pem = std::fs::read(data.join("tls/cert.pem")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(data.join("tls/key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is the owner's alone");
        }
        let https = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let health = https.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.text().await.unwrap(), "ok");
        // Offers name the public HTTPS URL, so a phone's wallet reaches the issuer.
        let token = std::fs::read_to_string(data.join("demo-token")).unwrap();
        let offer: Value = https
            .post(format!("{base}/console/api/offers"))
            .bearer_auth(token.trim())
            .json(&json!({"type": "qualification"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let uri = offer["uri"].as_str().unwrap();
        assert!(uri.contains("https%3A%2F%2F127%2E0%2E0%2E1"), "{uri}");
        // Plain HTTP on the TLS port gets no page.
        let plain = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        assert!(plain.map_or(true, |r| !r.status().is_success()));
        // The bundle is cosigned by the witness on its own loopback port.
        let checkpoint = https
            .get(format!("{base}/registry/checkpoint"))
            .send()
            .await
            .unwrap();
        assert!(checkpoint.status().is_success());
        pem
    };
    // Kept: a restart serves the same certificate, which phones already trust.
    let (_server, base) = spawn(&args[..args.len() - 1]);
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    assert_eq!(
        std::fs::read(data.join("tls/cert.pem")).unwrap(),
        first_fingerprint
    );
    let out = dojang_with(&["up", "--tls-cert", "/nonexistent.pem"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
}
