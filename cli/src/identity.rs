//! `dojang key …` and `dojang did …`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use dojang_core::did::{self, Did};
use dojang_core::jwk::Jwk;
use dojang_core::key::{Algorithm, SecretKey, Signer};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum AlgArg {
    #[value(name = "ES256", alias = "es256")]
    Es256,
    #[value(name = "EdDSA", alias = "eddsa", alias = "ed25519")]
    EdDsa,
}

impl From<AlgArg> for Algorithm {
    fn from(alg: AlgArg) -> Self {
        match alg {
            AlgArg::Es256 => Algorithm::Es256,
            AlgArg::EdDsa => Algorithm::EdDsa,
        }
    }
}

/// Which self-describing DID method to name a key by.
#[derive(Clone, Copy, Default, ValueEnum)]
pub(crate) enum DidMethod {
    /// `did:key:z…`
    #[default]
    Key,
    /// `did:jwk:…`
    Jwk,
}

impl DidMethod {
    pub(crate) fn did(self, key: &SecretKey) -> Did {
        match self {
            DidMethod::Key => Did::key(key.public_key()),
            DidMethod::Jwk => Did::jwk(key.public_key()),
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum KeyCommand {
    /// Generate a signing key and write it as a private JWK.
    Generate {
        /// Signature algorithm.
        #[arg(long, value_enum)]
        alg: AlgArg,
        /// Where to write the key (mode 0600); standard output if omitted.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Overwrite an existing key file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum DidCommand {
    /// Print the DID of a key file, or resolve a did:key / did:jwk, with its DID document.
    Show {
        /// A private or public JWK file.
        #[arg(long, conflicts_with = "did")]
        key: Option<PathBuf>,
        /// A DID to resolve offline.
        did: Option<String>,
        /// DID method for a key file.
        #[arg(long, value_enum, default_value_t)]
        method: DidMethod,
        /// Print only the DID, not the document.
        #[arg(long)]
        short: bool,
    },
}

pub(crate) fn key(command: KeyCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeyCommand::Generate { alg, out, force } => {
            let key = SecretKey::generate(alg.into())?;
            let did = Did::key(key.public_key());
            let mut jwk = Jwk::from_secret_key(&key);
            jwk.kid = did::key_id(&did);
            let json = serde_json::to_string_pretty(&jwk)?;
            match out {
                Some(path) => {
                    write_secret(&path, &json, force)?;
                    eprintln!("wrote {} key to {}", Algorithm::from(alg), path.display());
                }
                None => println!("{json}"),
            }
            eprintln!("{did}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn did(command: DidCommand) -> anyhow::Result<ExitCode> {
    match command {
        DidCommand::Show {
            key,
            did: did_text,
            method,
            short,
        } => {
            let did = match (key, did_text) {
                (Some(path), _) => {
                    let jwk = read_jwk(&path)?;
                    let public = jwk
                        .to_public_key()
                        .with_context(|| format!("{} is not a usable key", path.display()))?;
                    match method {
                        DidMethod::Key => Did::key(&public),
                        DidMethod::Jwk => Did::jwk(&public),
                    }
                }
                (None, Some(text)) => Did::parse(&text)?,
                (None, None) => bail!("give a DID or --key <file>"),
            };
            if short {
                println!("{did}");
            } else {
                let document = did::resolve_offline(&did)?;
                println!("{}", serde_json::to_string_pretty(&document)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn read_jwk(path: &Path) -> anyhow::Result<Jwk> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a JSON Web Key", path.display()))
}

pub(crate) fn read_secret_key(path: &Path) -> anyhow::Result<SecretKey> {
    read_jwk(path)?
        .to_secret_key()
        .with_context(|| format!("{} is not a usable private key", path.display()))
}

/// A signing key named on the command line: a private JWK file, or a key in an HSM as a PKCS#11
/// URI (`pkcs11:token=…;object=…`; the PIN from `DOJANG_PKCS11_PIN`, `DOJANG_PKCS11_PIN_FILE`
/// or the URI's `pin-source`).
#[derive(Clone, Debug)]
pub(crate) enum KeyArg {
    File(PathBuf),
    Hsm(dojang_pkcs11::KeyUri),
}

impl std::str::FromStr for KeyArg {
    type Err = dojang_pkcs11::UriError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.starts_with("pkcs11:") {
            true => text.parse().map(KeyArg::Hsm),
            false => Ok(KeyArg::File(PathBuf::from(text))),
        }
    }
}

impl KeyArg {
    /// The key, opened. A key on a token is made there first when `make` names an algorithm
    /// and the token has none under that label.
    pub(crate) fn open(&self, make: Option<Algorithm>) -> anyhow::Result<Box<dyn Signer>> {
        use dojang_pkcs11::Pkcs11Signer;
        Ok(match (self, make) {
            (KeyArg::File(path), _) => Box::new(read_secret_key(path)?),
            (KeyArg::Hsm(uri), Some(alg)) => Box::new(Pkcs11Signer::open_or_generate(uri, alg)?),
            (KeyArg::Hsm(uri), None) => Box::new(Pkcs11Signer::open(uri)?),
        })
    }
}

/// Writes secret material readable by the owner only, never replacing a file unless asked.
pub(crate) fn write_secret(path: &Path, contents: &str, force: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        if path.exists() && !force {
            format!("{} exists; pass --force to replace it", path.display())
        } else {
            format!("creating {}", path.display())
        }
    })?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}
