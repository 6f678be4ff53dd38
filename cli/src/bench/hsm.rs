//! `issue_sdjwt_es256_pkcs11`: the SD-JWT VC of `issue_sdjwt_es256` signed by a key in an HSM
//! through PKCS#11 — SoftHSM2 here, on a throwaway token — beside the software figure.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, ensure};
use dojang_core::key::Algorithm;
use dojang_core::sd_jwt::vc::SdJwtVcDraft;
use dojang_pkcs11::{KeyUri, Pkcs11Signer};

use super::{Bench, Unit, ratio};

const NAME: &str = "issue_sdjwt_es256_pkcs11";

/// Measures [`NAME`] with `draft` (signed as `kid`), and its ratio over `software` seconds.
pub(super) fn run(
    bench: &Bench,
    draft: &SdJwtVcDraft,
    kid: &str,
    software: Option<f64>,
) -> anyhow::Result<()> {
    if !bench.wanted(NAME) {
        return Ok(());
    }
    let module = std::env::var_os("DOJANG_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/lib/softhsm/libsofthsm2.so".into());
    if !module.exists() {
        println!(
            "{NAME}: skipped (no PKCS#11 module: install softhsm2, or set DOJANG_PKCS11_MODULE)"
        );
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let mut random = [0u8; 8];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| anyhow::anyhow!("no randomness"))?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let label = format!("bench-{}", &hex[..8]);
    let pin = &hex[8..];
    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, pin)?;
    // A throwaway token, its PINs random and gone with it.
    let made = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            &label,
            "--so-pin",
            pin,
            "--pin",
            pin,
        ])
        .output()
        .context("softhsm2-util")?;
    ensure!(
        made.status.success(),
        "softhsm2-util could not make a token"
    );
    let uri: KeyUri = format!(
        "pkcs11:token={label};object=bench?module-path={}&pin-source=file:{}",
        module.display(),
        pin_file.display()
    )
    .parse()?;
    let measured = Pkcs11Signer::generate(&uri, Algorithm::Es256).map(|signer| {
        bench.time(NAME, Unit::Micros, |n| {
            for _ in 0..n {
                black_box(draft.sign(&signer, kid).ok());
            }
        })
    });
    let _ = Command::new("softhsm2-util")
        .args(["--delete-token", "--token", &label])
        .output();
    ratio(&format!("{NAME}_over_software"), measured?, software);
    Ok(())
}
