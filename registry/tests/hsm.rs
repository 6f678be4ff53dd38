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
