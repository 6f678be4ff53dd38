//! A registry with issuers on it, credentials they issue, and the trust bundle a verifier
//! carries — all real: SQLite file, signatures, Merkle proofs.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use dojang_core::compact::{self, Binding, HeldCompact};
use dojang_core::did::{Did, DidDocument, Relationship};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::vc::SdJwtVcDraft;
use dojang_core::status::StatusListReference;
use dojang_core::status::token::{self, StatusListTokenClaims, TokenStatus, TokenStatusList};
use dojang_ledger::entry::{Entry, Operation};
use dojang_ledger::state::{dojang_did, dojang_document};
use dojang_registry::service::{Registry, RegistryConfig};
use dojang_schemas::{Catalog, Issuance};
use dojang_verifier::Trust;

pub const ORIGIN: &str = "registry.dojang.example/log";
pub const PASSPHRASE: &str = "test passphrase";
const ALL: &[Relationship] = &[
    Relationship::AssertionMethod,
    Relationship::Authentication,
    Relationship::CapabilityInvocation,
];

/// A party with a did:dojang whose `#key-1` has every relationship.
pub struct Actor {
    pub key: SecretKey,
    pub did: Did,
    pub document: DidDocument,
}

impl Actor {
    pub fn new(alg: Algorithm) -> Self {
        let key = SecretKey::generate(alg).unwrap();
        let did = dojang_did(key.public_key());
        let document = dojang_document(&did, &[("key-1", key.public_key(), ALL)]);
        Actor { key, did, document }
    }

    pub fn sign(&self, op: &Operation) -> String {
        Entry::sign(op, &self.key, &self.did.with_fragment("key-1")).unwrap()
    }

    /// This actor's status list at [`status_uri`], with `statuses` set.
    pub fn status_token(&self, statuses: &[(usize, TokenStatus)]) -> String {
        let mut list = TokenStatusList::new(2, 131_072).unwrap();
        for &(i, status) in statuses {
            list.set(i, status).unwrap();
        }
        let claims = StatusListTokenClaims {
            sub: self.status_uri(),
            iat: now(),
            exp: None,
            ttl: Some(3600),
            status_list: list.encode(),
            extra: Default::default(),
        };
        let kid = self.did.with_fragment("key-1").to_string();
        token::sign_token(&claims, Some(&kid), &self.key).unwrap()
    }

    pub fn status_uri(&self) -> String {
        format!(
            "https://registry.example/status-lists/{}",
            self.did.as_str()
        )
    }
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
        let registry = Registry::open(RegistryConfig {
            database_url: url.clone(),
            origin: ORIGIN.into(),
            passphrase: zeroize::Zeroizing::new(PASSPHRASE.into()),
            root: None,
            kdf: dojang_core::seal::KdfParams::INSECURE_FOR_TESTS,
            witnesses: Vec::new(),
            min_witnesses: 0,
        })
        .await
        .unwrap();
        let root = Actor::new(Algorithm::EdDsa);
        registry
            .submit(root.sign(&Operation::Genesis {
                origin: ORIGIN.into(),
                document: root.document.clone(),
            }))
            .await
            .unwrap();
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
            token: issuer.status_token(statuses),
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
                uri: issuer.status_uri(),
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
pub async fn call(
    service: &dojang_verifier::http::VerifierService,
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
