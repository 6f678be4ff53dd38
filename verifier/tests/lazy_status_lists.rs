//! A verifier decodes a status list the first time it checks a credential on it, keeps it
//! decoded across deltas that do not republish it, and decodes a republished list afresh.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Ledger, now, status_uri};
use dojang_core::key::Algorithm;
use dojang_core::status::StatusListReference;
use dojang_core::status::token::TokenStatus;
use dojang_verifier::trust::{StatusLookup, Trust};

#[tokio::test]
async fn lists_are_decoded_on_first_use_and_kept_until_republished() {
    let ledger = Ledger::new().await;
    let seoul = ledger
        .issuer(Algorithm::Es256, "Seoul", &["citizen-card"])
        .await;
    let hrd = ledger
        .issuer(Algorithm::EdDsa, "HRD Korea", &["national-qualification"])
        .await;
    ledger
        .publish(&seoul, 2, &[(7, TokenStatus::Invalid)])
        .await;
    let reference = |uri: String, idx| StatusListReference { idx, uri };
    let seoul_7 = reference(status_uri(&seoul), 7);

    let mut trust = ledger.trust().await;
    assert_eq!(trust.decoded_status_lists(), 0, "nothing decoded at load");
    let status =
        |trust: &Trust, r: &StatusListReference| trust.status(seoul.did.as_str(), r, now());
    assert_eq!(
        status(&trust, &seoul_7),
        StatusLookup::Known(TokenStatus::Invalid)
    );
    assert_eq!(trust.decoded_status_lists(), 1, "only the list checked");

    // A delta republishing the other issuer's list keeps Seoul's decoded list.
    let size = trust.size();
    ledger
        .publish(&hrd, 2, &[(1, TokenStatus::Suspended)])
        .await;
    trust
        .update(&ledger.registry.bundle(Some(size)).await.unwrap())
        .unwrap();
    assert_eq!(trust.decoded_status_lists(), 1);
    assert_eq!(
        trust.status(hrd.did.as_str(), &reference(status_uri(&hrd), 1), now()),
        StatusLookup::Known(TokenStatus::Suspended)
    );
    assert_eq!(trust.decoded_status_lists(), 2);

    // Republishing Seoul's list drops its old decoding; the new one is read on next use.
    let size = trust.size();
    ledger.publish(&seoul, 3, &[]).await;
    trust
        .update(&ledger.registry.bundle(Some(size)).await.unwrap())
        .unwrap();
    assert_eq!(trust.decoded_status_lists(), 1);
    assert_eq!(
        status(&trust, &seoul_7),
        StatusLookup::Known(TokenStatus::Valid)
    );
    assert_eq!(trust.decoded_status_lists(), 2);
}
