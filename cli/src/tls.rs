//! HTTPS for `dojang up --tls`: a phone's browser opens the camera only for a secure page, so
//! phones on the office LAN need the pages over TLS. The certificate is one the operator gives
//! (`--tls-cert`, `--tls-key`, PEM), or one made on first start and kept in the data directory
//! (`tls/cert.pem`, `tls/key.pem`), self-signed for `localhost`, the loopback addresses and the
//! host of `--public-url`. Its SHA-256 fingerprint is printed, so a person can check it when the
//! phone's browser asks whether to trust it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the certificate comes from.
pub(crate) enum Source<'a> {
    /// PEM files the operator gave.
    Given {
        /// The certificate chain.
        cert: &'a Path,
        /// Its private key.
        key: &'a Path,
    },
    /// Made on first start in `dir`, for `hosts` (names or IP addresses), and kept.
    SelfSigned {
        /// Where it is kept.
        dir: &'a Path,
        /// What it is for.
        hosts: Vec<String>,
    },
}

/// A TLS acceptor and what to tell the operator about its certificate.
pub(crate) struct Tls {
    pub(crate) acceptor: TlsAcceptor,
    /// SHA-256 of the leaf certificate, as colon-separated upper-case hex.
    pub(crate) fingerprint: String,
    /// Where the certificate is.
    pub(crate) cert_path: PathBuf,
}

/// Loads (or first makes) the certificate and builds the acceptor (HTTP/1.1 only, as
/// [`crate::serve`] serves).
pub(crate) fn load(source: Source<'_>) -> anyhow::Result<Tls> {
    let (cert_path, key_path) = match source {
        Source::Given { cert, key } => (cert.to_owned(), key.to_owned()),
        Source::SelfSigned { dir, hosts } => {
            let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
            if !cert.exists() {
                self_signed(dir, &hosts, &cert, &key)?;
            }
            (cert, key)
        }
    };
    let chain = CertificateDer::pem_file_iter(&cert_path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("TLS certificate {}", cert_path.display()))?;
    let leaf = chain
        .first()
        .with_context(|| format!("no certificate in {}", cert_path.display()))?;
    let fingerprint = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, leaf)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .with_context(|| format!("TLS private key {}", key_path.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS protocol versions")?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .context("the TLS certificate and key do not go together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        fingerprint,
        cert_path,
    })
}

/// Makes a self-signed certificate (ECDSA P-256, valid ten years) for `hosts` and writes it
/// and its key (owner-only) under `dir`.
fn self_signed(dir: &Path, hosts: &[String], cert: &Path, key: &Path) -> anyhow::Result<()> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(hosts.iter().filter(|h| !h.is_empty()).cloned());
    names.dedup();
    let generated = rcgen::generate_simple_self_signed(names)
        .context("making a self-signed TLS certificate")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    crate::identity::write_secret(key, &generated.signing_key.serialize_pem(), false)?;
    std::fs::write(cert, generated.cert.pem())
        .with_context(|| format!("writing {}", cert.display()))?;
    Ok(())
}
