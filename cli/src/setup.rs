//! Where services keep their data, and the passphrase that seals their keys.

use std::path::Path;

use anyhow::Context;
use zeroize::Zeroizing;

/// The operator's passphrase: `DOJANG_PASSPHRASE`, or a random one kept in the data directory
/// (created on first start, mode 0600) — convenient, but then the keys are only as safe as
/// that directory.
pub(crate) fn passphrase(data_dir: &Path) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(passphrase) = std::env::var("DOJANG_PASSPHRASE") {
        return Ok(Zeroizing::new(passphrase));
    }
    let path = data_dir.join("passphrase");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(Zeroizing::new(existing.trim().to_owned()));
    }
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("random generator failed"))?;
    let generated = dojang_core::b64::encode(bytes);
    // With PostgreSQL nothing else creates the data directory.
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    crate::identity::write_secret(&path, &generated, false)?;
    tracing::warn!(path = %path.display(), "generated a passphrase for the signing keys; set DOJANG_PASSPHRASE in production");
    Ok(Zeroizing::new(generated))
}

pub(crate) fn database_url(
    data_dir: &Path,
    explicit: Option<String>,
    file: &str,
) -> anyhow::Result<String> {
    if let Some(url) = explicit {
        return Ok(url);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    Ok(format!("sqlite://{}", data_dir.join(file).display()))
}

/// Prints a server's startup banner. A server must not die because whoever started it stopped
/// reading its output (a closed pipe makes `println!` panic), so write errors are ignored.
pub(crate) fn announce(banner: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
}
