//! The fixed world every harness runs against: keys from fixed seeds, a small ledger built in
//! memory (root authority, two accredited issuers — one of them after a key rotation — and a
//! stranger), its signed checkpoint, witness cosignature and trust bundle, the verifier's
//! [`Trust`] in it, and the credentials those issuers issue.
//!
//! Everything is a pure function of the seeds and [`NOW`], so an input that crashes a harness
//! once crashes it every time, and the checked-in corpus stays valid: Ed25519 signatures are
//! deterministic, and the seeds that carry ES256 signatures or random salts only need to
//! verify, not to be reproduced byte for byte.

use std::sync::LazyLock;

use dojang_core::compact::{self, Binding, Challenge, HeldCompact};
use dojang_core::did::{Did, DidDocument, DidUrl, Relationship};
use dojang_core::key::{Algorithm, PublicKey, SecretKey, Signer};
use dojang_core::sd_jwt::vc::SdJwtVcDraft;
use dojang_core::sd_jwt::{ClaimPath, HeldSdJwt, KeyBindingInput};
use dojang_core::status::StatusListReference;
use dojang_core::status::token::{self, StatusListTokenClaims, TokenStatus, TokenStatusList};
use dojang_ledger::bundle::{self, BundleEntry, TrustAnchor, TrustBundle, VerifiedBundle};
use dojang_ledger::checkpoint::{self, Checkpoint, SignedCheckpoint};
use dojang_ledger::did::{dojang_did, dojang_document};
use dojang_ledger::entry::{Entry, Leaf, Operation};
use dojang_ledger::merkle::{Hash, MemoryTree};
use dojang_ledger::note::{NoteSigner, TYPE_COSIGNATURE, TYPE_ED25519};
use dojang_ledger::state::LedgerState;
use dojang_schemas::{Catalog, Issuance};
use dojang_verifier::Trust;

/// The verification time of every harness, Unix seconds (2027-01-15).
pub const NOW: i64 = 1_800_000_000;
/// When the world's credentials were issued: an hour before [`NOW`].
pub const ISSUED_AT: i64 = NOW - 3600;
/// When the registry exported the world's bundle.
pub const EXPORTED_AT: i64 = NOW - 60;
/// The log's origin.
pub const ORIGIN: &str = "registry.dojang.example/log";
/// The verifier's identifier: `aud` of key binding JWTs and QR challenges.
pub const AUDIENCE: &str = "https://verifier.dojang.example";
/// The verifier's SD-JWT key binding nonce.
pub const NONCE: &str = "fuzz-nonce-0001";
/// The verifier's QR challenge nonce.
pub const QR_NONCE: &[u8] = b"fuzz-qr-nonce-16";
/// The credential issuer key proofs are addressed to (OpenID4VCI `aud`).
pub const CREDENTIAL_ISSUER: &str = "https://issuer.dojang.example/issuers/seoul";
/// Every credential type the world's first issuer is accredited for.
pub const TYPES: [&str; 4] = ["citizen-card", "job-badge", "mobile-id", "qualification"];

/// The first leaf's time: a day before [`NOW`], in milliseconds; each later leaf is a second on.
const LEDGER_START_MS: u64 = (NOW as u64 - 86_400) * 1000;

const ALL: &[Relationship] = dojang_ledger::did::EVERY_RELATIONSHIP;

/// A fixed key: the 32 seed bytes all equal to `seed` (a valid P-256 scalar for small seeds).
// The seeds are constants below the P-256 group order; a failure is a bug in this file.
#[allow(clippy::expect_used)]
pub fn fixed_key(alg: Algorithm, seed: u8) -> SecretKey {
    SecretKey::from_bytes(alg, &[seed; 32]).expect("a fixed seed is a valid key")
}

/// A party with a `did:dojang` whose `#key-1` (Ed25519) has every relationship, and a second
/// key `#key-2`.
///
/// Every ledger entry and status list token is signed with an Ed25519 `#key-1`, so the log,
/// its checkpoint and its bundle are the same bytes in every process (ES256 signatures are
/// randomized) and the seeds that carry them stay valid.
pub struct Actor {
    /// `#key-1` (Ed25519).
    pub key: SecretKey,
    /// `#key-2`.
    pub key2: SecretKey,
    /// The DID, derived from `#key-1`.
    pub did: Did,
    /// The first DID document.
    pub document: DidDocument,
}

impl Actor {
    /// An actor whose `#key-2` is of `alg`, listed in its first document with `relationships`
    /// (or not at all).
    fn new(seed: u8, alg: Algorithm, relationships: Option<&[Relationship]>) -> Self {
        let key = fixed_key(Algorithm::EdDsa, seed);
        let key2 = fixed_key(alg, seed + 100);
        let did = dojang_did(key.public_key());
        let mut keys = vec![("key-1", key.public_key(), ALL)];
        if let Some(relationships) = relationships {
            keys.push(("key-2", key2.public_key(), relationships));
        }
        let document = dojang_document(&did, &keys);
        Actor {
            key,
            key2,
            did,
            document,
        }
    }

    /// The DID URL of `#fragment`.
    pub fn kid(&self, fragment: &str) -> DidUrl {
        self.did.with_fragment(fragment)
    }

    /// The key named by `fragment`: `key-2` is [`Actor::key2`], anything else `#key-1`.
    pub fn key_for(&self, fragment: &str) -> &SecretKey {
        match fragment {
            "key-2" => &self.key2,
            _ => &self.key,
        }
    }

    /// `op` signed with `#key-1`.
    // Signing with an in-memory key fails only if the system's random source does.
    #[allow(clippy::expect_used)]
    pub fn sign(&self, op: &Operation) -> String {
        Entry::sign(op, &self.key, &self.kid("key-1")).expect("in-memory signing")
    }

    /// Where this actor's status list is published.
    pub fn status_uri(&self) -> String {
        format!("https://registry.dojang.example/status-lists/{}", self.did)
    }

    /// The id of this actor's status list in the ledger.
    pub fn list_id(&self) -> String {
        self.did.as_str().replace(':', "-")
    }

    /// The claims of this actor's status list token, with `statuses` set.
    // A list of the minimum size with indices below it always builds.
    #[allow(clippy::expect_used)]
    pub fn status_claims(&self, statuses: &[(usize, TokenStatus)]) -> StatusListTokenClaims {
        let mut list = TokenStatusList::new(2, dojang_core::status::MIN_ENTRIES).expect("list");
        for &(index, status) in statuses {
            list.set(index, status).expect("index within the list");
        }
        StatusListTokenClaims {
            sub: self.status_uri(),
            iat: NOW - 86_000,
            exp: None,
            ttl: Some(3600),
            status_list: list.encode(),
            extra: Default::default(),
        }
    }

    /// This actor's status list token, signed with `#key-1`.
    // As in `sign`.
    #[allow(clippy::expect_used)]
    pub fn status_token(&self, statuses: &[(usize, TokenStatus)]) -> String {
        let kid = self.kid("key-1").to_string();
        token::sign_token(&self.status_claims(statuses), Some(&kid), &self.key)
            .expect("in-memory signing")
    }
}

/// The fixed trust state and the parties in it.
pub struct World {
    /// The root authority: genesis, grants.
    pub root: Actor,
    /// An issuer that signs credentials with an ES256 `#key-2`, accredited for every type
    /// with a delegable grant.
    pub issuer: Actor,
    /// An issuer accredited for `qualification` and `job-badge` that rotated its assertion
    /// key to an Ed25519 `#key-2` before issuing.
    pub issuer_ed: Actor,
    /// A registered DID nobody accredited (its creation is in the log, not in the bundle),
    /// with an ES256 `#key-2` for every relationship.
    pub stranger: Actor,
    /// A holder key (ES256).
    pub holder: SecretKey,
    /// A holder key (Ed25519).
    pub holder_ed: SecretKey,
    /// The log's checkpoint key.
    pub log: NoteSigner,
    /// A witness's cosigning key.
    pub witness: NoteSigner,
    /// The registry's bundle key (Ed25519).
    pub bundle_key: SecretKey,
    /// What the verifier pins: origin, log key, bundle key, the witness (one cosignature
    /// required).
    pub anchor: TrustAnchor,
    /// Every leaf of the log, in order.
    pub leaves: Vec<Leaf>,
    /// The log's Merkle tree.
    pub tree: MemoryTree,
    /// The ledger state after every leaf.
    pub state: LedgerState,
    /// The full trust bundle (a compact JWS).
    pub bundle: String,
    /// The bundle, verified.
    pub verified: VerifiedBundle,
    /// The verifier's trust in it.
    pub trust: Trust,
    /// The credential types.
    pub catalog: &'static Catalog,
}

static WORLD: LazyLock<World> = LazyLock::new(World::build);

/// The world, built on first use.
pub fn world() -> &'static World {
    &WORLD
}

impl World {
    // Fixed inputs that the registry's own tests accept; a failure here is a bug in this file,
    // and the smoke test fails on it at once.
    #[allow(clippy::expect_used)]
    fn build() -> World {
        const SIGNS: &[Relationship] =
            &[Relationship::AssertionMethod, Relationship::Authentication];
        let root = Actor::new(1, Algorithm::EdDsa, None);
        let issuer = Actor::new(2, Algorithm::Es256, Some(SIGNS));
        let issuer_ed = Actor::new(3, Algorithm::EdDsa, None);
        let stranger = Actor::new(4, Algorithm::Es256, Some(ALL));
        let log = NoteSigner::new(
            "registry.dojang.example",
            TYPE_ED25519,
            fixed_key(Algorithm::EdDsa, 7),
        )
        .expect("log key");
        let witness = NoteSigner::new(
            "witness.dojang.example",
            TYPE_COSIGNATURE,
            fixed_key(Algorithm::EdDsa, 8),
        )
        .expect("witness key");
        let bundle_key = fixed_key(Algorithm::EdDsa, 9);
        let anchor = TrustAnchor {
            origin: ORIGIN.to_owned(),
            log_key: log.verifier().to_string(),
            bundle_key: dojang_core::multikey::encode(bundle_key.public_key()),
            witnesses: vec![witness.verifier().to_string()],
            min_witnesses: 1,
        };

        let mut leaves: Vec<Leaf> = Vec::new();
        let mut tree = MemoryTree::new();
        let mut state = LedgerState::new();
        for entry in ledger_entries(&root, &issuer, &issuer_ed, &stranger) {
            let index = tree.size();
            let leaf = Leaf {
                timestamp_ms: World::leaf_time(index),
                entry,
            };
            state.apply(index, &leaf).expect("the world's ledger");
            tree.push(&leaf.encode());
            leaves.push(leaf);
        }
        let size = tree.size();
        let entries = state
            .trust_indices()
            .into_iter()
            .map(|index| entry_with_proof(&leaves, &tree, index, size))
            .collect();
        let document = TrustBundle {
            format: bundle::FORMAT.to_owned(),
            origin: ORIGIN.to_owned(),
            exported_at: EXPORTED_AT,
            checkpoint: sign_checkpoint(&log, &witness, ORIGIN, size, tree.root_at(size))
                .expect("a valid origin"),
            entries,
            lists: Vec::new(),
            since: None,
        };
        let bundle = document.sign(&bundle_key).expect("in-memory signing");
        let verified = bundle::verify(&bundle, &anchor).expect("the world's bundle");
        let trust = Trust::from_verified(anchor.clone(), verified.clone());
        World {
            root,
            issuer,
            issuer_ed,
            stranger,
            holder: fixed_key(Algorithm::Es256, 5),
            holder_ed: fixed_key(Algorithm::EdDsa, 6),
            log,
            witness,
            bundle_key,
            anchor,
            leaves,
            tree,
            state,
            bundle,
            verified,
            trust,
            catalog: Catalog::builtin(),
        }
    }

    /// issuer_ed's document after the rotation: `#key-1` controls, `#key-2` signs.
    pub fn rotated_document(&self) -> DidDocument {
        rotated_document(&self.issuer_ed)
    }

    /// The timestamp of leaf `index` in the world's log (and in logs the harnesses build).
    pub fn leaf_time(index: u64) -> u64 {
        LEDGER_START_MS + index * 1000
    }

    /// Leaf `index` of the world's log with its inclusion proof in the tree of `size`.
    pub fn bundle_entry(&self, index: u64, size: u64) -> BundleEntry {
        entry_with_proof(&self.leaves, &self.tree, index, size)
    }

    /// A checkpoint note for `origin`, `size` and `root`, signed by the log and cosigned by the
    /// witness; `None` if `origin` cannot be a note's first line.
    pub fn checkpoint_text(&self, origin: &str, size: u64, root: Hash) -> Option<String> {
        sign_checkpoint(&self.log, &self.witness, origin, size, root)
    }

    /// `document` signed with the bundle key.
    // As in `Actor::sign`.
    #[allow(clippy::expect_used)]
    pub fn sign_bundle(&self, document: &TrustBundle) -> String {
        document.sign(&self.bundle_key).expect("in-memory signing")
    }

    /// The holder key whose public half is `key`, if it is one of the world's.
    pub fn holder_for(&self, key: &PublicKey) -> Option<&SecretKey> {
        [&self.holder, &self.holder_ed]
            .into_iter()
            .find(|holder| holder.public_key() == key)
    }

    /// The example credential of `type_id` from `issuer`, bound to `holder`, at status index
    /// `idx` of the issuer's list.
    // The catalog's own examples validate (the schemas crate's tests say so).
    #[allow(clippy::expect_used)]
    pub fn draft(
        &self,
        issuer: &Actor,
        type_id: &str,
        holder: &SecretKey,
        idx: u64,
    ) -> SdJwtVcDraft {
        let ty = self.catalog.get(type_id).expect("a built-in type");
        ty.draft(
            ty.example().clone(),
            Issuance {
                issuer: issuer.did.to_string(),
                issued_at: ISSUED_AT,
                valid_until: None,
                holder_key: Some(holder.public_key().clone()),
                status: Some(StatusListReference {
                    idx,
                    uri: issuer.status_uri(),
                }),
            },
        )
        .expect("the example validates")
    }

    /// The key and key id the issuers sign credentials with: `#key-2` (ES256 for
    /// [`World::issuer`], Ed25519 for [`World::issuer_ed`]).
    pub fn signing_key<'a>(&self, issuer: &'a Actor) -> (&'a SecretKey, &'static str) {
        (&issuer.key2, "key-2")
    }

    /// `draft` as an SD-JWT VC signed by `issuer`.
    // As in `Actor::sign`; the drafts come from `World::draft`.
    #[allow(clippy::expect_used)]
    pub fn sd_jwt_vc(&self, issuer: &Actor, draft: &SdJwtVcDraft) -> String {
        let (key, fragment) = self.signing_key(issuer);
        draft
            .sign(key, &issuer.kid(fragment).to_string())
            .expect("in-memory signing")
    }

    /// A presentation of every claim of `issued` with a key binding JWT for [`AUDIENCE`] and
    /// [`NONCE`] made at [`NOW`] by `holder`.
    // As in `Actor::sign`; `issued` comes from `World::sd_jwt_vc`.
    #[allow(clippy::expect_used)]
    pub fn sd_jwt_presentation(&self, issued: &str, holder: &SecretKey) -> String {
        let held = HeldSdJwt::parse(issued).expect("an issued SD-JWT");
        let all: Vec<ClaimPath> = held.disclosable_paths().into_iter().cloned().collect();
        held.present(
            &all,
            Some(KeyBindingInput {
                signer: holder,
                audience: AUDIENCE,
                nonce: NONCE,
                issued_at: NOW,
            }),
        )
        .expect("in-memory signing")
    }

    /// `draft` as a compact credential signed by `issuer`.
    // As in `Actor::sign`; the drafts come from `World::draft`.
    #[allow(clippy::expect_used)]
    pub fn compact_credential(&self, issuer: &Actor, draft: &SdJwtVcDraft) -> Vec<u8> {
        let (key, fragment) = self.signing_key(issuer);
        compact::issue(draft, key, fragment).expect("in-memory signing")
    }

    /// A QR presentation of every claim of `credential` made at [`NOW`] by `holder`, in
    /// challenge mode when `challenge` (for [`AUDIENCE`] and [`QR_NONCE`]).
    // As in `Actor::sign`; `credential` comes from `World::compact_credential`.
    #[allow(clippy::expect_used)]
    pub fn qr_presentation(
        &self,
        credential: &[u8],
        holder: &dyn Signer,
        challenge: bool,
    ) -> Vec<u8> {
        let held = HeldCompact::parse(credential).expect("an issued credential");
        held.present(&held.disclosable(), &binding(challenge), holder)
            .expect("the holder presents")
    }
}

/// A binding made at [`NOW`], with the world's challenge when `challenge`.
pub fn binding(challenge: bool) -> Binding<'static> {
    Binding {
        at: NOW,
        challenge: challenge.then_some(Challenge {
            audience: AUDIENCE,
            nonce: QR_NONCE,
        }),
    }
}

/// The log: genesis, three DIDs, two grants, two status lists, a key rotation.
fn ledger_entries(
    root: &Actor,
    issuer: &Actor,
    issuer_ed: &Actor,
    stranger: &Actor,
) -> Vec<String> {
    let grant = |subject: &Actor, name: &str, types: &[&str], delegable: bool| {
        root.sign(&Operation::Grant {
            grantor: root.did.clone(),
            subject: subject.did.clone(),
            name: name.to_owned(),
            types: types.iter().map(|t| (*t).to_owned()).collect(),
            delegable,
            at: NOW - 86_000,
        })
    };
    let publish = |actor: &Actor, statuses: &[(usize, TokenStatus)]| {
        actor.sign(&Operation::StatusPublish {
            issuer: actor.did.clone(),
            list_id: actor.list_id(),
            version: 1,
            token: actor.status_token(statuses),
            cwt: None,
        })
    };
    let mut entries = vec![
        root.sign(&Operation::Genesis {
            origin: ORIGIN.to_owned(),
            document: root.document.clone(),
        }),
        issuer.sign(&Operation::DidCreate {
            document: issuer.document.clone(),
        }),
        issuer_ed.sign(&Operation::DidCreate {
            document: issuer_ed.document.clone(),
        }),
        stranger.sign(&Operation::DidCreate {
            document: stranger.document.clone(),
        }),
        grant(issuer, "Seoul Metropolitan Government", &TYPES, true),
        grant(
            issuer_ed,
            "HRD Korea",
            &["qualification", "job-badge"],
            false,
        ),
        publish(
            issuer,
            &[(7, TokenStatus::Invalid), (8, TokenStatus::Suspended)],
        ),
        publish(issuer_ed, &[(7, TokenStatus::Invalid)]),
    ];
    // issuer_ed's create is leaf 2: `prev` is its leaf hash.
    let create = Leaf {
        timestamp_ms: LEDGER_START_MS + 2000,
        entry: entries[2].clone(),
    };
    entries.push(issuer_ed.sign(&Operation::DidUpdate {
        prev: dojang_core::b64::encode(create.hash()),
        document: rotated_document(issuer_ed),
    }));
    entries
}

/// `actor`'s document after the rotation: `#key-1` controls, `#key-2` signs.
fn rotated_document(actor: &Actor) -> DidDocument {
    dojang_document(
        &actor.did,
        &[
            (
                "key-1",
                actor.key.public_key(),
                &[Relationship::CapabilityInvocation],
            ),
            (
                "key-2",
                actor.key2.public_key(),
                &[Relationship::AssertionMethod, Relationship::Authentication],
            ),
        ],
    )
}

/// Leaf `index` of `leaves` with its inclusion proof in the tree of `size`.
// `index < size <= tree size` for every caller.
#[allow(clippy::expect_used)]
fn entry_with_proof(leaves: &[Leaf], tree: &MemoryTree, index: u64, size: u64) -> BundleEntry {
    let leaf = &leaves[index as usize];
    BundleEntry {
        index,
        leaf: leaf.encode(),
        proof: bundle::proof_bytes(
            &tree
                .inclusion_proof(index, size)
                .expect("index in the tree"),
        ),
    }
}

/// A checkpoint note signed by `log` and cosigned by `witness`.
fn sign_checkpoint(
    log: &NoteSigner,
    witness: &NoteSigner,
    origin: &str,
    size: u64,
    root: Hash,
) -> Option<String> {
    let checkpoint = Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
    };
    let mut signed = SignedCheckpoint::sign(checkpoint, log).ok()?;
    let cosignature = checkpoint::cosign(witness, signed.note.text(), EXPORTED_AT as u64).ok()?;
    signed.add_cosignature(cosignature);
    Some(signed.to_text())
}
