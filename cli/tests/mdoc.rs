//! The mobile ID in three formats from one offer, on `dojang up`: the wallet library receives
//! SD-JWT VC, QR and ISO mdoc over OpenID4VCI; the verifier service asks for the mdoc over
//! OpenID4VP with DCQL and accepts it; the clerk revokes, and every format is rejected. The
//! SD-JWT VC names its key both ways a third party can find it: `x5c` chaining to the IACA root
//! the registry publishes, and the issuer's JWT VC Issuer Metadata.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::{Up, spawn};
use dojang_core::status::token::TokenStatus;
use dojang_core::{Jwk, b64};
use dojang_wallet::receive;
use serde_json::{Value, json};

/// The statuses of `reference` in its list's CWT form, checked with the issuer's `key`.
async fn cwt_status(
    http: &reqwest::Client,
    reference: &dojang_core::status::StatusListReference,
    key: &dojang_core::key::PublicKey,
) -> dojang_core::status::token::TokenStatus {
    let response = http
        .get(&reference.uri)
        .header("accept", dojang_mdoc::CWT_TYP)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], dojang_mdoc::CWT_TYP);
    let cwt = response.bytes().await.unwrap();
    let (claims, list) = dojang_mdoc::read_status_list_cwt(&cwt, key, 1 << 20).unwrap();
    assert_eq!(claims.sub, reference.uri);
    list.status(reference.idx as usize).unwrap()
}

#[tokio::test]
async fn the_mobile_id_is_issued_in_three_formats_and_its_mdoc_presented_over_openid4vp() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_server, base) = spawn(&[
        "up",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let token = std::fs::read_to_string(data.join("demo-token")).unwrap();
    let up = Up {
        http: reqwest::Client::new(),
        base,
        token: token.trim().to_owned(),
    };

    // The issuer offers all three formats of the mobile ID in one offer.
    let offer = up.mobile_id_offer().await;
    let offer_claims = dojang_schemas::Catalog::builtin()
        .get("mobile-id")
        .unwrap()
        .example();
    let uri = offer["uri"].as_str().unwrap();
    let parsed = receive::offer_from_text(&up.http, uri).await.unwrap();
    assert_eq!(
        parsed.credential_configuration_ids,
        ["mobile-id", "mobile-id-qr", "mobile-id-mdoc"]
    );
    let metadata = up
        .get("/.well-known/openid-credential-issuer/issuers/mois")
        .await;
    let mdoc_configuration = &metadata["credential_configurations_supported"]["mobile-id-mdoc"];
    assert_eq!(mdoc_configuration["format"], "mso_mdoc");
    assert_eq!(mdoc_configuration["doctype"], "kr.go.mois.mobile_id.1");
    assert_eq!(
        mdoc_configuration["credential_signing_alg_values_supported"],
        json!([-7])
    );

    let (wallet, held) = up
        .receive(&dir.path().join("wallet.db"), &offer, &parsed)
        .await;
    assert!(held.sd_jwt.is_some() && held.compact.is_some() && held.mdoc.is_some());
    assert_eq!(
        held.summary().formats,
        ["dc+sd-jwt", "dojang-qr", "mso_mdoc"]
    );
    // The mdoc's MSO references the same status entry as the SD-JWT VC.
    let issuer_signed = b64::decode(held.mdoc.as_deref().unwrap()).unwrap();
    let mso = dojang_mdoc::IssuerSigned::parse(&issuer_signed)
        .unwrap()
        .mso()
        .unwrap();
    let sd_jwt = dojang_core::sd_jwt::HeldSdJwt::parse(held.sd_jwt.as_deref().unwrap()).unwrap();
    let status: dojang_core::status::StatusListReference =
        serde_json::from_value(sd_jwt.claims()["status"]["status_list"].clone()).unwrap();
    assert_eq!(mso.status.as_ref(), Some(&status));

    // The SD-JWT VC's key, found without dojang: x5c chains to the published IACA root and
    // names the issuer's DID; the issuer's metadata has the same key under the header's kid.
    let jwt = held.sd_jwt.as_deref().unwrap().split('~').next().unwrap();
    let header: Value =
        serde_json::from_slice(&b64::decode(jwt.split('.').next().unwrap()).unwrap()).unwrap();
    let leaf = base64::engine::general_purpose::STANDARD
        .decode(header["x5c"][0].as_str().unwrap())
        .unwrap();
    let certificates = up.get("/registry/certificates").await;
    let root = certificates
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["is_root"] == true)
        .unwrap();
    let root =
        dojang_mdoc::Certificate::from_der(&b64::decode(root["der"].as_str().unwrap()).unwrap())
            .unwrap();
    let leaf = dojang_mdoc::Certificate::from_der(&leaf).unwrap();
    leaf.verify_issued_by(&root).unwrap();
    let iss = sd_jwt.claims()["iss"].as_str().unwrap();
    assert!(
        leaf.uri_names.iter().any(|u| u == iss),
        "{:?} names {iss}",
        leaf.uri_names
    );
    let issuer_metadata = up.get("/.well-known/jwt-vc-issuer/issuers/mois").await;
    assert_eq!(issuer_metadata["issuer"], parsed.credential_issuer);
    let jwk: Jwk = serde_json::from_value(issuer_metadata["jwks"]["keys"][0].clone()).unwrap();
    assert_eq!(jwk.kid.as_deref(), header["kid"].as_str());
    let key = jwk.to_public_key().unwrap();
    assert_eq!(key.as_bytes(), leaf.public_key.as_slice());
    dojang_core::jws::Jws::parse(jwt)
        .unwrap()
        .verify(&key)
        .unwrap();

    // The mdoc's status reference serves the Token Status List's CWT form, signed by the same
    // key: valid for now.
    let reference = mso.status.as_ref().unwrap();
    assert_eq!(
        cwt_status(&up.http, reference, &key).await,
        TokenStatus::Valid
    );

    // OpenID4VP with DCQL for the mdoc: exactly the two elements, accepted.
    let verdict = up.present(&wallet, "mso_mdoc").await;
    assert_eq!(verdict["decision"], "accepted", "{verdict}");
    assert_eq!(verdict["credential_type"], "mobile-id");
    let disclosed = verdict["disclosed_claims"].as_object().unwrap();
    let mut names: Vec<&String> = disclosed.keys().collect();
    names.sort();
    assert_eq!(names, ["age_over_19", "family_name"], "{verdict}");
    assert_eq!(disclosed["family_name"], offer_claims["family_name"]);

    // A request for the mdoc of a type that has none is refused with its own code.
    let refused = up
        .http
        .post(format!("{}/verifier/api/oid4vp/requests", up.base))
        .json(&json!({"type": "citizen-card", "format": "mso_mdoc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"], "unsupported_format", "{refused}");

    // The clerk revokes the one credential: every format is rejected.
    let listed = up.get("/console/api/credentials").await;
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "mobile-id")
        .unwrap()
        .clone();
    up.post(
        &format!(
            "/console/api/credentials/{}/{}/revoke",
            listed["issuer"].as_str().unwrap(),
            listed["id"].as_str().unwrap()
        ),
        json!({"reason": "lost"}),
    )
    .await;
    assert_eq!(
        cwt_status(&up.http, reference, &key).await,
        TokenStatus::Invalid
    );
    up.post("/verifier/api/trust/refresh", json!({})).await;
    for format in ["mso_mdoc", "dc+sd-jwt"] {
        let verdict = up.present(&wallet, format).await;
        assert_eq!(verdict["decision"], "rejected", "{format}: {verdict}");
        let codes: Vec<&str> = verdict["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["blocking"] == true)
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["revoked"], "{format}: {verdict}");
    }
}
