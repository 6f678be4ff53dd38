//! Guessing a transaction code with many requests at once, against the token endpoint: the
//! database claims an attempt before each comparison, so an offer gets at most
//! `MAX_TX_ATTEMPTS` evaluations however many requests arrive together, and then stays locked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{Answer, World, world};
use dojang_core::oid4vci;
use dojang_issuer::service::MAX_TX_ATTEMPTS;
use tokio::sync::Barrier;

const GUESSES: usize = 60;

/// What the token endpoint answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// An access token.
    Accepted,
    /// `invalid_grant`: the code was compared and was wrong.
    Wrong,
    /// `invalid_grant`: refused without comparing, the offer's attempts are used up.
    Locked,
    /// `invalid_grant`: refused without comparing, the offer was redeemed.
    Used,
}

fn outcome(answer: &Answer) -> Outcome {
    if answer.status == StatusCode::OK {
        return Outcome::Accepted;
    }
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.json);
    assert_eq!(answer.json["error"], "invalid_grant", "{}", answer.json);
    let description = answer.json["error_description"].as_str().unwrap();
    if description.contains("this offer is locked") && description.contains("잠겼습니다") {
        Outcome::Locked
    } else if description.ends_with("wrong transaction code") {
        Outcome::Wrong
    } else if description.contains("already used") {
        Outcome::Used
    } else {
        panic!("unexpected refusal: {description}")
    }
}

async fn ask(world: &World, code: &str, tx_code: &str) -> Outcome {
    let answer = world
        .token(
            "keis",
            &[
                ("grant_type", oid4vci::PRE_AUTHORIZED_GRANT),
                ("pre-authorized_code", code),
                ("tx_code", tx_code),
            ],
        )
        .await;
    outcome(&answer)
}

/// Sends every transaction code at once (released together by a barrier); the outcomes in order.
async fn race(world: &Arc<World>, code: &str, tx_codes: Vec<String>) -> Vec<Outcome> {
    let barrier = Arc::new(Barrier::new(tx_codes.len()));
    let tasks: Vec<_> = tx_codes
        .into_iter()
        .map(|tx_code| {
            let (world, barrier, code) = (world.clone(), barrier.clone(), code.to_owned());
            tokio::spawn(async move {
                barrier.wait().await;
                ask(&world, &code, &tx_code).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

/// `count` six-digit codes, none of them `right`.
fn wrong_codes(right: &str, count: usize) -> Vec<String> {
    let right: u32 = right.parse().unwrap();
    (1..=count as u32)
        .map(|i| format!("{:06}", (right + i) % 1_000_000))
        .collect()
}

/// The stored offer: (transaction codes evaluated, state).
async fn stored(world: &World, code: &str) -> (i64, String) {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, code.as_bytes());
    let offer = world
        .service
        .db()
        .offer_by_code(hash.as_ref())
        .await
        .unwrap()
        .unwrap();
    (offer.tx_attempts, offer.state.as_str().to_owned())
}

fn count(outcomes: &[Outcome], which: Outcome) -> usize {
    outcomes.iter().filter(|o| **o == which).count()
}

async fn guessing_is_limited(postgres: bool) {
    let Some(world) = world(postgres).await else {
        return;
    };
    let world = Arc::new(world);
    let max = MAX_TX_ATTEMPTS as usize;

    // Sixty wrong codes at once: five are compared, the rest refused unseen; the offer locks,
    // and the right code is refused after.
    let (offer, right) = world.offer("keis", "job-badge", true).await;
    let code = offer.grants.pre_authorized_code.pre_authorized_code.clone();
    let right = right.unwrap();
    let outcomes = race(&world, &code, wrong_codes(&right, GUESSES)).await;
    assert_eq!(count(&outcomes, Outcome::Wrong), max, "{outcomes:?}");
    assert_eq!(count(&outcomes, Outcome::Locked), GUESSES - max);
    assert_eq!(
        stored(&world, &code).await,
        (MAX_TX_ATTEMPTS, "locked".into())
    );
    assert_eq!(ask(&world, &code, &right).await, Outcome::Locked);
    assert_eq!(
        stored(&world, &code).await.0,
        MAX_TX_ATTEMPTS,
        "not evaluated"
    );

    // The right code among sixty wrong ones: it may win one of the five evaluations, never a
    // sixth; whatever happened, it is refused afterwards.
    let (offer, right) = world.offer("keis", "job-badge", true).await;
    let code = offer.grants.pre_authorized_code.pre_authorized_code.clone();
    let right = right.unwrap();
    let mut codes = wrong_codes(&right, GUESSES);
    codes.insert(GUESSES / 2, right.clone());
    let outcomes = race(&world, &code, codes).await;
    let (evaluated, state) = stored(&world, &code).await;
    let (wrong, accepted) = (
        count(&outcomes, Outcome::Wrong),
        count(&outcomes, Outcome::Accepted),
    );
    assert!(evaluated <= MAX_TX_ATTEMPTS, "{evaluated} evaluations");
    assert!(wrong + accepted <= evaluated as usize, "{outcomes:?}");
    assert!(accepted <= 1);
    assert_eq!(
        outcomes[GUESSES / 2] == Outcome::Accepted,
        state == "redeemed",
        "{outcomes:?} {state}"
    );
    if accepted == 0 {
        assert_eq!(state, "locked");
        assert_eq!(count(&outcomes, Outcome::Used), 0);
    }
    assert_eq!(
        wrong + accepted + count(&outcomes, Outcome::Locked) + count(&outcomes, Outcome::Used),
        GUESSES + 1
    );
    assert_ne!(ask(&world, &code, &right).await, Outcome::Accepted);
    assert_eq!(stored(&world, &code).await.0, evaluated, "not evaluated");

    // An honest wallet still gets its five tries: four wrong, then the right one.
    let (offer, right) = world.offer("keis", "job-badge", true).await;
    let code = offer.grants.pre_authorized_code.pre_authorized_code.clone();
    let right = right.unwrap();
    for wrong in wrong_codes(&right, max - 1) {
        assert_eq!(ask(&world, &code, &wrong).await, Outcome::Wrong);
    }
    assert_eq!(ask(&world, &code, &right).await, Outcome::Accepted);
    assert_eq!(
        stored(&world, &code).await,
        (MAX_TX_ATTEMPTS, "redeemed".into())
    );
    assert_eq!(ask(&world, &code, &right).await, Outcome::Used);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_get_five_evaluations_on_sqlite() {
    guessing_is_limited(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_get_five_evaluations_on_postgres() {
    guessing_is_limited(true).await;
}
