//! The ledger state machine: every rule, accepted and refused with its specific error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dojang_core::did::{Did, Relationship};
use dojang_core::jws::JwsError;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::status::token::{self, StatusListTokenClaims, TokenStatus, TokenStatusList};
use dojang_ledger::did::dojang_document;
use dojang_ledger::entry::{Entry, EntryError, Leaf, MAX_ENTRY_LEN, Operation};
use dojang_ledger::state::{Accreditation, AsOf, KeyHistoryError, LedgerState};
use dojang_testkit::ledger::{Actor, TestLog, grant};

const ALL: &[Relationship] = dojang_ledger::did::EVERY_RELATIONSHIP;
const ORIGIN: &str = "registry.dojang.example/log";

fn actors() -> (Actor, Actor, TestLog) {
    let root = Actor::new(Algorithm::EdDsa);
    let seoul = Actor::new(Algorithm::Es256);
    let mut log = TestLog::new(&root, ORIGIN);
    log.append(seoul.create()).unwrap();
    (root, seoul, log)
}

#[test]
fn genesis_comes_first_and_only_once() {
    let root = Actor::new(Algorithm::EdDsa);
    let mut state = LedgerState::new();
    let leaf = |entry: String| Leaf {
        timestamp_ms: 1,
        entry,
    };
    assert!(matches!(
        state.apply(0, &leaf(root.create())),
        Err(EntryError::Genesis { .. })
    ));
    assert!(matches!(
        state.apply(3, &leaf(root.genesis(ORIGIN))),
        Err(EntryError::Genesis { .. })
    ));
    state.apply(0, &leaf(root.genesis(ORIGIN))).unwrap();
    assert_eq!(state.root(), Some(&root.did));
    assert_eq!(state.origin(), Some(ORIGIN));
    let other = Actor::new(Algorithm::EdDsa);
    assert!(matches!(
        state.apply(1, &leaf(other.genesis(ORIGIN))),
        Err(EntryError::Genesis { .. })
    ));
}

#[test]
fn did_creation_rules() {
    let (_root, seoul, mut log) = actors();
    // Replay of the same create.
    assert!(matches!(
        log.append(seoul.create()),
        Err(EntryError::DidExists { .. })
    ));
    // A document claiming a DID derived from someone else's key (squatting).
    let thief = Actor::new(Algorithm::Es256);
    let victim = Actor::new(Algorithm::Es256);
    let squat = dojang_document(&victim.did, &[("key-1", thief.key.public_key(), ALL)]);
    let forged = Entry::sign(
        &Operation::DidCreate { document: squat },
        &thief.key,
        &victim.kid("key-1"),
    )
    .unwrap();
    assert!(matches!(
        log.append(forged),
        Err(EntryError::Unauthorized {
            action: "create a DID not derived from its own key",
            ..
        })
    ));
    let fresh = Actor::new(Algorithm::Es256);
    let bad_sig = fresh.sign_with(
        &Operation::DidCreate {
            document: fresh.document.clone(),
        },
        &thief.key,
        "key-1",
    );
    assert_eq!(log.append(bad_sig).unwrap_err(), EntryError::BadSignature);
    // Signed for another DID than the operation's actor.
    let cross = Entry::sign(
        &Operation::DidCreate {
            document: fresh.document.clone(),
        },
        &thief.key,
        &thief.kid("key-1"),
    )
    .unwrap();
    assert!(matches!(
        log.append(cross),
        Err(EntryError::Unauthorized {
            action: "sign for another DID",
            ..
        })
    ));
    // A key without capabilityInvocation cannot create.
    let limited = Actor::new(Algorithm::EdDsa);
    let doc = dojang_document(
        &limited.did,
        &[(
            "key-1",
            limited.key.public_key(),
            &[Relationship::AssertionMethod],
        )],
    );
    let entry = limited.sign(&Operation::DidCreate { document: doc });
    assert!(
        matches!(log.append(entry), Err(EntryError::Malformed { reason }) if reason.contains("capabilityInvocation"))
    );
    log.append(fresh.create()).unwrap();
}

#[test]
fn updates_chain_and_refuse_replays_and_forks() {
    let (_root, seoul, mut log) = actors();
    let key2 = SecretKey::generate(Algorithm::Es256).unwrap();
    let rotated = dojang_document(
        &seoul.did,
        &[
            (
                "key-1",
                seoul.key.public_key(),
                &[Relationship::CapabilityInvocation],
            ),
            (
                "key-2",
                key2.public_key(),
                &[Relationship::AssertionMethod, Relationship::Authentication],
            ),
        ],
    );
    let prev = log.prev(&seoul.did);
    let update = seoul.sign(&Operation::DidUpdate {
        prev: prev.clone(),
        document: rotated.clone(),
    });
    log.append(update.clone()).unwrap();
    assert_eq!(
        log.append(update).unwrap_err(),
        EntryError::BrokenChain {
            did: seoul.did.to_string()
        },
        "replay"
    );
    let fork = seoul.sign(&Operation::DidUpdate {
        prev,
        document: seoul.document.clone(),
    });
    assert_eq!(
        log.append(fork).unwrap_err(),
        EntryError::BrokenChain {
            did: seoul.did.to_string()
        },
        "fork"
    );
    // key-2 is an assertion key only: it may not change the document.
    let by_assertion_key = seoul.sign_with(
        &Operation::DidUpdate {
            prev: log.prev(&seoul.did),
            document: rotated.clone(),
        },
        &key2,
        "key-2",
    );
    assert!(matches!(
        log.append(by_assertion_key),
        Err(EntryError::Unauthorized { .. })
    ));
    // A rejected entry changed nothing: the chain continues from the same point.
    let deactivate = seoul.sign(&Operation::DidDeactivate {
        did: seoul.did.clone(),
        prev: log.prev(&seoul.did),
    });
    log.append(deactivate).unwrap();
    let after = seoul.sign(&Operation::DidUpdate {
        prev: log.prev(&seoul.did),
        document: rotated,
    });
    assert_eq!(
        log.append(after).unwrap_err(),
        EntryError::Deactivated {
            did: seoul.did.to_string()
        }
    );
}

#[test]
fn key_history_judges_credentials_by_issuance_time() {
    let (_root, seoul, mut log) = actors();
    let created = log.time - 1000;
    let key2 = SecretKey::generate(Algorithm::Es256).unwrap();
    let rotated = dojang_document(
        &seoul.did,
        &[
            (
                "key-1",
                seoul.key.public_key(),
                &[Relationship::CapabilityInvocation],
            ),
            ("key-2", key2.public_key(), &[Relationship::AssertionMethod]),
        ],
    );
    log.time += 60_000;
    let rotation_time = log.time;
    log.append(seoul.sign(&Operation::DidUpdate {
        prev: log.prev(&seoul.did),
        document: rotated,
    }))
    .unwrap();
    let kid1 = seoul.kid("key-1").to_string();
    let kid2 = seoul.kid("key-2").to_string();
    let s = &log.state;
    assert_eq!(
        &s.assertion_key_at(&seoul.did, Some(&kid1), rotation_time - 1)
            .unwrap(),
        seoul.key.public_key()
    );
    assert!(matches!(
        s.assertion_key_at(&seoul.did, Some(&kid1), rotation_time),
        Err(KeyHistoryError::NotValidAt { .. })
    ));
    assert_eq!(
        &s.assertion_key_at(&seoul.did, Some(&kid2), rotation_time + 5)
            .unwrap(),
        key2.public_key()
    );
    assert!(matches!(
        s.assertion_key_at(&seoul.did, Some(&kid2), rotation_time - 1),
        Err(KeyHistoryError::NotValidAt { .. })
    ));
    assert!(matches!(
        s.assertion_key_at(&seoul.did, Some(&kid1), created - 1),
        Err(KeyHistoryError::NotValidAt { .. })
    ));
    // Within one second (a credential's `iat`) spanning the rotation, both keys were in force
    // at some instant; a second before it, only key-1, after it only key-2.
    let second = rotation_time - 400..=rotation_time + 599;
    let during = |kid: &str, from: u64, to: u64| {
        s.assertion_method_during(&seoul.did, Some(kid), from, to)
            .map(|m| m.public_key().unwrap())
    };
    assert_eq!(
        &during(&kid1, *second.start(), *second.end()).unwrap(),
        seoul.key.public_key()
    );
    assert_eq!(
        &during(&kid2, *second.start(), *second.end()).unwrap(),
        key2.public_key()
    );
    assert!(matches!(
        during(&kid2, rotation_time - 1000, rotation_time - 1),
        Err(KeyHistoryError::NotValidAt { .. })
    ));
    assert!(matches!(
        during(&kid1, rotation_time, rotation_time + 999),
        Err(KeyHistoryError::NotValidAt { .. })
    ));
    let stranger = Actor::new(Algorithm::EdDsa);
    assert!(matches!(
        s.assertion_key_at(&stranger.did, None, rotation_time),
        Err(KeyHistoryError::UnknownDid { .. })
    ));
    assert!(matches!(
        s.assertion_method_during(&stranger.did, None, 0, rotation_time),
        Err(KeyHistoryError::UnknownDid { .. })
    ));
    // A verifier finds an issuer by its text, unparsed: a registered DID is the very DID the
    // log holds; a well-formed DID never registered, and text that is no DID, are not found.
    assert_eq!(
        s.registered(seoul.did.as_str()).map(|(did, _)| did),
        Some(&seoul.did)
    );
    assert!(s.registered(stranger.did.as_str()).is_none());
    assert!(s.registered(&format!("{}x", seoul.did)).is_none());
    assert!(s.registered("seoul city office").is_none());
    // Resolution as of a log size and a time.
    assert_eq!(
        s.document(&seoul.did, AsOf::Size(2))
            .unwrap()
            .assertion_method
            .len(),
        1
    );
    assert_eq!(
        s.document(&seoul.did, AsOf::Time(rotation_time))
            .unwrap()
            .verification_method
            .len(),
        2
    );
    assert!(
        s.document(&seoul.did, AsOf::Size(1)).is_none(),
        "not yet created at size 1"
    );
}

#[test]
fn accreditation_delegation_and_withdrawal() {
    let (root, seoul, mut log) = actors();
    let keis = Actor::new(Algorithm::EdDsa);
    let center = Actor::new(Algorithm::Es256);
    log.append(keis.create()).unwrap();
    log.append(center.create()).unwrap();
    log.append(grant(
        &root,
        &seoul,
        "Seoul Metropolitan Government",
        &["citizen-card"],
        false,
    ))
    .unwrap();
    assert!(
        matches!(log.state.accreditation(&seoul.did, "citizen-card"), Accreditation::Accredited { name, .. } if name == "Seoul Metropolitan Government")
    );
    assert_eq!(
        log.state.accreditation(&seoul.did, "mobile-id"),
        Accreditation::NotAccredited
    );

    // Seoul holds no delegable grant: it cannot accredit anyone.
    let by_seoul = grant(&seoul, &center, "Center", &["citizen-card"], false);
    assert!(matches!(
        log.append(by_seoul),
        Err(EntryError::Unauthorized { .. })
    ));

    // KEIS may delegate job badges to a training center.
    log.append(grant(
        &root,
        &keis,
        "Korea Employment Information Service",
        &["job-badge"],
        true,
    ))
    .unwrap();
    log.append(grant(
        &keis,
        &center,
        "Busan Training Center",
        &["job-badge"],
        false,
    ))
    .unwrap();
    assert!(matches!(
        log.state.accreditation(&center.did, "job-badge"),
        Accreditation::Accredited { .. }
    ));
    // …but not types it does not hold.
    assert!(
        log.append(grant(
            &keis,
            &center,
            "Busan Training Center",
            &["mobile-id"],
            false
        ))
        .is_err()
    );

    // Withdrawing KEIS's grant withdraws what it delegated.
    let withdraw = root.sign(&Operation::Withdraw {
        grantor: root.did.clone(),
        subject: keis.did.clone(),
        types: vec!["job-badge".into()],
        reason: "audit-finding".into(),
        at: 1_800_000_000,
    });
    log.append(withdraw).unwrap();
    assert_eq!(
        log.state.accreditation(&keis.did, "job-badge"),
        Accreditation::Withdrawn
    );
    assert_eq!(
        log.state.accreditation(&center.did, "job-badge"),
        Accreditation::Withdrawn
    );
    let issuers: Vec<_> = log
        .state
        .accredited_issuers()
        .into_iter()
        .map(|(d, _, t)| (d, t))
        .collect();
    assert_eq!(
        issuers,
        [(seoul.did.clone(), vec!["citizen-card".to_owned()])]
    );

    // Only the grantor or root may withdraw; nothing to withdraw is an error too.
    let meddler = keis.sign(&Operation::Withdraw {
        grantor: keis.did.clone(),
        subject: seoul.did.clone(),
        types: vec!["citizen-card".into()],
        reason: "x".into(),
        at: 1_800_000_000,
    });
    assert!(matches!(
        log.append(meddler),
        Err(EntryError::Accreditation { .. })
    ));
    let pii = root.sign(&Operation::Withdraw {
        grantor: root.did.clone(),
        subject: seoul.did.clone(),
        types: vec!["citizen-card".into()],
        reason: "Kim Minji complained".into(),
        at: 1_800_000_000,
    });
    assert!(matches!(
        log.append(pii),
        Err(EntryError::Accreditation { .. })
    ));
}

#[test]
fn status_list_publication_rules() {
    let (root, seoul, mut log) = actors();
    let uri = "https://registry.example/status-lists/seoul-1";
    let publish = |actor: &Actor, version: u64, token: String| {
        actor.sign(&Operation::StatusPublish {
            issuer: actor.did.clone(),
            list_id: "seoul-1".into(),
            version,
            token,
            cwt: None,
        })
    };
    // Only an accredited issuer publishes lists (fuzzing finding: a stranger's list cost every
    // verifier memory).
    assert!(matches!(
        log.append(publish(&seoul, 1, seoul.status_token(uri, &[]))),
        Err(EntryError::StatusList { reason, .. }) if reason.contains("accredited")
    ));
    log.append(grant(&root, &seoul, "Seoul", &["citizen-card"], false))
        .unwrap();
    log.append(publish(&seoul, 1, seoul.status_token(uri, &[])))
        .unwrap();
    let stale = publish(&seoul, 1, seoul.status_token(uri, &[5]));
    assert!(
        matches!(log.append(stale), Err(EntryError::StatusList { reason, .. }) if reason.contains("version"))
    );
    log.append(publish(&seoul, 2, seoul.status_token(uri, &[5])))
        .unwrap();
    let record = log.state.status_list("seoul-1").unwrap();
    assert_eq!((record.version, record.uri.as_str()), (2, uri));

    let busan = Actor::new(Algorithm::EdDsa);
    log.append(busan.create()).unwrap();
    log.append(grant(&root, &busan, "Busan", &["citizen-card"], false))
        .unwrap();
    let hijack = publish(&busan, 3, busan.status_token(uri, &[]));
    assert!(
        matches!(log.append(hijack), Err(EntryError::StatusList { reason, .. }) if reason.contains("another issuer"))
    );
    // A token not signed by the issuer's key.
    let foreign_token = busan.status_token(uri, &[]);
    let mismatched = publish(&seoul, 3, foreign_token);
    assert!(matches!(
        log.append(mismatched),
        Err(EntryError::StatusList { .. })
    ));
    let bad_id = seoul.sign(&Operation::StatusPublish {
        issuer: seoul.did.clone(),
        list_id: "../etc".into(),
        version: 9,
        token: seoul.status_token(uri, &[]),
        cwt: None,
    });
    assert!(matches!(
        log.append(bad_id),
        Err(EntryError::StatusList { .. })
    ));
    // A list that inflates past the ledger's bound (16 Mi entries of 2 bits = 4 MiB, from a
    // few kilobytes of zlib) is refused.
    let mut huge = TokenStatusList::new(2, 16 << 20).unwrap();
    huge.set(5, TokenStatus::Invalid).unwrap();
    let claims = StatusListTokenClaims {
        sub: uri.into(),
        iat: 1_800_000_000,
        exp: None,
        ttl: None,
        status_list: huge.encode(),
        extra: Default::default(),
    };
    assert!(claims.status_list.lst.len() < 64 * 1024);
    let token =
        token::sign_token(&claims, Some(&seoul.kid("key-1").to_string()), &seoul.key).unwrap();
    assert!(matches!(
        log.append(publish(&seoul, 9, token)),
        Err(EntryError::StatusList { reason, .. }) if reason.contains("larger")
    ));
}

#[test]
fn audit_events_carry_counts_only() {
    let (_root, seoul, mut log) = actors();
    let audit = |key: &str| {
        seoul.sign(&Operation::Audit {
            issuer: seoul.did.clone(),
            period_start: 0,
            period_end: 60,
            counts: [(key.to_owned(), 3)].into_iter().collect(),
        })
    };
    log.append(audit("issued:citizen-card")).unwrap();
    assert!(matches!(
        log.append(audit("issued to Kim Minji")),
        Err(EntryError::Malformed { .. })
    ));
}

#[test]
fn malformed_and_hostile_entries() {
    let (_root, seoul, mut log) = actors();
    assert!(matches!(
        log.append("A".repeat(MAX_ENTRY_LEN + 1)),
        Err(EntryError::TooLarge { .. })
    ));
    assert!(matches!(
        log.append("not.a.jws".into()),
        Err(EntryError::Jws(_))
    ));
    let b64 = dojang_core::b64::encode;
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"dojang-entry+jwt"}"#),
        b64("{}")
    );
    assert_eq!(
        log.append(none).unwrap_err(),
        EntryError::Jws(JwsError::AlgorithmNone)
    );
    let unknown_field = dojang_core::jws::sign(
        dojang_core::jws::JwsHeader::new(
            Some("dojang-entry+jwt"),
            Some(&seoul.kid("key-1").to_string()),
        ),
        br#"{"op":"audit","issuer":"x","period_start":0,"period_end":1,"counts":{},"name":"Kim"}"#,
        &seoul.key,
    )
    .unwrap();
    assert!(matches!(
        log.append(unknown_field),
        Err(EntryError::Malformed { .. })
    ));
    let wrong_typ = dojang_core::jws::sign(
        dojang_core::jws::JwsHeader::new(Some("JWT"), Some(&seoul.kid("key-1").to_string())),
        b"{}",
        &seoul.key,
    )
    .unwrap();
    assert!(matches!(
        log.append(wrong_typ),
        Err(EntryError::Jws(JwsError::UnexpectedType { .. }))
    ));
    // Timestamps never go backwards.
    let before = log.state.next_index();
    let leaf = Leaf {
        timestamp_ms: 1,
        entry: Actor::new(Algorithm::EdDsa).create(),
    };
    assert!(log.state.apply(before, &leaf).is_err());
    assert_eq!(
        log.state.next_index(),
        before,
        "a refused entry changes nothing"
    );
    // An unknown signer.
    let ghost = Actor::new(Algorithm::EdDsa);
    let entry = ghost.sign(&Operation::Audit {
        issuer: ghost.did.clone(),
        period_start: 0,
        period_end: 1,
        counts: Default::default(),
    });
    assert!(matches!(
        log.append(entry),
        Err(EntryError::UnknownDid { .. })
    ));
}

/// Finding (fuzzing): when a delegation chain broke among delegates that grant each other,
/// resolving an accreditation walked every simple path — 108 s for 11 delegates. Now one walk
/// per query: this resolves at once (a hang here is the regression).
#[test]
fn mutually_granting_delegates_resolve_in_one_walk() {
    let (root, _seoul, mut log) = actors();
    let delegates: Vec<Actor> = (0..11).map(|_| Actor::new(Algorithm::EdDsa)).collect();
    for d in &delegates {
        log.append(d.create()).unwrap();
    }
    log.append(grant(&root, &delegates[0], "Hub", &["citizen-card"], true))
        .unwrap();
    for (i, a) in delegates.iter().enumerate() {
        for (j, b) in delegates.iter().enumerate() {
            if i != j && j != 0 {
                log.append(grant(a, b, "Delegate", &["citizen-card"], true))
                    .unwrap();
            }
        }
    }
    for (i, a) in delegates.iter().enumerate().skip(1) {
        log.append(grant(a, &delegates[0], "Hub", &["citizen-card"], true))
            .unwrap_or_else(|e| panic!("delegate {i} grants the hub: {e}"));
    }
    assert_eq!(log.state.accredited_issuers().len(), 11);
    assert_eq!(
        log.state.accredited_issuers(),
        each_accreditation(&log.state)
    );
    assert!(matches!(
        log.state.accreditation(&delegates[7].did, "citizen-card"),
        Accreditation::Accredited { .. }
    ));

    // The root withdraws the hub: every chain is broken, and nothing resolves through a cycle.
    let withdraw = root.sign(&Operation::Withdraw {
        grantor: root.did.clone(),
        subject: delegates[0].did.clone(),
        types: vec!["citizen-card".into()],
        reason: "audit-finding".into(),
        at: 1_800_000_000,
    });
    log.append(withdraw).unwrap();
    for d in &delegates {
        assert_eq!(
            log.state.accreditation(&d.did, "citizen-card"),
            Accreditation::Withdrawn
        );
    }
    assert!(log.state.accredited_issuers().is_empty());
    assert!(each_accreditation(&log.state).is_empty());
    let late = Actor::new(Algorithm::EdDsa);
    log.append(late.create()).unwrap();
    assert!(matches!(
        log.append(grant(
            &delegates[3],
            &late,
            "Late",
            &["citizen-card"],
            false
        )),
        Err(EntryError::Unauthorized { .. })
    ));
}

/// `accredited_issuers` as the definition says: `accreditation` asked for every subject and
/// type of every grant.
fn each_accreditation(state: &LedgerState) -> Vec<(Did, String, Vec<String>)> {
    let mut out: std::collections::BTreeMap<Did, (String, u64, Vec<String>)> = Default::default();
    for grant in state.grants() {
        for ty in &grant.types {
            if let Accreditation::Accredited { name, grant_index } =
                state.accreditation(&grant.subject, ty)
            {
                let slot = out
                    .entry(grant.subject.clone())
                    .or_insert_with(|| (name.clone(), grant_index, Vec::new()));
                if grant_index >= slot.1 {
                    (slot.0, slot.1) = (name, grant_index);
                }
                if !slot.2.contains(ty) {
                    slot.2.push(ty.clone());
                }
            }
        }
    }
    out.into_iter()
        .map(|(did, (name, _, mut types))| {
            types.sort();
            (did, name, types)
        })
        .collect()
}

/// Listing accredited issuers walks the grants once per type (and once more per delegator),
/// not once per grant: the same answer as asking each, for many issuers, delegators, a
/// withdrawal and a renamed grant.
#[test]
fn accredited_issuers_agree_with_each_accreditation() {
    let (root, _seoul, mut log) = actors();
    let ministry = Actor::new(Algorithm::EdDsa);
    log.append(ministry.create()).unwrap();
    log.append(grant(
        &root,
        &ministry,
        "Ministry",
        &["citizen-card", "job-badge"],
        true,
    ))
    .unwrap();
    let mut issuers = Vec::new();
    for i in 0..300 {
        let issuer = Actor::new(Algorithm::EdDsa);
        log.append(issuer.create()).unwrap();
        let grantor = if i % 3 == 0 { &root } else { &ministry };
        let types: &[&str] = if i % 2 == 0 {
            &["citizen-card"]
        } else {
            &["job-badge", "citizen-card"]
        };
        log.append(grant(
            grantor,
            &issuer,
            &format!("Office {i}"),
            types,
            i % 10 == 0,
        ))
        .unwrap();
        issuers.push(issuer);
    }
    // A delegate of a delegate; a renamed grant; a withdrawn issuer.
    let office = Actor::new(Algorithm::EdDsa);
    log.append(office.create()).unwrap();
    log.append(grant(
        &issuers[10],
        &office,
        "Branch",
        &["citizen-card"],
        false,
    ))
    .unwrap();
    log.append(grant(
        &root,
        &issuers[3],
        "Office 3, renamed",
        &["citizen-card"],
        false,
    ))
    .unwrap();
    log.append(root.sign(&Operation::Withdraw {
        grantor: root.did.clone(),
        subject: issuers[6].did.clone(),
        types: vec!["citizen-card".into()],
        reason: "audit-finding".into(),
        at: 1_800_000_000,
    }))
    .unwrap();
    let listed = log.state.accredited_issuers();
    assert_eq!(listed, each_accreditation(&log.state));
    assert!(
        listed
            .iter()
            .any(|(did, name, _)| did == &office.did && name == "Branch")
    );
    assert!(
        listed
            .iter()
            .any(|(did, name, _)| did == &issuers[3].did && name == "Office 3, renamed")
    );
    assert!(!listed.iter().any(|(did, _, _)| did == &issuers[6].did));
}

/// The CWT form of `revoked` on `uri`, signed by `actor`'s key.
fn status_cwt(actor: &Actor, uri: &str, revoked: &[usize]) -> String {
    let mut list = TokenStatusList::new(2, 131_072).unwrap();
    for &i in revoked {
        list.set(i, TokenStatus::Invalid).unwrap();
    }
    let claims = dojang_mdoc::StatusListCwt {
        sub: uri.into(),
        iat: dojang_testkit::ledger::FIXTURE_TIME,
        exp: None,
        ttl: Some(300),
        kid: actor.did.with_fragment("key-1").to_string(),
    };
    dojang_core::b64::encode(dojang_mdoc::sign_status_list_cwt(&claims, &list, &actor.key).unwrap())
}

#[test]
fn a_status_lists_cwt_form_is_the_same_list_signed_by_the_same_key() {
    let (root, seoul, mut log) = actors();
    log.append(grant(&root, &seoul, "Seoul", &["citizen-card"], false))
        .unwrap();
    let uri = "https://registry.example/status-lists/seoul-1";
    let publish = |version: u64, cwt: String| {
        seoul.sign(&Operation::StatusPublish {
            issuer: seoul.did.clone(),
            list_id: "seoul-1".into(),
            version,
            token: seoul.status_token(uri, &[5]),
            cwt: Some(cwt),
        })
    };
    let stranger = Actor::new(Algorithm::Es256);
    for (cwt, why) in [
        (status_cwt(&seoul, uri, &[6]), "another list"),
        (
            status_cwt(&seoul, "https://elsewhere/1", &[5]),
            "another URI",
        ),
        (status_cwt(&stranger, uri, &[5]), "another key"),
        ("not base64!".to_owned(), "not base64url"),
        (dojang_core::b64::encode(b"\xa0"), "not a CWT"),
    ] {
        assert!(
            matches!(
                log.append(publish(1, cwt)),
                Err(EntryError::StatusList { .. })
            ),
            "{why}"
        );
    }
    assert!(log.state.status_list("seoul-1").is_none(), "nothing kept");
    log.append(publish(1, status_cwt(&seoul, uri, &[5])))
        .unwrap();
    let record = log.state.status_list("seoul-1").unwrap();
    let cwt = dojang_core::b64::decode(record.cwt.as_deref().unwrap()).unwrap();
    let (claims, list) =
        dojang_mdoc::read_status_list_cwt(&cwt, seoul.key.public_key(), 1 << 20).unwrap();
    assert_eq!(claims.sub, uri);
    assert_eq!(list.status(5).unwrap(), TokenStatus::Invalid);
}

#[test]
fn status_root_rules() {
    let (root, seoul, mut log) = actors();
    let uri = |n: u32| format!("https://registry.example/status-lists/seoul-{n}");
    let publish = |n: u32, version: u64, revoked: &[usize]| {
        seoul.sign(&Operation::StatusPublish {
            issuer: seoul.did.clone(),
            list_id: format!("seoul-{n}"),
            version,
            token: seoul.status_token(&uri(n), revoked),
            cwt: None,
        })
    };
    let digest = |revoked: &[usize]| {
        let mut list = TokenStatusList::new(2, 131_072).unwrap();
        for &i in revoked {
            list.set(i, TokenStatus::Invalid).unwrap();
        }
        dojang_ledger::lists::list_digest(&list)
    };
    let commit = |version: u64, lists: &[(u32, &[usize])]| {
        let covered: Vec<(String, String, _)> = lists
            .iter()
            .map(|(n, revoked)| (format!("seoul-{n}"), uri(*n), digest(revoked)))
            .collect();
        let root = dojang_ledger::lists::status_root(
            covered
                .iter()
                .map(|(id, uri, d)| (id.as_str(), uri.as_str(), d)),
        );
        seoul.sign(&Operation::StatusRoot {
            issuer: seoul.did.clone(),
            version,
            lists: lists.len() as u64,
            root: dojang_core::b64::encode(root),
        })
    };
    let refused = |result: Result<_, EntryError>, why: &str| {
        assert!(
            matches!(&result, Err(EntryError::StatusList { reason, .. }) if reason.contains(why)),
            "{why}: {result:?}"
        );
    };
    refused(log.append(commit(1, &[])), "accredited");
    log.append(grant(&root, &seoul, "Seoul", &["citizen-card"], false))
        .unwrap();
    log.append(publish(1, 1, &[3])).unwrap();
    log.append(publish(2, 1, &[])).unwrap();
    // The root of other statuses, of a list left out, of a list too many: refused.
    refused(
        log.append(commit(1, &[(1, &[4]), (2, &[])])),
        "not the root",
    );
    refused(log.append(commit(1, &[(1, &[3])])), "every list");
    refused(
        log.append(commit(1, &[(1, &[3]), (2, &[]), (3, &[])])),
        "every list",
    );
    let first = commit(1, &[(1, &[3]), (2, &[])]);
    log.append(first.clone()).unwrap();
    assert_eq!(log.state.status_root(&seoul.did).unwrap().version, 1);
    // Replayed, or stale after a change.
    refused(log.append(first), "version");
    log.append(publish(2, 2, &[9])).unwrap();
    refused(
        log.append(commit(2, &[(1, &[3]), (2, &[])])),
        "not the root",
    );
    log.append(commit(2, &[(1, &[3]), (2, &[9])])).unwrap();
    // Signed by someone else's key.
    let stranger = Actor::new(Algorithm::Es256);
    let forged = stranger.sign(&Operation::StatusRoot {
        issuer: seoul.did.clone(),
        version: 3,
        lists: 2,
        root: dojang_core::b64::encode([0u8; 32]),
    });
    assert!(log.append(forged).is_err());
}
