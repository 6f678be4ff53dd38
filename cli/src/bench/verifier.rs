//! Offline verification as a counter does it: a QR presentation's decoded bytes → the verdict,
//! against a trust bundle exported by a real registry (issuer on the ledger, accredited, its
//! status list published), every check made.

use std::hint::black_box;

use anyhow::{Context as _, ensure};
use dojang_core::compact::{self, Binding, HeldCompact};
use dojang_core::key::{Algorithm, SecretKey, Signer as _, Verifier as _};
use dojang_core::status::StatusListReference;
use dojang_core::status::token::{self, StatusListTokenClaims, TokenStatusList};
use dojang_ledger::entry::{Entry, Operation};
use dojang_schemas::{Catalog, Issuance};
use dojang_verifier::{Policy, Trust, Verifier};

use super::{Bench, Unit, qr::SHOWN, ratio, tag};

const STATUS_URI: &str = "https://registry.dojang.go.kr/status-lists/bench-1";

/// `ssi_kb_es256`: ssi's time for the equivalent SD-JWT VC (issuer and holder ES256, the same
/// four claims), measured earlier in the same run.
pub(super) async fn run(bench: &Bench, ssi_kb_es256: Option<f64>) -> anyhow::Result<()> {
    if !Algorithm::ALL.iter().any(|&alg| {
        bench.wanted(&format!("verify_qr_{}", tag(alg)))
            || bench.wanted(&format!("signature_verify_{}", tag(alg)))
    }) {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let (registry, root, root_kid) = super::registry::with_root(&url).await?;

    let mut issuers = Vec::new();
    for alg in Algorithm::ALL {
        let key = SecretKey::generate(alg)?;
        let (document, kid) = crate::registry::document_for(&key);
        let did = kid.did.clone();
        registry
            .submit(Entry::sign(&Operation::DidCreate { document }, &key, &kid)?)
            .await?;
        let grant = Operation::Grant {
            grantor: root_kid.did.clone(),
            subject: did.clone(),
            name: format!("Bench issuer {}", tag(alg)),
            types: vec!["citizen-card".into()],
            delegable: false,
            at: crate::now(),
        };
        registry
            .submit(Entry::sign(&grant, &root, &root_kid)?)
            .await?;
        let uri = format!("{STATUS_URI}-{}", tag(alg));
        let claims = StatusListTokenClaims {
            sub: uri.clone(),
            iat: crate::now(),
            exp: None,
            ttl: Some(3600),
            status_list: TokenStatusList::new(2, 131_072)?.encode(),
            extra: Default::default(),
        };
        let publish = Operation::StatusPublish {
            issuer: did.clone(),
            list_id: format!("bench-{}", tag(alg)),
            version: 1,
            token: token::sign_token(&claims, Some(&kid.to_string()), &key)?,
            cwt: None,
        };
        registry.submit(Entry::sign(&publish, &key, &kid)?).await?;
        issuers.push((alg, key, did, uri));
    }
    let trust = Trust::load(&registry.bundle(None).await?, registry.trust_anchor())?;
    let verifier = Verifier {
        trust: &trust,
        catalog: Catalog::builtin(),
    };
    let policy = Policy::default();
    let now = crate::now();

    for (alg, key, did, uri) in issuers {
        let tag = tag(alg);
        // The floor: a presentation carries two signatures (issuer, holder).
        let message = [7u8; 200];
        let signature = key.sign(&message)?;
        bench.time(&format!("signature_verify_{tag}"), Unit::Micros, |n| {
            for _ in 0..n {
                black_box(key.public_key().verify(&message, &signature).is_ok());
            }
        });
        let holder = SecretKey::generate(alg)?;
        let ty = Catalog::builtin().get("citizen-card")?;
        let draft = ty.draft(
            ty.example().clone(),
            Issuance {
                issuer: did.to_string(),
                issued_at: now,
                valid_until: None,
                holder_key: Some(holder.public_key().clone()),
                status: Some(StatusListReference { idx: 98_765, uri }),
            },
        )?;
        let held = HeldCompact::parse(&compact::issue(&draft, &key, "key-1")?)?;
        let binding = Binding {
            at: now,
            challenge: None,
        };
        let presentation = held.present(SHOWN[0].1, &binding, &holder)?;
        let verdict = verifier.qr(&presentation, &policy, now);
        ensure!(
            verdict.is_accepted(),
            "the benchmark presentation must be accepted: {:?}",
            verdict.reasons
        );
        let seconds = bench
            .time(&format!("verify_qr_{tag}"), Unit::Micros, |n| {
                for _ in 0..n {
                    black_box(verifier.qr(&presentation, &policy, now));
                }
            })
            .context("measured")?;
        println!("verify_qr_{tag}_per_core: {:.0} /s", 1.0 / seconds);
        if alg == Algorithm::Es256 {
            ratio(
                "ssi_sdjwt_over_dojang_verify_qr_es256",
                ssi_kb_es256,
                Some(seconds),
            );
        }
    }
    Ok(())
}
