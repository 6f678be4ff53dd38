//! The registry with its log and bundle keys on an HSM (SoftHSM2): the log grows and its bundle
//! verifies under the anchor, on SQLite and PostgreSQL; a restart finds the same keys; a log keeps
//! its key — a database whose key is on the HSM refuses another, and one whose key is sealed
//! refuses an HSM key. Without SoftHSM2 the test says it skipped (not under `CI`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Actor, ORIGIN, config, grant, postgres_database, sqlite_url};
use dojang_core::key::Algorithm;
use dojang_ledger::bundle;
use dojang_registry::service::{Registry, RegistryError};
use dojang_testkit::hsm::softhsm;

#[tokio::test]
async fn the_log_and_bundle_keys_sign_from_the_hsm_and_a_log_keeps_its_keys() {
    let Some(hsm) = softhsm() else { return };
    for postgres in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let db = match postgres {
            true => match postgres_database().await {
                Some(db) => Some(db),
                None => continue,
            },
            false => None,
        };
        let url = db
            .as_ref()
            .map_or_else(|| sqlite_url(dir.path()), |db| db.url.clone());
        let token = hsm.token("registry");
        let mut on_hsm = config(&url);
        on_hsm.log_key = Some(hsm.uri(&token, "log"));
        on_hsm.bundle_key = Some(hsm.uri(&token, "bundle"));

        let registry = Registry::open(on_hsm.clone()).await.unwrap();
        let anchor = registry.trust_anchor();
        let root = Actor::new(Algorithm::EdDsa);
        let seoul = Actor::new(Algorithm::Es256);
        registry.submit(root.genesis(ORIGIN)).await.unwrap();
        registry.submit(seoul.create()).await.unwrap();
        registry
            .submit(grant(&root, &seoul, "Seoul", &["citizen-card"], false))
            .await
            .unwrap();
        let verified = bundle::verify(&registry.bundle(None).await.unwrap(), &anchor).unwrap();
        assert_eq!(verified.checkpoint.size, 3);
        drop(registry);

        // Restarted: the same keys, so the same anchor verifies what it signs next.
        let registry = Registry::open(on_hsm.clone()).await.unwrap();
        assert_eq!(registry.trust_anchor(), anchor);
        registry
            .submit(grant(&root, &seoul, "Seoul", &["job-badge"], false))
            .await
            .unwrap();
        bundle::verify(&registry.bundle(None).await.unwrap(), &anchor).unwrap();
        drop(registry);

        // Another key on the HSM, or a sealed one, for this log: refused.
        let mut other = on_hsm.clone();
        other.log_key = Some(hsm.uri(&token, "another-log"));
        let refused = Registry::open(other).await.err().unwrap();
        assert!(matches!(refused, RegistryError::Keys(_)), "{refused}");
        assert!(refused.to_string().contains("keeps its key"), "{refused}");
        let mut sealed = on_hsm.clone();
        sealed.log_key = None;
        sealed.bundle_key = None;
        let opened = Registry::open(sealed).await.unwrap();
        assert_eq!(
            opened.trust_anchor(),
            anchor,
            "the database names its HSM keys"
        );
    }

    // A log whose keys are sealed does not start on an HSM key.
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    drop(Registry::open(config(&url)).await.unwrap());
    let token = hsm.token("sealed");
    let mut moved = config(&url);
    moved.log_key = Some(hsm.uri(&token, "log"));
    let refused = Registry::open(moved).await.err().unwrap();
    assert!(refused.to_string().contains("sealed"), "{refused}");
}

/// The log key's token goes away mid-run (its sessions lose their login and the registry's PIN
/// no longer opens it — SoftHSM2 cannot be unplugged, so its security officer resets the user
/// PIN): an append over HTTP is refused with `503 key_unavailable`, nothing is appended and the
/// bundle cannot be signed either; once the token is back the same entry is appended, with no
/// restart, and the log verifies under its anchor.
#[tokio::test]
async fn a_token_that_goes_away_refuses_appends_and_the_registry_resumes() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt as _;

    let Some(hsm) = softhsm() else { return };
    let dir = tempfile::tempdir().unwrap();
    let token = hsm.token("registry-failover");
    let mut on_hsm = config(&sqlite_url(dir.path()));
    on_hsm.log_key = Some(hsm.uri(&token, "log"));
    on_hsm.bundle_key = Some(hsm.uri(&token, "bundle"));
    let registry = Registry::open(on_hsm).await.unwrap();
    let anchor = registry.trust_anchor();
    let root = Actor::new(Algorithm::EdDsa);
    let seoul = Actor::new(Algorithm::Es256);
    registry.submit(root.genesis(ORIGIN)).await.unwrap();
    let app = dojang_registry::http::app(registry.clone());
    let append = |entry: String| {
        app.clone().oneshot(
            Request::post("/entries")
                .header("content-type", "application/jose")
                .body(Body::from(entry))
                .unwrap(),
        )
    };

    hsm.set_user_pin(&token, "elsewhere-0000");
    let refused = append(seoul.create()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(refused.into_body(), 4096)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "key_unavailable", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("nothing was appended"),
        "{body}"
    );
    assert!(!body.to_string().contains(dojang_testkit::hsm::USER_PIN));
    assert_eq!(registry.size().await.unwrap(), 1, "nothing appended");
    assert!(registry.state().await.did(&seoul.did).is_none());
    assert!(matches!(
        registry.bundle(None).await,
        Err(RegistryError::KeyUnavailable(_))
    ));

    hsm.set_user_pin(&token, dojang_testkit::hsm::USER_PIN);
    let appended = append(seoul.create()).await.unwrap();
    assert_eq!(appended.status(), StatusCode::CREATED);
    assert_eq!(registry.size().await.unwrap(), 2);
    let verified = bundle::verify(&registry.bundle(None).await.unwrap(), &anchor).unwrap();
    assert_eq!(verified.checkpoint.size, 2);
}
