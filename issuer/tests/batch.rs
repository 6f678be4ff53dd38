//! Batch issuance from files: rows become offers, bad rows are reported, re-runs add nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{now, world};
use dojang_issuer::batch::{self, Outcome};
use dojang_issuer::service::Operator;

fn operator() -> Operator {
    Operator {
        id: "cli".into(),
        name: "batch".into(),
        issuer: "seoul".into(),
        types: vec!["citizen-card".into()],
    }
}

fn summary(outcomes: &[Outcome]) -> (usize, usize, Vec<(usize, String)>) {
    let mut offered = 0;
    let mut again = 0;
    let mut rejected = Vec::new();
    for o in outcomes {
        match o {
            Outcome::Offered { .. } => offered += 1,
            Outcome::AlreadyOffered { .. } => again += 1,
            Outcome::Rejected { line, reason } => rejected.push((*line, reason.clone())),
        }
    }
    (offered, again, rejected)
}

#[tokio::test]
async fn csv_rows_become_offers_once() {
    let world = world(false).await.unwrap();
    let ty = dojang_schemas::Catalog::builtin()
        .get("citizen-card")
        .unwrap();
    let file = world._dir.path().join("citizens.csv");
    std::fs::write(
        &file,
        "name,birthdate,address.locality,address.region,card_number,age_over_19,_subject\n\
         Kim Minji,1994-03-15,Seoul,Mapo-gu,SC-2026-000001,true,900315-1\n\
         Lee Jiho,1990-07-02,Seoul,Jung-gu,SC-2026-000002,false,900702-1\n\
         Park Seoyeon,not-a-date,Seoul,Jongno-gu,SC-2026-000003,yes,010203-4\n",
    )
    .unwrap();
    let mut seen = Vec::new();
    let rows = batch::read(&file, ty).unwrap();
    let outcomes = batch::run(
        &world.service,
        &operator(),
        "seoul",
        "citizen-card",
        rows,
        now(),
        |d, t| seen.push((d, t)),
    )
    .await;
    let (offered, again, rejected) = summary(&outcomes);
    assert_eq!((offered, again), (2, 0));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, 4, "the bad row's line");
    assert!(rejected[0].1.contains("/birthdate"), "{}", rejected[0].1);
    assert_eq!(seen.last(), Some(&(3, 3)), "progress reaches the end");
    // Typed values: the boolean column became a boolean.
    if let Outcome::Offered { offer, .. } = &outcomes[0] {
        assert!(offer.tx_code.is_some());
        assert!(
            offer
                .credential_offer_uri
                .starts_with("openid-credential-offer://")
        );
    } else {
        panic!("first row not offered");
    }

    // Running the same file again offers nothing new.
    let rows = batch::read(&file, ty).unwrap();
    let outcomes = batch::run(
        &world.service,
        &operator(),
        "seoul",
        "citizen-card",
        rows,
        now(),
        |_, _| {},
    )
    .await;
    let (offered, again, rejected) = summary(&outcomes);
    assert_eq!((offered, again, rejected.len()), (0, 2, 1));
}

#[tokio::test]
async fn json_lines_with_explicit_keys() {
    let world = world(false).await.unwrap();
    let ty = dojang_schemas::Catalog::builtin()
        .get("citizen-card")
        .unwrap();
    let example = serde_json::to_string(ty.example()).unwrap();
    let file = world._dir.path().join("rows.jsonl");
    std::fs::write(
        &file,
        format!(
            "{{\"claims\": {example}, \"subject\": \"A\", \"idempotency_key\": \"k1\"}}\n\
             not json\n\
             {{\"claims\": {example}, \"subject\": \"A\", \"idempotency_key\": \"k1\"}}\n\
             [1, 2]\n"
        ),
    )
    .unwrap();
    let rows = batch::read(&file, ty).unwrap();
    let outcomes = batch::run(
        &world.service,
        &operator(),
        "seoul",
        "citizen-card",
        rows,
        now(),
        |_, _| {},
    )
    .await;
    let (offered, again, rejected) = summary(&outcomes);
    assert_eq!((offered, again), (1, 1), "the repeated key is one offer");
    assert_eq!(rejected.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 4]);
}
