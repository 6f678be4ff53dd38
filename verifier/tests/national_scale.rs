//! The national trust state at reduced scale — 40 status lists, 4,096 credentials on each —
//! as a verifier loads it: lists read lazily (each token's own signature and size checked on
//! first use, not at load, see `LedgerState::for_bundle`) give every credential the very status
//! the registry's fully checked state gives it. A list tampered with in the bundle is refused; a
//! list dropped from it leaves its credentials unknown, never valid; and a token whose own
//! signature fails is caught when first read. A bundle filtered to one type gives the same
//! statuses for that type's credentials, and none for the others'.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Actor, Ledger, now};
use dojang_core::jws::Jws;
use dojang_core::key::Algorithm;
use dojang_core::status::StatusListReference;
use dojang_core::status::token::{self, TokenStatus};
use dojang_ledger::bundle::{BundleError, TrustBundle, VerifiedBundle};
use dojang_ledger::entry::{Leaf, Operation};
use dojang_verifier::trust::{StatusLookup, Trust};
use rand::{Rng, SeedableRng};

const LISTS_PER_ISSUER: usize = 20;
const CREDENTIALS_PER_LIST: usize = 4_096;

fn list_id(issuer: &Actor, n: usize) -> String {
    format!("{}-{n}", issuer.did.as_str().replace(':', "-"))
}

fn uri(issuer: &Actor, n: usize) -> String {
    format!(
        "https://registry.example/status-lists/{}",
        list_id(issuer, n)
    )
}

/// Every credential: its issuer, its status reference and the status it was given.
type Credentials = Vec<(String, StatusListReference, TokenStatus)>;

/// Two issuers with 20 lists each; on every list 4,096 credentials, 10 % revoked and 2 %
/// suspended.
async fn national_in_small(ledger: &Ledger) -> (Vec<Actor>, Credentials) {
    let issuers = vec![
        ledger
            .issuer(Algorithm::Es256, "Seoul", &["citizen-card"])
            .await,
        ledger
            .issuer(Algorithm::EdDsa, "HRD Korea", &["national-qualification"])
            .await,
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(40);
    let mut credentials = Vec::new();
    for issuer in &issuers {
        for n in 0..LISTS_PER_ISSUER {
            let mut statuses = Vec::new();
            for idx in rand::seq::index::sample(&mut rng, 131_072, CREDENTIALS_PER_LIST) {
                let status = match rng.gen_range(0..100) {
                    0..10 => TokenStatus::Invalid,
                    10..12 => TokenStatus::Suspended,
                    _ => TokenStatus::Valid,
                };
                statuses.push((idx, status));
                credentials.push((
                    issuer.did.to_string(),
                    StatusListReference {
                        idx: idx as u64,
                        uri: uri(issuer, n),
                    },
                    status,
                ));
            }
            ledger
                .submit(issuer.sign(&Operation::StatusPublish {
                    issuer: issuer.did.clone(),
                    list_id: list_id(issuer, n),
                    version: 1,
                    token: issuer.status_token_with(&uri(issuer, n), &statuses, now()),
                    cwt: None,
                }))
                .await;
        }
    }
    (issuers, credentials)
}

/// The bundle's document, changed by `edit` and signed again with the registry's bundle key:
/// what a registry (or a thief of its key) could send, proofs and all.
async fn resigned(ledger: &Ledger, edit: impl FnOnce(&mut TrustBundle)) -> String {
    let bundle = ledger.registry.bundle(None).await.unwrap();
    let mut document =
        TrustBundle::from_payload(Jws::parse_limited(&bundle, usize::MAX).unwrap().payload())
            .unwrap();
    edit(&mut document);
    document.sign(ledger.registry.bundle_key()).unwrap()
}

/// The position in the bundle of the entry publishing `list_id`.
fn position_of(document: &TrustBundle, list_id: &str) -> usize {
    document
        .entries
        .iter()
        .position(|e| {
            let leaf = Leaf::decode(&e.leaf).unwrap();
            let payload: serde_json::Value =
                Jws::parse(&leaf.entry).unwrap().payload_json().unwrap();
            payload["list_id"] == list_id
        })
        .unwrap()
}

#[tokio::test]
async fn lazy_lists_give_the_registrys_statuses_and_tampering_is_refused() {
    let ledger = Ledger::new().await;
    let (issuers, credentials) = national_in_small(&ledger).await;
    let anchor = ledger.registry.trust_anchor();
    let trust = ledger.trust().await;
    assert_eq!(trust.decoded_status_lists(), 0, "nothing inflated at load");

    // The registry's own state checked every token at admission; read its lists eagerly.
    let eager: std::collections::HashMap<String, token::TokenStatusList> = {
        let state = ledger.registry.state().await;
        state
            .status_lists()
            .map(|record| {
                let key = state
                    .assertion_key_at(&record.issuer, None, u64::MAX)
                    .unwrap();
                let (_, list) =
                    token::verify_token(&record.token, &key, &record.uri, now()).unwrap();
                (record.uri.clone(), list)
            })
            .collect()
    };
    for (issuer, reference, given) in &credentials {
        let lazy = trust.status(issuer, reference, now());
        assert_eq!(lazy, StatusLookup::Known(*given), "{reference:?}");
        assert_eq!(
            eager[&reference.uri]
                .status(reference.idx as usize)
                .unwrap(),
            *given
        );
    }
    assert_eq!(trust.decoded_status_lists(), 2 * LISTS_PER_ISSUER);

    // A verifier that checks citizen cards only: the other issuer's lists are left out of its
    // bundle (every entry still proven), and it knows exactly the same statuses for the rest.
    let citizen_cards = ledger
        .registry
        .bundle_for(None, Some(&["citizen-card".to_owned()]))
        .await
        .unwrap();
    let filtered = Trust::load(&citizen_cards, anchor.clone()).unwrap();
    for (issuer, reference, given) in &credentials {
        let expected = match issuer == issuers[0].did.as_str() {
            true => StatusLookup::Known(*given),
            false => StatusLookup::Missing,
        };
        assert_eq!(filtered.status(issuer, reference, now()), expected);
    }
    assert_eq!(
        filtered.state().accredited_issuers().len(),
        2,
        "accreditation whole"
    );
    let full = ledger.registry.bundle(None).await.unwrap();
    assert!(
        citizen_cards.len() * 3 < full.len() * 2,
        "about half the bytes"
    );

    // Over HTTP: `?types=`, bounded.
    {
        use axum::body::Body;
        use axum::http::{Request, StatusCode};
        use tower::ServiceExt as _;
        let app = dojang_registry::http::app(ledger.registry.clone());
        let get = |query: String| {
            app.clone().oneshot(
                Request::get(format!("/bundle?{query}"))
                    .body(Body::empty())
                    .unwrap(),
            )
        };
        let answer = get("types=citizen-card".into()).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap();
        let over_http = Trust::load(std::str::from_utf8(&body).unwrap(), anchor.clone()).unwrap();
        assert_eq!(
            over_http.state().status_lists().count(),
            filtered.state().status_lists().count()
        );
        // More than 32 ids, or an id no grant could name, is refused.
        let many = vec!["t"; 33].join(",");
        for query in [format!("types={many}"), "types=Citizen%20Card".into()] {
            let refused = get(query).await.unwrap();
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        }
    }

    // A list tampered with: one character of its entry changed, the bundle signed again.
    let target = list_id(&issuers[0], 7);
    let tampered = resigned(&ledger, |document| {
        let at = position_of(document, &target);
        let leaf = &mut document.entries[at].leaf;
        let middle = leaf.len() / 2;
        leaf[middle] = if leaf[middle] == b'A' { b'B' } else { b'A' };
    })
    .await;
    assert!(
        matches!(
            Trust::load(&tampered, anchor.clone()),
            Err(BundleError::Proof { .. } | BundleError::Malformed { .. })
        ),
        "a tampered list is refused"
    );

    // A list dropped: its credentials are not known, so never accepted as valid.
    let dropped = resigned(&ledger, |document| {
        let at = position_of(document, &target);
        document.entries.remove(at);
    })
    .await;
    let without = Trust::load(&dropped, anchor.clone()).unwrap();
    for (issuer, reference, _) in credentials
        .iter()
        .filter(|c| c.1.uri == uri(&issuers[0], 7))
    {
        assert_eq!(
            without.status(issuer, reference, now()),
            StatusLookup::Missing
        );
    }

    // An entry the issuer signed over a token whose own signature fails (the registry refuses
    // it at admission; a bundle's replay defers the check): caught when the list is first read.
    let bundle = ledger.registry.bundle(None).await.unwrap();
    let VerifiedBundle {
        checkpoint,
        witnesses,
        exported_at,
        mut state,
        lists,
    } = dojang_ledger::bundle::verify(&bundle, &anchor).unwrap();
    let seoul = &issuers[0];
    let good = seoul.status_token_with(&uri(seoul, 99), &[(5, TokenStatus::Invalid)], now());
    let (signing_input, signature) = good.rsplit_once('.').unwrap();
    let forged_signature = if signature.starts_with('A') { "B" } else { "A" };
    let forged = format!("{signing_input}.{forged_signature}{}", &signature[1..]);
    let leaf = Leaf {
        timestamp_ms: (now() as u64 + 1) * 1000,
        entry: seoul.sign(&Operation::StatusPublish {
            issuer: seoul.did.clone(),
            list_id: list_id(seoul, 99),
            version: 1,
            token: forged,
            cwt: None,
        }),
    };
    state.apply(checkpoint.size, &leaf).unwrap();
    let trust = Trust::from_verified(
        anchor,
        VerifiedBundle {
            checkpoint,
            witnesses,
            exported_at,
            state,
            lists,
        },
    );
    let reference = StatusListReference {
        idx: 5,
        uri: uri(seoul, 99),
    };
    assert!(
        matches!(
            trust.status(seoul.did.as_str(), &reference, now()),
            StatusLookup::Unavailable(why) if why.contains("signature")
        ),
        "{:?}",
        trust.status(seoul.did.as_str(), &reference, now())
    );
}

/// `issuer`'s `status.root` at `version` over the lists the registry holds for it.
async fn commit(ledger: &Ledger, issuer: &Actor, version: u64) {
    let entry = issuer.status_root(&*ledger.registry.state().await, version);
    ledger.submit(entry).await;
}

/// Republishes list `n` of `issuer` at `version` with the statuses `credentials` give it.
async fn republish(
    ledger: &Ledger,
    issuer: &Actor,
    n: usize,
    version: u64,
    credentials: &Credentials,
) {
    let statuses: Vec<(usize, TokenStatus)> = credentials
        .iter()
        .filter(|c| c.1.uri == uri(issuer, n))
        .map(|c| (c.1.idx as usize, c.2))
        .collect();
    ledger
        .submit(issuer.sign(&Operation::StatusPublish {
            issuer: issuer.did.clone(),
            list_id: list_id(issuer, n),
            version,
            token: issuer.status_token_with(&uri(issuer, n), &statuses, now()),
            cwt: None,
        }))
        .await;
}

fn assert_statuses(trust: &Trust, credentials: &Credentials) {
    for (issuer, reference, given) in credentials {
        assert_eq!(
            trust.status(issuer, reference, now()),
            StatusLookup::Known(*given),
            "{reference:?}"
        );
    }
}

/// The bundle's document as the registry signed it.
fn document(bundle: &str) -> TrustBundle {
    TrustBundle::from_payload(Jws::parse_limited(bundle, usize::MAX).unwrap().payload()).unwrap()
}

#[tokio::test]
async fn lists_under_roots_and_their_deltas_give_the_same_statuses_and_refuse_tampering() {
    let ledger = Ledger::new().await;
    let (issuers, mut credentials) = national_in_small(&ledger).await;
    let anchor = ledger.registry.trust_anchor();
    let before_roots = ledger.registry.bundle(None).await.unwrap();
    for issuer in &issuers {
        commit(&ledger, issuer, 1).await;
    }

    // The full bundle: each issuer's lists as bits beside its root, no publication entries.
    let bundle = ledger.registry.bundle(None).await.unwrap();
    let carried = document(&bundle);
    assert_eq!(carried.lists.len(), 2);
    assert!(
        carried
            .lists
            .iter()
            .all(|g| g.lists.len() == LISTS_PER_ISSUER + 1
                && g.lists.iter().all(|l| l.zlib.is_some()))
    );
    assert!(
        bundle.len() * 2 < before_roots.len(),
        "{} bytes against {} as tokens",
        bundle.len(),
        before_roots.len()
    );
    let trust = Trust::load(&bundle, anchor.clone()).unwrap();
    assert_eq!(trust.decoded_status_lists(), 0, "nothing inflated at load");
    assert_statuses(&trust, &credentials);

    // Filtered to one type: the other issuer's lists left out, its credentials unknown.
    let filtered = ledger
        .registry
        .bundle_for(None, Some(&["citizen-card".to_owned()]))
        .await
        .unwrap();
    assert_eq!(document(&filtered).lists.len(), 1);
    let filtered = Trust::load(&filtered, anchor.clone()).unwrap();
    for (issuer, reference, given) in &credentials {
        let expected = match issuer == issuers[0].did.as_str() {
            true => StatusLookup::Known(*given),
            false => StatusLookup::Missing,
        };
        assert_eq!(filtered.status(issuer, reference, now()), expected);
    }

    // Tampering, each in a bundle signed again with the registry's key.
    let target = list_id(&issuers[0], 7);
    let edit = |edit: &dyn Fn(&mut TrustBundle)| {
        let mut document = carried.clone();
        edit(&mut document);
        document.sign(ledger.registry.bundle_key()).unwrap()
    };
    let list_of = |document: &mut TrustBundle| -> (usize, usize) {
        let group = document
            .lists
            .iter()
            .position(|g| g.issuer == issuers[0].did.as_str())
            .unwrap();
        let at = document.lists[group]
            .lists
            .iter()
            .position(|l| l.list_id == target)
            .unwrap();
        (group, at)
    };
    // A list's bits altered, its digest kept: the root holds, the list is refused when read.
    let altered = edit(&|document| {
        let (g, at) = list_of(document);
        let mut list =
            dojang_ledger::lists::inflate(2, document.lists[g].lists[at].zlib.as_ref().unwrap())
                .unwrap();
        let flip = match list.status(11).unwrap() {
            TokenStatus::Invalid => TokenStatus::Valid,
            _ => TokenStatus::Invalid,
        };
        list.set(11, flip).unwrap();
        document.lists[g].lists[at].zlib = Some(list.compress());
    });
    let with_altered = Trust::load(&altered, anchor.clone()).unwrap();
    assert_eq!(
        Trust::load(&altered, anchor.clone())
            .unwrap()
            .decode_all_status_lists(),
        1,
        "checked all at once: the one altered list"
    );
    for (issuer, reference, given) in &credentials {
        let seen = with_altered.status(issuer, reference, now());
        if reference.uri == uri(&issuers[0], 7) {
            assert!(
                matches!(&seen, StatusLookup::Unavailable(why) if why.contains("root")),
                "{seen:?}"
            );
        } else {
            assert_eq!(seen, StatusLookup::Known(*given));
        }
    }
    // A digest changed to match altered bits, a list dropped, a list added: refused at load.
    let redigested = edit(&|document| {
        let (g, at) = list_of(document);
        document.lists[g].lists[at].digest[0] ^= 1;
    });
    let dropped = edit(&|document| {
        let (g, at) = list_of(document);
        document.lists[g].lists.remove(at);
    });
    let added = edit(&|document| {
        let (g, at) = list_of(document);
        let mut extra = document.lists[g].lists[at].clone();
        extra.list_id.push_str("-copy");
        document.lists[g].lists.push(extra);
    });
    // Carried by digest alone, as if a newer publication served it: there is none.
    let by_digest = edit(&|document| {
        let (g, at) = list_of(document);
        document.lists[g].lists[at].zlib = None;
    });
    for (name, bundle) in [
        ("digest", redigested),
        ("dropped", dropped),
        ("added", added),
        ("by digest", by_digest),
    ] {
        assert!(
            matches!(
                Trust::load(&bundle, anchor.clone()),
                Err(BundleError::Lists { .. })
            ),
            "{name}"
        );
    }
    // The list's older publication put back among the entries (a real entry, proven) and the
    // issuer's lists left out: the root supersedes it — unknown, never the old statuses.
    let stale = {
        let index = ledger
            .registry
            .state()
            .await
            .status_list(&target)
            .unwrap()
            .index;
        let size = trust.size();
        let leaf = ledger.registry.leaf(index).await.unwrap().encode();
        let proof = dojang_ledger::bundle::proof_bytes(
            &ledger.registry.inclusion_proof(index, size).await.unwrap(),
        );
        edit(&|document| {
            document
                .lists
                .retain(|g| g.issuer != issuers[0].did.as_str());
            let at = document.entries.partition_point(|e| e.index < index);
            document.entries.insert(
                at,
                dojang_ledger::bundle::BundleEntry {
                    index,
                    leaf: leaf.clone(),
                    proof: proof.clone(),
                },
            );
        })
    };
    let with_stale = Trust::load(&stale, anchor.clone()).unwrap();
    assert!(
        with_stale.state().status_list(&target).is_some(),
        "the entry replayed"
    );
    for (issuer, reference, _) in credentials
        .iter()
        .filter(|c| c.1.uri == uri(&issuers[0], 7))
    {
        assert_eq!(
            with_stale.status(issuer, reference, now()),
            StatusLookup::Missing
        );
    }
    // An issuer's lists left out whole: its credentials unknown, never valid.
    let without = Trust::load(
        &edit(&|document| {
            document
                .lists
                .retain(|g| g.issuer != issuers[0].did.as_str())
        }),
        anchor.clone(),
    )
    .unwrap();
    assert!(
        credentials
            .iter()
            .filter(|c| c.0 == issuers[0].did.as_str())
            .all(
                |(issuer, reference, _)| without.status(issuer, reference, now())
                    == StatusLookup::Missing
            )
    );

    // A day: revocations on six lists of Seoul and one of HRD Korea, a new list, new roots, and
    // one list republished after its root.
    let size = trust.size();
    let mut rng = rand::rngs::StdRng::seed_from_u64(41);
    let mut changed = std::collections::BTreeSet::new();
    for credential in credentials.iter_mut() {
        let on = |i: usize, n: usize| credential.1.uri == uri(&issuers[i], n);
        if ((0..6).any(|n| on(0, n)) || on(1, 3)) && rng.gen_range(0..20) == 0 {
            credential.2 = match credential.2 {
                TokenStatus::Valid => TokenStatus::Invalid,
                TokenStatus::Suspended => TokenStatus::Valid,
                other => other,
            };
            changed.insert(credential.1.uri.clone());
        }
    }
    assert_eq!(changed.len(), 7);
    for n in 0..6 {
        republish(&ledger, &issuers[0], n, 2, &credentials).await;
    }
    republish(&ledger, &issuers[1], 3, 2, &credentials).await;
    let new_list = (
        issuers[0].did.to_string(),
        StatusListReference {
            idx: 9,
            uri: uri(&issuers[0], LISTS_PER_ISSUER),
        },
        TokenStatus::Invalid,
    );
    credentials.push(new_list);
    republish(&ledger, &issuers[0], LISTS_PER_ISSUER, 1, &credentials).await;
    commit(&ledger, &issuers[0], 2).await;
    commit(&ledger, &issuers[1], 2).await;
    let late = credentials
        .iter_mut()
        .find(|c| c.1.uri == uri(&issuers[1], 4) && c.2 == TokenStatus::Valid)
        .unwrap();
    late.2 = TokenStatus::Invalid;
    republish(&ledger, &issuers[1], 4, 2, &credentials).await;

    let delta = ledger.registry.bundle(Some(size)).await.unwrap();
    let patch_of = document(&delta);
    assert!(patch_of.lists.iter().all(|g| !g.patch.is_empty()));
    assert_eq!(
        patch_of.lists.iter().map(|g| g.lists.len()).sum::<usize>(),
        2,
        "carried whole or by digest: only the new list and the one republished after its root"
    );
    assert!(
        delta.len() * 4 < bundle.len(),
        "{} of {}",
        delta.len(),
        bundle.len()
    );
    let mut updated = trust.clone();
    updated.update(&delta).unwrap();
    assert_statuses(&updated, &credentials);
    assert_statuses(
        &Trust::load(&ledger.registry.bundle(None).await.unwrap(), anchor.clone()).unwrap(),
        &credentials,
    );
    // A new root covering, unchanged, the list the verifier holds as a publication: the list
    // is now carried under the root (a publication older than the root is not used), statuses
    // the same.
    let held = updated.size();
    commit(&ledger, &issuers[1], 3).await;
    let mut next = updated.clone();
    next.update(&ledger.registry.bundle(Some(held)).await.unwrap())
        .unwrap();
    assert_statuses(&next, &credentials);

    // A delta whose patch changes one more entry, or leaves an issuer's lists out: refused,
    // the trust held unchanged.
    let forged_patch = {
        let mut document = patch_of.clone();
        let group = &mut document.lists[0];
        let mut patch = dojang_ledger::lists::Patch::decode(&group.patch).unwrap();
        let changes = &mut patch.lists[0].1;
        let free = (0..131_072)
            .find(|i| changes.iter().all(|(c, _)| c != i))
            .unwrap();
        changes.push((free, TokenStatus::Invalid.value()));
        changes.sort_unstable();
        group.patch = patch.encode();
        document.sign(ledger.registry.bundle_key()).unwrap()
    };
    let left_out = {
        let mut document = patch_of.clone();
        document.lists.remove(0);
        document.sign(ledger.registry.bundle_key()).unwrap()
    };
    for forged in [forged_patch, left_out] {
        let mut held = trust.clone();
        assert!(matches!(
            held.update(&forged),
            Err(BundleError::Lists { .. })
        ));
        assert_eq!(held.size(), size);
    }
}

/// A counter that checks job badges only: its service asks for bundles and deltas filtered to
/// that type, sees a revocation through the issuer's new root, and holds no other issuer's
/// lists — while another type's issuer commits to new lists too.
#[tokio::test]
async fn a_verifier_checking_one_type_follows_its_issuers_roots_through_filtered_deltas() {
    use dojang_core::compact;
    use dojang_verifier::service::{VerifierConfig, VerifierService};
    let ledger = Ledger::new().await;
    let seoul = ledger
        .issuer(Algorithm::Es256, "Seoul", &["job-badge"])
        .await;
    let busan = ledger
        .issuer(Algorithm::Es256, "Busan", &["citizen-card"])
        .await;
    for issuer in [&seoul, &busan] {
        commit(&ledger, issuer, 1).await;
    }
    let config = VerifierConfig {
        public_url: "https://counter.example".into(),
        audience: "counter-1.example".into(),
        registry_url: None,
        max_bundle_age: Some(86_400),
        min_witnesses: 0,
    };
    let service = VerifierService::without_trust(config, ledger.registry.trust_anchor())
        .with_ledger(std::sync::Arc::new(ledger.registry.clone()))
        .checking_types(vec!["job-badge".into()]);
    service.refresh().await.unwrap();
    let holder = dojang_core::key::SecretKey::generate(Algorithm::Es256).unwrap();
    let badge = common::issue(&seoul, "job-badge", &holder, 5);
    let judge = |service: &VerifierService| {
        let shown = compact::to_qr_text(&common::present(&badge, &holder, now()));
        service.verify(shown.as_bytes(), None, now()).unwrap()
    };
    assert!(judge(&service).is_accepted());
    // A phone that loaded the filtered bundle and refreshes with unfiltered deltas (the SDK's
    // `refresh`): the lists it never took stay out, unknown; its own type's are followed.
    let anchor = ledger.registry.trust_anchor();
    let only_badges = ["job-badge".to_owned()];
    let mut phone = Trust::load(
        &ledger
            .registry
            .bundle_for(None, Some(&only_badges))
            .await
            .unwrap(),
        anchor,
    )
    .unwrap();

    ledger
        .publish(&seoul, 2, &[(5, TokenStatus::Invalid)])
        .await;
    commit(&ledger, &seoul, 2).await;
    ledger
        .publish(&busan, 2, &[(9, TokenStatus::Invalid)])
        .await;
    commit(&ledger, &busan, 2).await;
    service.refresh().await.unwrap();
    let verdict = judge(&service);
    assert!(!verdict.is_accepted());
    assert_eq!(verdict.reasons[0].code.as_str(), "revoked", "{verdict:?}");

    phone
        .update(&ledger.registry.bundle(Some(phone.size())).await.unwrap())
        .unwrap();
    let at = |issuer: &Actor, idx: u64| StatusListReference {
        idx,
        uri: common::status_uri(issuer),
    };
    assert_eq!(
        phone.status(seoul.did.as_str(), &at(&seoul, 5), now()),
        StatusLookup::Known(TokenStatus::Invalid)
    );
    assert_eq!(
        phone.status(busan.did.as_str(), &at(&busan, 9), now()),
        StatusLookup::Missing
    );

    // Busan is accredited for job badges too: the counter's next delta carries the whole state
    // (its older lists were never taken), and Busan's badges are judged by their lists.
    ledger.grant(&busan, "Busan", &["job-badge"]).await;
    service.refresh().await.unwrap();
    let busan_badge = common::issue(&busan, "job-badge", &holder, 9);
    let shown = compact::to_qr_text(&common::present(&busan_badge, &holder, now()));
    let verdict = service.verify(shown.as_bytes(), None, now()).unwrap();
    assert_eq!(verdict.reasons[0].code.as_str(), "revoked", "{verdict:?}");
}
