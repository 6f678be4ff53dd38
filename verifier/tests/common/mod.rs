//! A registry with issuers on it, credentials they issue, and the trust bundle a verifier
//! carries — all real: SQLite file, signatures, Merkle proofs.

#![allow(
    dead_code,
    unreachable_pub,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used
)]

use dojang_core::compact::{self, Binding, HeldCompact};
use dojang_core::did::Relationship;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::vc::SdJwtVcDraft;
use dojang_core::status::StatusListReference;
use dojang_core::status::token::TokenStatus;
use dojang_ledger::did::dojang_document;
use dojang_ledger::entry::Operation;
use dojang_registry::service::Registry;
use dojang_schemas::{Catalog, Issuance};
use dojang_verifier::Trust;

pub use dojang_testkit::ledger::Actor;
pub use dojang_testkit::registry::PASSPHRASE;

pub const ORIGIN: &str = "registry.dojang.example/log";

/// `issuer`'s status list at [`status_uri`], issued now, with `statuses` set.
pub fn status_token(issuer: &Actor, statuses: &[(usize, TokenStatus)]) -> String {
    issuer.status_token_with(&status_uri(issuer), statuses, now())
}

/// Where `issuer`'s one status list is published.
pub fn status_uri(issuer: &Actor) -> String {
    format!(
        "https://registry.example/status-lists/{}",
        issuer.did.as_str()
    )
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A registry on a fresh SQLite file.
pub struct Ledger {
    pub registry: Registry,
    pub root: Actor,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Ledger {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("registry.db").display());
        let registry = dojang_testkit::registry::open(dir.path(), ORIGIN).await;
        let root = Actor::new(Algorithm::EdDsa);
        registry.submit(root.genesis(ORIGIN)).await.unwrap();
        Ledger {
            registry,
            root,
            url,
            _dir: dir,
        }
    }

    pub async fn submit(&self, entry: String) {
        self.registry.submit(entry).await.unwrap();
    }

    /// An issuer on the ledger, accredited by the root for `types` under `name`, with an empty
    /// status list published (none: only its DID is registered, and it has no list — the
    /// ledger takes lists from accredited issuers only).
    pub async fn issuer(&self, alg: Algorithm, name: &str, types: &[&str]) -> Actor {
        let actor = Actor::new(alg);
        self.submit(actor.sign(&Operation::DidCreate {
            document: actor.document.clone(),
        }))
        .await;
        if !types.is_empty() {
            self.grant(&actor, name, types).await;
            self.publish(&actor, 1, &[]).await;
        }
        actor
    }

    pub async fn grant(&self, subject: &Actor, name: &str, types: &[&str]) {
        self.submit(self.root.sign(&Operation::Grant {
            grantor: self.root.did.clone(),
            subject: subject.did.clone(),
            name: name.into(),
            types: types.iter().map(|t| t.to_string()).collect(),
            delegable: false,
            at: now(),
        }))
        .await;
    }

    pub async fn withdraw(&self, subject: &Actor, types: &[&str]) {
        self.submit(self.root.sign(&Operation::Withdraw {
            grantor: self.root.did.clone(),
            subject: subject.did.clone(),
            types: types.iter().map(|t| t.to_string()).collect(),
            reason: "audit-failed".into(),
            at: now(),
        }))
        .await;
    }

    pub async fn publish(&self, issuer: &Actor, version: u64, statuses: &[(usize, TokenStatus)]) {
        self.submit(issuer.sign(&Operation::StatusPublish {
            issuer: issuer.did.clone(),
            list_id: issuer.did.as_str().replace(':', "-"),
            version,
            token: status_token(issuer, statuses),
            cwt: None,
        }))
        .await;
    }

    /// Replaces `issuer`'s signing key: `#key-1` keeps only capability invocation, `#key-2`
    /// signs credentials from now on.
    pub async fn rotate(&self, issuer: &Actor) -> SecretKey {
        let key2 = SecretKey::generate(Algorithm::Es256).unwrap();
        let rotated = dojang_document(
            &issuer.did,
            &[
                (
                    "key-1",
                    issuer.key.public_key(),
                    &[Relationship::CapabilityInvocation],
                ),
                ("key-2", key2.public_key(), &[Relationship::AssertionMethod]),
            ],
        );
        let index = {
            let state = self.registry.state().await;
            state
                .did(&issuer.did)
                .unwrap()
                .versions
                .last()
                .unwrap()
                .index
        };
        let prev = dojang_core::b64::encode(self.registry.leaf(index).await.unwrap().hash());
        self.submit(issuer.sign(&Operation::DidUpdate {
            prev,
            document: rotated,
        }))
        .await;
        key2
    }

    /// The full bundle, verified as a verifier would.
    pub async fn trust(&self) -> Trust {
        let bundle = self.registry.bundle(None).await.unwrap();
        Trust::load(&bundle, self.registry.trust_anchor()).unwrap()
    }
}

/// The example credential of `type_id` from `issuer`, bound to `holder`, at status index
/// `idx` of the issuer's list, after `edit`, signed by `key` as `kid`.
pub fn issue_with(
    issuer: &Actor,
    key: &SecretKey,
    kid: &str,
    type_id: &str,
    holder: &SecretKey,
    idx: u64,
    edit: impl FnOnce(&mut SdJwtVcDraft),
) -> HeldCompact {
    let mut draft = draft(issuer, type_id, holder, idx);
    edit(&mut draft);
    HeldCompact::parse(&compact::issue(&draft, key, kid).unwrap()).unwrap()
}

pub fn draft(issuer: &Actor, type_id: &str, holder: &SecretKey, idx: u64) -> SdJwtVcDraft {
    let ty = Catalog::builtin().get(type_id).unwrap();
    ty.draft(
        ty.example().clone(),
        Issuance {
            issuer: issuer.did.to_string(),
            issued_at: now(),
            valid_until: None,
            holder_key: Some(holder.public_key().clone()),
            status: Some(StatusListReference {
                idx,
                uri: status_uri(issuer),
            }),
        },
    )
    .unwrap()
}

pub fn issue(issuer: &Actor, type_id: &str, holder: &SecretKey, idx: u64) -> HeldCompact {
    issue_with(issuer, &issuer.key, "key-1", type_id, holder, idx, |_| {})
}

/// A time-window presentation of every disclosable claim, made at `at`.
pub fn present(held: &HeldCompact, holder: &SecretKey, at: i64) -> Vec<u8> {
    let all = held.disclosable();
    held.present(
        &all,
        &Binding {
            at,
            challenge: None,
        },
        holder,
    )
    .unwrap()
}

/// Sends `request` to the verifier's router in-process; the status and the JSON answer (`null`
/// when the answer is not JSON).
#[cfg(feature = "server")]
pub async fn call(
    service: &dojang_verifier::service::VerifierService,
    request: axum::http::Request<axum::body::Body>,
) -> (axum::http::StatusCode, serde_json::Value) {
    use tower::ServiceExt as _;
    let response = dojang_verifier::http::app(service.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}
