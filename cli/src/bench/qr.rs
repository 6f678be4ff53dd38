//! The offline QR profile: presentation sizes per credential type, the QR version they need at
//! ECC level Q, and issuing and verifying compact credentials in-library.

use std::hint::black_box;

use dojang_core::compact::{self, Binding, HeldCompact, VerifyOptions};
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::vc::SdJwtVcDraft;
use dojang_core::status::StatusListReference;
use dojang_schemas::{Catalog, Issuance};
use qrcode::{EcLevel, QrCode};

use super::{Bench, Unit};

/// What a holder shows at a counter, per type: the claims a verifier typically asks for.
pub(super) const SHOWN: [(&str, &[&str]); 4] = [
    (
        "citizen-card",
        &["name", "age_over_19", "portrait_sha256", "card_number"],
    ),
    ("qualification", &["holder_name", "certificate_number"]),
    ("job-badge", &["identifier"]),
    (
        "mobile-id",
        &["family_name", "given_name", "birthdate", "portrait_sha256"],
    ),
];

/// An issuer DID and status list URI as long as real ones.
const ISSUER: &str = "did:dojang:7bWqkjC8tuWZ8xPnP7qyfb";
const STATUS_URI: &str = "https://registry.dojang.go.kr/status-lists/seoul-1a2b3c4d";

/// The example claims of `type_id`, bound to `holder`, with a status entry.
fn draft(type_id: &str, holder: &SecretKey, now: i64) -> anyhow::Result<SdJwtVcDraft> {
    let ty = Catalog::builtin().get(type_id)?;
    Ok(ty.draft(
        ty.example().clone(),
        Issuance {
            issuer: ISSUER.into(),
            issued_at: now,
            valid_until: None,
            holder_key: Some(holder.public_key().clone()),
            status: Some(StatusListReference {
                idx: 98_765,
                uri: STATUS_URI.into(),
            }),
        },
    )?)
}

pub(super) fn run(bench: &Bench, now: i64) -> anyhow::Result<()> {
    for alg in Algorithm::ALL {
        let tag = super::tag(alg);
        let issuer = SecretKey::generate(alg)?;
        let holder = SecretKey::generate(alg)?;
        let binding = Binding {
            at: now,
            challenge: None,
        };
        for (type_id, shown) in SHOWN {
            let credential = compact::issue(&draft(type_id, &holder, now)?, &issuer, "key-1")?;
            let held = HeldCompact::parse(&credential)?;
            let presentation = held.present(shown, &binding, &holder)?;
            // ES256 is the reference figure (`qr_bytes_<type>`); EdDSA gets a suffix.
            let suffix = if alg == Algorithm::Es256 {
                String::new()
            } else {
                format!("_{tag}")
            };
            let name = format!("qr_bytes_{}{suffix}", type_id.replace('-', "_"));
            if bench.wanted(&name) {
                let text = compact::to_qr_text(&presentation);
                let version = match QrCode::with_error_correction_level(&text, EcLevel::Q)
                    .map(|c| c.version())
                {
                    Ok(qrcode::Version::Normal(v)) => v.to_string(),
                    _ => "none (too large for a QR code)".into(),
                };
                println!("{name}: {} bytes", presentation.len());
                println!(
                    "qr_version_q_{}_{tag}: {version}",
                    type_id.replace('-', "_")
                );
            }
        }

        let draft = draft("citizen-card", &holder, now)?;
        bench.time(&format!("issue_qr_{tag}"), Unit::Micros, |n| {
            for _ in 0..n {
                black_box(compact::issue(&draft, &issuer, "key-1").ok());
            }
        });
        let held = HeldCompact::parse(&compact::issue(&draft, &issuer, "key-1")?)?;
        let presentation = held.present(SHOWN[0].1, &binding, &holder)?;
        let issuer_key = issuer.public_key().clone();
        let options = VerifyOptions::at(now);
        compact::verify(&presentation, &issuer_key, &options)?;
        // The signatures and structure only; `verify_qr_*` adds the trust bundle's checks.
        bench.time(&format!("verify_qr_core_{tag}"), Unit::Micros, |n| {
            for _ in 0..n {
                black_box(compact::verify(&presentation, &issuer_key, &options).ok());
            }
        });
    }
    Ok(())
}
