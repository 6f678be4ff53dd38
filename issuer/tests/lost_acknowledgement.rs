//! Status publications whose answer is lost on the way back from the registry. A real registry
//! sits behind a proxy that forwards `POST /entries` and, when told to, drops the registry's
//! answer (502) after the registry has committed the entry. The issuer must recover: by
//! submitting the same entry again, or, when every answer was lost, by adopting the registry's
//! newer list before the next change — never by republishing its older view, which would undo a
//! revocation verifiers already see. Nor may a suspension racing a revocation overwrite it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::{World, now, world_with};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::token::{self as tsl, StatusListTokenClaims, TokenStatus};
use dojang_ledger::entry::{Entry, Operation};
use serde_json::{Value, json};

/// A reverse proxy in front of the registry that can lose the answers of appends.
#[derive(Clone)]
struct Proxy {
    url: String,
    upstream: Arc<OnceLock<String>>,
    /// Answers of `POST /entries` still to drop.
    drop: Arc<AtomicUsize>,
    /// `POST /entries` forwarded so far.
    appends: Arc<AtomicUsize>,
    /// Answer an entry already in the log as registries before idempotent appends did: 409
    /// `replayed` instead of 200 with its index.
    legacy_replay: Arc<AtomicBool>,
    http: reqwest::Client,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            url: format!("http://{}", listener.local_addr().unwrap()),
            upstream: Arc::default(),
            drop: Arc::default(),
            appends: Arc::default(),
            legacy_replay: Arc::default(),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(proxy.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        proxy
    }

    /// Drops the answers of the next `count` appends.
    fn drop_answers(&self, count: usize) {
        self.drop.store(count, Ordering::SeqCst);
    }

    fn appends(&self) -> usize {
        self.appends.load(Ordering::SeqCst)
    }
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 22).await.unwrap();
    let target = format!(
        "{}{}",
        proxy.upstream.get().expect("upstream set"),
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut upstream = proxy.http.request(parts.method.clone(), target).body(body);
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = parts.headers.get(&name) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.unwrap();
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.unwrap();
    if parts.method == Method::POST && parts.uri.path() == "/entries" {
        proxy.appends.fetch_add(1, Ordering::SeqCst);
        // The registry has answered; the answer is lost on its way back.
        if proxy
            .drop
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return StatusCode::BAD_GATEWAY.into_response();
        }
        if status == StatusCode::OK && proxy.legacy_replay.load(Ordering::SeqCst) {
            let refusal = json!({
                "error": "replayed",
                "message": "this entry is already in the log (replay)",
            });
            return (StatusCode::CONFLICT, axum::Json(refusal)).into_response();
        }
    }
    let mut response = Response::builder().status(status);
    if let Some(content_type) = content_type {
        response = response.header(header::CONTENT_TYPE, content_type);
    }
    response.body(Body::from(bytes)).unwrap()
}

/// The world with the issuer talking to the registry through a proxy.
async fn world_behind_proxy(postgres: bool) -> Option<(World, Proxy)> {
    let proxy = Proxy::start().await;
    let world = world_with(postgres, Some(&proxy.url)).await?;
    proxy.upstream.set(world.registry_url.clone()).unwrap();
    Some((world, proxy))
}

/// A credential as the operator API lists it.
#[derive(Debug, Clone)]
struct Listed {
    id: String,
    list_id: String,
    index: u64,
    status: String,
}

async fn listed(world: &World) -> Vec<Listed> {
    let answer = world
        .operator(
            "GET",
            "/issuers/seoul/credentials",
            Some(&world.tokens["seoul"]),
            Value::Null,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    answer
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Listed {
            id: c["id"].as_str().unwrap().to_owned(),
            list_id: c["status_list"].as_str().unwrap().to_owned(),
            index: c["status_index"].as_u64().unwrap(),
            status: c["status"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// Issues a Seoul citizen card; returns its listing.
async fn issue(world: &World) -> Listed {
    let before: Vec<String> = listed(world).await.into_iter().map(|c| c.id).collect();
    let (offer, tx) = world.offer("seoul", "citizen-card", true).await;
    world
        .redeem(
            &offer,
            tx.as_deref(),
            &SecretKey::generate(Algorithm::Es256).unwrap(),
        )
        .await;
    listed(world)
        .await
        .into_iter()
        .find(|c| !before.contains(&c.id))
        .unwrap()
}

/// The credential's status in the issuer's database.
async fn issuer_status(world: &World, credential: &Listed) -> String {
    listed(world)
        .await
        .into_iter()
        .find(|c| c.id == credential.id)
        .unwrap()
        .status
}

/// Seoul's DID.
fn seoul(world: &World) -> dojang_core::Did {
    world
        .service
        .issuers()
        .into_iter()
        .find(|(slug, ..)| slug == "seoul")
        .unwrap()
        .2
}

/// The latest list the registry holds (read from the registry itself, not through the proxy):
/// its version and statuses, the token verified with Seoul's key.
async fn registry_list(world: &World, list_id: &str) -> (u64, tsl::TokenStatusList) {
    let answer: Value = reqwest::get(format!("{}/status-lists/{list_id}", world.registry_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = {
        let state = world.registry.state().await;
        state
            .assertion_key_at(&seoul(world), None, u64::MAX)
            .unwrap()
    };
    let uri = format!("{}/status-lists/{list_id}", world.registry_url);
    let (_, list) =
        tsl::verify_token(answer["token"].as_str().unwrap(), &key, &uri, now()).unwrap();
    (answer["version"].as_u64().unwrap(), list)
}

async fn registry_status(world: &World, credential: &Listed) -> TokenStatus {
    let (_, list) = registry_list(world, &credential.list_id).await;
    list.status(credential.index as usize).unwrap()
}

/// The version of the list the issuer's database holds.
async fn issuer_version(world: &World, list_id: &str) -> u64 {
    world
        .service
        .db()
        .lists("seoul")
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.list_id == list_id)
        .unwrap()
        .version
}

async fn revoke(world: &World, credential: &Listed) -> common::Answer {
    world
        .operator(
            "POST",
            &format!("/issuers/seoul/credentials/{}/revoke", credential.id),
            Some(&world.tokens["seoul"]),
            json!({"reason": "lost"}),
        )
        .await
}

/// Seoul's audit: (action, credential id, reason).
async fn audit(world: &World) -> Vec<(String, Option<String>, Option<String>)> {
    world
        .service
        .db()
        .audit_trail("seoul", 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(action, _, credential, reason, ..)| (action, credential, reason))
        .collect()
}

/// One lost answer: the issuer submits the same entry again and the registry answers it with
/// its index, so the operator sees success and both sides agree.
async fn one_lost_answer_is_recovered(postgres: bool, legacy_replay: bool) {
    let Some((world, proxy)) = world_behind_proxy(postgres).await else {
        return;
    };
    proxy.legacy_replay.store(legacy_replay, Ordering::SeqCst);
    let credential = issue(&world).await;
    let appends = proxy.appends();
    proxy.drop_answers(1);
    let answer = revoke(&world, &credential).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["status"], "revoked");
    assert_eq!(proxy.appends(), appends + 2, "one resubmission");
    assert_eq!(
        registry_status(&world, &credential).await,
        TokenStatus::Invalid
    );
    assert_eq!(issuer_status(&world, &credential).await, "revoked");
    let (version, _) = registry_list(&world, &credential.list_id).await;
    assert_eq!(issuer_version(&world, &credential.list_id).await, version);

    // The next change on the list goes straight through and keeps the revocation.
    let other = issue(&world).await;
    assert_eq!(other.list_id, credential.list_id);
    let appends = proxy.appends();
    assert_eq!(revoke(&world, &other).await.status, StatusCode::OK);
    assert_eq!(proxy.appends(), appends + 1);
    assert_eq!(
        registry_status(&world, &credential).await,
        TokenStatus::Invalid
    );
    assert_eq!(registry_status(&world, &other).await, TokenStatus::Invalid);
    let actions: Vec<_> = audit(&world).await.into_iter().map(|a| a.0).collect();
    assert!(
        !actions.iter().any(|a| a.starts_with("reconciled")),
        "{actions:?}"
    );
}

/// Every answer of a revocation lost: the operator sees an error while the registry has the
/// revocation. The next revocation on the same list adopts the registry's list instead of
/// republishing the database's older view: both credentials end up revoked on both sides.
async fn every_lost_answer_is_reconciled(postgres: bool) {
    let Some((world, proxy)) = world_behind_proxy(postgres).await else {
        return;
    };
    let first = issue(&world).await;
    let second = issue(&world).await;
    let third = issue(&world).await;
    assert_eq!(first.list_id, second.list_id);
    assert_eq!(first.list_id, third.list_id);

    let appends = proxy.appends();
    proxy.drop_answers(usize::MAX);
    let answer = revoke(&world, &first).await;
    proxy.drop_answers(0);
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.json);
    assert_eq!(answer.json["error"], "registry_unavailable");
    let message = answer.json["message"].as_str().unwrap();
    assert!(
        message.starts_with("레지스트리에 닿지 못했거나")
            && message.contains("nothing was changed"),
        "{message}"
    );
    assert_eq!(proxy.appends(), appends + 3, "submitted three times");
    // The registry committed it; the issuer's database does not know.
    assert_eq!(registry_status(&world, &first).await, TokenStatus::Invalid);
    assert_eq!(issuer_status(&world, &first).await, "valid");

    let answer = revoke(&world, &second).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    let (version, list) = registry_list(&world, &first.list_id).await;
    for credential in [&first, &second] {
        assert_eq!(
            list.status(credential.index as usize).unwrap(),
            TokenStatus::Invalid,
            "revoked in the registry's latest list"
        );
        assert_eq!(issuer_status(&world, credential).await, "revoked");
    }
    assert_eq!(
        list.status(third.index as usize).unwrap(),
        TokenStatus::Valid
    );
    assert_eq!(issuer_status(&world, &third).await, "valid");
    assert_eq!(issuer_version(&world, &first.list_id).await, version);
    let trail = audit(&world).await;
    assert!(trail.contains(&("reconciled_revoked".into(), Some(first.id.clone()), None)));
    assert!(trail.contains(&(
        "revoked".into(),
        Some(second.id.clone()),
        Some("lost".into())
    )));
    assert!(
        !trail
            .iter()
            .any(|(action, id, _)| action == "revoked" && id.as_ref() == Some(&first.id))
    );

    // The operator retries a revocation whose answers were all lost: the registry already has
    // it, so it succeeds without another publication, audited once as the revocation.
    let appends = proxy.appends();
    proxy.drop_answers(usize::MAX);
    assert_eq!(revoke(&world, &third).await.status, StatusCode::BAD_GATEWAY);
    proxy.drop_answers(0);
    let after_loss = proxy.appends();
    assert_eq!(after_loss, appends + 3);
    let answer = revoke(&world, &third).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["status"], "revoked");
    assert_eq!(proxy.appends(), after_loss + 1, "only the refused attempt");
    let (again, list) = registry_list(&world, &first.list_id).await;
    assert_eq!(again, version + 1, "the lost publication is the latest");
    assert_eq!(issuer_version(&world, &first.list_id).await, again);
    for credential in [&first, &second, &third] {
        assert_eq!(
            list.status(credential.index as usize).unwrap(),
            TokenStatus::Invalid
        );
        assert_eq!(issuer_status(&world, credential).await, "revoked");
    }
    let trail = audit(&world).await;
    let mut third_events: Vec<_> = trail
        .iter()
        .filter(|(_, id, _)| id.as_ref() == Some(&third.id))
        .map(|(action, ..)| action.as_str())
        .collect();
    third_events.sort_unstable();
    assert_eq!(third_events, ["issued", "revoked"]);
    // Revoking a revoked credential stays a conflict.
    assert_eq!(revoke(&world, &first).await.status, StatusCode::CONFLICT);
}

/// Seoul's signing key, unsealed as the service does.
async fn seoul_key(world: &World) -> SecretKey {
    let rows = world.service.db().issuers().await.unwrap();
    let row = rows.iter().find(|r| r.slug == "seoul").unwrap();
    let sealed: dojang_core::seal::PassphraseSealed =
        serde_json::from_str(&row.sealed_key).unwrap();
    SecretKey::from_bytes(
        Algorithm::Es256,
        &sealed
            .open(b"issuer passphrase", "dojang-issuer-key:seoul")
            .unwrap(),
    )
    .unwrap()
}

/// A newer list on the registry that lacks a revocation the database holds (published with the
/// issuer's key from elsewhere, e.g. an instance running on an old backup): the next change
/// republishes the revocation — revoked wins on either side.
async fn a_revocation_missing_from_the_registry_is_restored(postgres: bool) {
    let Some((world, _proxy)) = world_behind_proxy(postgres).await else {
        return;
    };
    let revoked = issue(&world).await;
    let other = issue(&world).await;
    assert_eq!(revoke(&world, &revoked).await.status, StatusCode::OK);
    let (version, _) = registry_list(&world, &revoked.list_id).await;

    // An all-valid list, one version ahead, signed with Seoul's key.
    let key = seoul_key(&world).await;
    let did = seoul(&world);
    let empty = tsl::TokenStatusList::new(2, dojang_core::status::MIN_ENTRIES).unwrap();
    let claims = StatusListTokenClaims {
        sub: format!("{}/status-lists/{}", world.registry_url, revoked.list_id),
        iat: now(),
        exp: None,
        ttl: Some(300),
        status_list: empty.encode(),
        extra: [("iss".to_owned(), Value::String(did.to_string()))]
            .into_iter()
            .collect(),
    };
    let kid = did.with_fragment("key-1");
    let token = tsl::sign_token(&claims, Some(&kid.to_string()), &key).unwrap();
    let publish = Operation::StatusPublish {
        issuer: did.clone(),
        list_id: revoked.list_id.clone(),
        version: version + 1,
        token,
        cwt: None,
    };
    world
        .registry
        .submit(Entry::sign(&publish, &key, &kid).unwrap())
        .await
        .unwrap();
    assert_eq!(registry_status(&world, &revoked).await, TokenStatus::Valid);

    let answer = world
        .operator(
            "POST",
            &format!("/issuers/seoul/credentials/{}/suspend", other.id),
            Some(&world.tokens["seoul"]),
            json!({"reason": "investigation"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    let (latest, list) = registry_list(&world, &revoked.list_id).await;
    assert_eq!(latest, version + 2);
    assert_eq!(
        list.status(revoked.index as usize).unwrap(),
        TokenStatus::Invalid
    );
    assert_eq!(
        list.status(other.index as usize).unwrap(),
        TokenStatus::Suspended
    );
    assert_eq!(issuer_status(&world, &revoked).await, "revoked");
    assert_eq!(issuer_status(&world, &other).await, "suspended");
    assert_eq!(issuer_version(&world, &revoked.list_id).await, latest);
}

/// Revocation and suspension of the same credentials at once: whichever comes second sees the
/// first under the list's lock, so a revocation is never turned into a suspension.
async fn a_racing_suspension_does_not_undo_a_revocation(postgres: bool) {
    let Some((world, _proxy)) = world_behind_proxy(postgres).await else {
        return;
    };
    let world = Arc::new(world);
    let mut credentials = Vec::new();
    for _ in 0..4 {
        credentials.push(issue(&world).await);
    }
    let change = |credential: &Listed, action: &'static str, reason: &'static str| {
        let (world, id) = (world.clone(), credential.id.clone());
        tokio::spawn(async move {
            world
                .operator(
                    "POST",
                    &format!("/issuers/seoul/credentials/{id}/{action}"),
                    Some(&world.tokens["seoul"]),
                    json!({"reason": reason}),
                )
                .await
                .status
        })
    };
    let races: Vec<_> = credentials
        .iter()
        .map(|c| {
            (
                change(c, "suspend", "investigation"),
                change(c, "revoke", "stolen"),
            )
        })
        .collect();
    for (credential, (suspended, revoked)) in credentials.iter().zip(races) {
        assert_eq!(revoked.await.unwrap(), StatusCode::OK);
        let suspended = suspended.await.unwrap();
        assert!(
            suspended == StatusCode::OK || suspended == StatusCode::CONFLICT,
            "{suspended}"
        );
        assert_eq!(issuer_status(&world, credential).await, "revoked");
        assert_eq!(
            registry_status(&world, credential).await,
            TokenStatus::Invalid
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_racing_suspension_does_not_undo_a_revocation_on_sqlite() {
    a_racing_suspension_does_not_undo_a_revocation(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_racing_suspension_does_not_undo_a_revocation_on_postgres() {
    a_racing_suspension_does_not_undo_a_revocation(true).await;
}

#[tokio::test]
async fn one_lost_answer_is_recovered_on_sqlite() {
    one_lost_answer_is_recovered(false, false).await;
}

#[tokio::test]
async fn one_lost_answer_is_recovered_on_postgres() {
    one_lost_answer_is_recovered(true, false).await;
}

/// A registry that still refuses a repeated entry as `replayed`: the issuer finds its own
/// publication as the registry's latest list and takes it as the success it was.
#[tokio::test]
async fn one_lost_answer_is_recovered_from_a_registry_answering_replayed() {
    one_lost_answer_is_recovered(false, true).await;
}

#[tokio::test]
async fn every_lost_answer_is_reconciled_on_sqlite() {
    every_lost_answer_is_reconciled(false).await;
}

#[tokio::test]
async fn every_lost_answer_is_reconciled_on_postgres() {
    every_lost_answer_is_reconciled(true).await;
}

#[tokio::test]
async fn a_revocation_missing_from_the_registry_is_restored_on_sqlite() {
    a_revocation_missing_from_the_registry_is_restored(false).await;
}

#[tokio::test]
async fn a_revocation_missing_from_the_registry_is_restored_on_postgres() {
    a_revocation_missing_from_the_registry_is_restored(true).await;
}
