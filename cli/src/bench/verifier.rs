//! Offline verification as a counter does it: a QR presentation's decoded bytes → the verdict,
//! against a trust bundle exported by a real registry (issuer on the ledger, accredited among
//! 250 others, its status list published), every check made. And the mdoc a verifier receives
//! over OpenID4VP: a DeviceResponse → the verdict, under the IACA root and document signer the
//! bundle carries.

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

/// Issuers the bench's registry accredits besides its own, after them.
const OTHER_ISSUERS: usize = 250;

/// `ssi_kb_es256`: ssi's time for the equivalent SD-JWT VC (issuer and holder ES256, the same
/// four claims), measured earlier in the same run.
pub(super) async fn run(bench: &Bench, ssi_kb_es256: Option<f64>) -> anyhow::Result<()> {
    if !Algorithm::ALL.iter().any(|&alg| {
        bench.wanted(&format!("verify_qr_{}", tag(alg)))
            || bench.wanted(&format!("signature_verify_{}", tag(alg)))
    }) && !bench.wanted("verify_mdoc_es256")
    {
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
            types: vec!["citizen-card".into(), "mobile-id".into()],
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
    // A national registry accredits hundreds of issuers — 243 local governments alone — most
    // of them after any one issuer: a verdict must find its issuer's accreditation among the
    // issuer's own grants, whatever the others.
    let (mut created, mut granted) = (Vec::new(), Vec::new());
    for n in 0..OTHER_ISSUERS {
        let key = SecretKey::generate(Algorithm::EdDsa)?;
        let (document, kid) = crate::registry::document_for(&key);
        created.push(Entry::sign(&Operation::DidCreate { document }, &key, &kid)?);
        let grant = Operation::Grant {
            grantor: root_kid.did.clone(),
            subject: kid.did,
            name: format!("Other issuer {n}"),
            types: vec!["citizen-card".into()],
            delegable: false,
            at: crate::now(),
        };
        granted.push(Entry::sign(&grant, &root, &root_kid)?);
    }
    super::registry::submit_all(&registry, created, 16).await?;
    super::registry::submit_all(&registry, granted, 16).await?;

    // The root authority's IACA and the ES256 issuer's document signer, on the ledger.
    let iaca_key = SecretKey::generate(Algorithm::Es256)?;
    let authority = dojang_mdoc::Authority {
        common_name: "Bench IACA",
        country: "KR",
        url: "https://registry.dojang.go.kr",
        crl_url: "https://registry.dojang.go.kr/crl",
    };
    let now = crate::now();
    let iaca = dojang_mdoc::iaca_certificate(&authority, &iaca_key, now - 60, 3650)?;
    let (_, mdoc_key, mdoc_did, mdoc_uri) = issuers
        .iter()
        .find(|(alg, ..)| *alg == Algorithm::Es256)
        .context("an ES256 issuer")?;
    let ds = dojang_mdoc::document_signer_certificate(
        &authority,
        &iaca,
        &iaca_key,
        &dojang_mdoc::DocumentSigner {
            common_name: "Bench document signer",
            uri: Some(mdoc_did.as_str()),
            key: mdoc_key.public_key(),
            not_before: now - 60,
            days: 365,
        },
    )?;
    for (subject, der) in [(None, &iaca), (Some(mdoc_did.clone()), &ds)] {
        let publish = Operation::CertificatePublish {
            authority: root_kid.did.clone(),
            subject,
            certificate: dojang_core::b64::encode(der),
            at: now,
        };
        registry
            .submit(Entry::sign(&publish, &root, &root_kid)?)
            .await?;
    }
    let mdoc = mdoc_presentation(mdoc_key, &ds, mdoc_uri, now)?;
    let trust = Trust::load(&registry.bundle(None).await?, registry.trust_anchor())?;
    let verifier = Verifier {
        trust: &trust,
        catalog: Catalog::builtin(),
    };
    let policy = Policy::default();

    let (presentation, transcript) = &mdoc;
    let verdict = verifier.mdoc(presentation, transcript, &policy, now);
    ensure!(
        verdict.is_accepted(),
        "the benchmark mdoc must be accepted: {:?}",
        verdict.reasons
    );
    let verify_mdoc = |n| {
        for _ in 0..n {
            black_box(verifier.mdoc(presentation, transcript, &policy, now));
        }
    };
    bench.time("verify_mdoc_es256", Unit::Micros, verify_mdoc);

    for (alg, key, did, uri) in issuers {
        let tag = tag(alg);
        // The floor: a presentation carries two signatures (issuer, holder).
        let message = [7u8; 200];
        let signature = key.sign(&message)?;
        let issuer_key = key.public_key();
        let floor = |n| {
            for _ in 0..n {
                black_box(issuer_key.verify(&message, &signature).is_ok());
            }
        };
        bench.time(&format!("signature_verify_{tag}"), Unit::Micros, floor);
        if alg == Algorithm::Es256 {
            // An mdoc verdict checks three ES256 signatures: the document signer's certificate,
            // the issuer's (issuerAuth) and the device's.
            bench.ratio_side_by_side(
                "verify_mdoc_es256_over_three_signatures",
                verify_mdoc,
                |n| floor(3 * n),
            );
        }
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
        let verify = |n| {
            for _ in 0..n {
                black_box(verifier.qr(&presentation, &policy, now));
            }
        };
        let seconds = bench.time(&format!("verify_qr_{tag}"), Unit::Micros, verify);
        if let Some(seconds) = seconds {
            println!("verify_qr_{tag}_per_core: {:.0} /s", 1.0 / seconds);
        }
        // DESIGN.md §8: a verdict costs at most 1.05 × its two signature checks — of 200-byte
        // messages, and of the very bytes this presentation's two signatures cover (their
        // hashing is part of checking them). Each ratio is of samples taken side by side.
        bench.ratio_side_by_side(
            &format!("verify_qr_{tag}_over_two_signatures"),
            verify,
            |n| floor(2 * n),
        );
        let signed = compact::signatures(&presentation)?;
        let holder_key = &signed.holder_key;
        let own = |n| {
            for _ in 0..n {
                black_box(
                    issuer_key
                        .verify(&signed.issuer.0, &signed.issuer.1)
                        .is_ok(),
                );
                black_box(
                    holder_key
                        .verify(&signed.holder.0, &signed.holder.1)
                        .is_ok(),
                );
            }
        };
        bench.time(
            &format!("signature_verify_{tag}_qr_pair"),
            Unit::Micros,
            own,
        );
        bench.ratio_side_by_side(
            &format!("verify_qr_{tag}_over_its_two_signatures"),
            verify,
            own,
        );
        if alg == Algorithm::Es256 {
            ratio(
                "ssi_sdjwt_over_dojang_verify_qr_es256",
                ssi_kb_es256,
                seconds,
            );
        }
    }
    Ok(())
}

/// A mobile ID mdoc issued by `key` under the document signer `ds`, presented with two
/// elements over an OpenID4VP SessionTranscript: the DeviceResponse and the transcript.
fn mdoc_presentation(
    key: &SecretKey,
    ds: &[u8],
    uri: &str,
    now: i64,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    use dojang_mdoc::{Element, ElementValue};
    let doc_type = Catalog::builtin()
        .get("mobile-id")?
        .descriptor()
        .mdoc_doctype
        .clone()
        .context("the mobile ID is issued as an mdoc")?;
    let element = |identifier: &str, value| Element {
        namespace: doc_type.clone(),
        identifier: identifier.into(),
        value,
    };
    let elements = [
        element("family_name", ElementValue::Text("김".into())),
        element("given_name", ElementValue::Text("민지".into())),
        element("birthdate", ElementValue::FullDate("1994-03-15".into())),
        element("age_over_19", ElementValue::Bool(true)),
        element("document_number", ElementValue::Text("M12345678".into())),
    ];
    let device = SecretKey::generate(Algorithm::Es256)?;
    let status = StatusListReference {
        idx: 98_765,
        uri: uri.to_owned(),
    };
    let issued = dojang_mdoc::issue(&dojang_mdoc::Issuance {
        doc_type: &doc_type,
        elements: &elements,
        device_key: device.public_key(),
        signed: now - 60,
        valid_from: now - 60,
        valid_until: now + 86_400,
        status: Some(&status),
        signer: key,
        certificate: ds,
    })?;
    let transcript = dojang_mdoc::session_transcript_openid4vp(
        "redirect_uri:https://counter.example/response",
        "bench-nonce",
        None,
        "https://counter.example/response",
    );
    let presented = dojang_mdoc::present(
        &issued,
        &[(&doc_type, "family_name"), (&doc_type, "age_over_19")],
        &transcript,
        &device,
    )?;
    Ok((presented, transcript))
}
