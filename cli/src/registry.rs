//! `dojang registry …`: run the ledger or a witness, export trust bundles, check proofs offline,
//! and sign the operator's entries (genesis, DID creation, accreditation).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use dojang_core::key::{Algorithm, SecretKey, Signer};
use dojang_core::seal::{KdfParams, PassphraseSealed};
use dojang_ledger::bundle::{self, TrustAnchor, VerifiedBundle, decode_hashes};
use dojang_ledger::checkpoint::SignedCheckpoint;
use dojang_ledger::client::RegistryClient;
use dojang_ledger::did::{EVERY_RELATIONSHIP, first_key_document};
use dojang_ledger::entry::{Entry, Operation};
use dojang_ledger::merkle;
use dojang_ledger::note::NoteVerifier;
use dojang_registry::admission::Admission;
use dojang_registry::service::{Registry, RegistryConfig, WitnessConfig};
use dojang_registry::witness::Witness;

use crate::identity::KeyArg;

#[derive(Subcommand)]
pub(crate) enum RegistryCommand {
    /// Run the registry: HTTP API over a log in SQLite (default) or PostgreSQL.
    Serve(Box<ServeArgs>),
    /// Run a witness that cosigns a registry's checkpoints (C2SP tlog-witness).
    Witness(WitnessArgs),
    /// Fetch the signed trust bundle from a registry, check it against the pinned trust anchor,
    /// save it.
    Bundle {
        /// The registry's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8070")]
        url: String,
        /// Where to write the bundle.
        #[arg(long, short)]
        out: PathBuf,
        /// The pinned trust anchor (JSON), obtained out of band; it must exist. Without it the pin
        /// is `<out>.anchor.json`, written from the registry's own anchor on first use and
        /// compared with it on every later run.
        #[arg(long)]
        anchor: Option<PathBuf>,
        /// Replace the pin with the registry's current anchor, printing what changes.
        #[arg(long)]
        repin: bool,
        /// Carry only the status lists of issuers accredited for these credential types
        /// (comma-separated type ids, at most 32): a verifier that checks a few types holds a
        /// fraction of the lists. Everything else is the same, proven against the same
        /// checkpoint; a credential of another type verifies with its status unavailable.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// Check an inclusion proof offline.
    VerifyInclusion {
        /// The trust anchor (JSON).
        #[arg(long)]
        anchor: PathBuf,
        /// The signed checkpoint (text).
        #[arg(long)]
        checkpoint: PathBuf,
        /// The proof, as `/proofs/inclusion` returns it (JSON).
        #[arg(long)]
        proof: PathBuf,
        /// The leaf hash (base64), as `/entries/<index>` returns it.
        #[arg(long)]
        leaf_hash: String,
    },
    /// Check a consistency proof offline: the new checkpoint extends the old one.
    VerifyConsistency {
        /// The trust anchor (JSON).
        #[arg(long)]
        anchor: PathBuf,
        /// The older signed checkpoint.
        #[arg(long)]
        old: PathBuf,
        /// The newer signed checkpoint.
        #[arg(long)]
        new: PathBuf,
        /// The proof, as `/proofs/consistency` returns it (JSON).
        #[arg(long)]
        proof: PathBuf,
    },
    /// Create the root authority's DID as the log's genesis entry.
    Genesis {
        /// The registry's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8070")]
        url: String,
        /// The root authority's key: a private JWK file (Ed25519 or P-256), or a PKCS#11 URI
        /// (an Ed25519 key made on the token if it has none under that label).
        #[arg(long)]
        key: KeyArg,
        /// The log's origin (must match the registry's).
        #[arg(long, default_value = "registry.dojang.local/log")]
        origin: String,
    },
    /// Register a did:dojang for a key.
    CreateDid {
        /// The registry's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8070")]
        url: String,
        /// The DID's key: a private JWK file, or a PKCS#11 URI (a P-256 key made on the
        /// token if it has none under that label).
        #[arg(long)]
        key: KeyArg,
    },
    /// Accredit an issuer for credential types (signed by the root authority or a delegator).
    Accredit {
        /// The registry's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8070")]
        url: String,
        /// The grantor's key: a private JWK file, or a PKCS#11 URI.
        #[arg(long)]
        key: KeyArg,
        /// The issuer's DID.
        #[arg(long)]
        subject: String,
        /// The issuer's name.
        #[arg(long)]
        name: String,
        /// Credential type ids, comma-separated.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// Let the issuer accredit others for these types.
        #[arg(long)]
        delegable: bool,
    },
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Data directory (SQLite file, generated passphrase).
    #[arg(long, env = "DOJANG_DATA_DIR", default_value = "dojang-data")]
    data_dir: PathBuf,
    /// PostgreSQL instead of SQLite (`postgres://…`).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8070")]
    listen: SocketAddr,
    /// The log's origin.
    #[arg(long, default_value = "registry.dojang.local/log")]
    origin: String,
    /// Witnesses to collect cosignatures from: `<url>=<verifier key>`.
    #[arg(long = "witness", value_parser = parse_witness)]
    witnesses: Vec<WitnessConfig>,
    /// Cosignatures verifiers should require.
    #[arg(long, default_value_t = 0)]
    min_witnesses: usize,
    /// Require genesis to create this root authority DID.
    #[arg(long)]
    root_did: Option<String>,
    /// Open appends (entries from DIDs outside trust, e.g. `did.create`) admitted per client
    /// address per minute.
    #[arg(long, default_value_t = Admission::default().per_client_per_minute)]
    open_appends_per_minute: u32,
    /// Open appends waiting to be sequenced at once, from all clients.
    #[arg(long, default_value_t = Admission::default().max_pending)]
    max_pending_open_appends: usize,
    /// The log's signing key in an HSM, as a PKCS#11 URI (Ed25519, made on the token on first
    /// start if absent; PIN from DOJANG_PKCS11_PIN, DOJANG_PKCS11_PIN_FILE or the URI's
    /// pin-source). A log keeps its key: set it on the first start or never.
    #[arg(long, env = "DOJANG_REGISTRY_LOG_KEY")]
    log_key: Option<dojang_pkcs11::KeyUri>,
    /// The trust bundle's signing key in an HSM, as a PKCS#11 URI (as `--log-key`).
    #[arg(long, env = "DOJANG_REGISTRY_BUNDLE_KEY")]
    bundle_key: Option<dojang_pkcs11::KeyUri>,
}

#[derive(Args)]
pub(crate) struct WitnessArgs {
    /// Data directory (SQLite file with the witness key and state).
    #[arg(long, default_value = "dojang-witness")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8071")]
    listen: SocketAddr,
    /// The witness's name (key name in cosignatures), e.g. `mois.go.kr/witness`.
    #[arg(long)]
    name: String,
    /// Verifier keys of the logs to follow (`<origin>+<id>+<key>`).
    #[arg(long = "log", required = true)]
    logs: Vec<String>,
    /// The cosigning key in an HSM, as a PKCS#11 URI (Ed25519, made on the token if absent;
    /// PIN as for the registry's keys). Without it: a key sealed in the data directory. A
    /// witness keeps its key: logs and verifiers pin it.
    #[arg(long, env = "DOJANG_WITNESS_KEY")]
    key: Option<dojang_pkcs11::KeyUri>,
}

fn parse_witness(text: &str) -> Result<WitnessConfig, String> {
    let (url, key) = text
        .split_once('=')
        .ok_or("expected <url>=<verifier key>")?;
    Ok(WitnessConfig {
        url: url.to_owned(),
        key: NoteVerifier::parse(key).map_err(|e| e.to_string())?,
    })
}

pub(crate) fn run(command: RegistryCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        match command {
            RegistryCommand::Serve(args) => serve(*args).await,
            RegistryCommand::Witness(args) => witness(args).await,
            RegistryCommand::Bundle {
                url,
                out,
                anchor,
                repin,
                types,
            } => {
                let pin = AnchorPin::new(anchor, out.with_extension("anchor.json"), repin);
                let types = (!types.is_empty()).then_some(types.as_slice());
                export_bundle(&url, &out, &pin, types).await
            }
            RegistryCommand::VerifyInclusion {
                anchor,
                checkpoint,
                proof,
                leaf_hash,
            } => verify_inclusion(&anchor, &checkpoint, &proof, &leaf_hash),
            RegistryCommand::VerifyConsistency {
                anchor,
                old,
                new,
                proof,
            } => verify_consistency(&anchor, &old, &new, &proof),
            RegistryCommand::Genesis { url, key, origin } => {
                let key = key.open(Some(Algorithm::EdDsa))?;
                create_did(&url, key.as_ref(), |document| Operation::Genesis {
                    origin,
                    document,
                })
                .await
            }
            RegistryCommand::CreateDid { url, key } => {
                let key = key.open(Some(Algorithm::Es256))?;
                create_did(&url, key.as_ref(), |document| Operation::DidCreate {
                    document,
                })
                .await
            }
            RegistryCommand::Accredit {
                url,
                key,
                subject,
                name,
                types,
                delegable,
            } => {
                let key = key.open(None)?;
                let (document, kid) = document_for(key.as_ref());
                let operation = Operation::Grant {
                    grantor: document.id.clone(),
                    subject: dojang_core::Did::parse(&subject)?,
                    name,
                    types,
                    delegable,
                    at: crate::now(),
                };
                submit(&url, Entry::sign(&operation, key.as_ref(), &kid)?).await?;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Appends the operation `create` makes of the did:dojang document of `key` (a genesis or a
/// `did.create`), signed by that key; prints the DID.
async fn create_did(
    url: &str,
    key: &dyn Signer,
    create: impl FnOnce(dojang_core::DidDocument) -> Operation,
) -> anyhow::Result<ExitCode> {
    let (document, kid) = document_for(key);
    let did = document.id.clone();
    submit(url, Entry::sign(&create(document), key, &kid)?).await?;
    println!("{did}");
    Ok(ExitCode::SUCCESS)
}

/// The did:dojang document dojang's tools create for a key: one key, every relationship.
pub(crate) fn document_for(key: &dyn Signer) -> (dojang_core::DidDocument, dojang_core::DidUrl) {
    first_key_document(key.public_key(), EVERY_RELATIONSHIP)
}

async fn submit(url: &str, entry: String) -> anyhow::Result<()> {
    let appended = RegistryClient::new(url)
        .submit(&entry)
        .await
        .with_context(|| format!("appending to the registry at {url}"))?;
    eprintln!("appended: {}", serde_json::to_string(&appended)?);
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::init_logs();
    let database_url =
        crate::setup::database_url(&args.data_dir, args.database_url, "registry.db")?;
    let registry = Registry::open(RegistryConfig {
        database_url,
        origin: args.origin,
        passphrase: crate::setup::passphrase(&args.data_dir)?,
        root: args
            .root_did
            .map(|d| dojang_core::Did::parse(&d))
            .transpose()?,
        kdf: KdfParams::DEFAULT,
        witnesses: args.witnesses,
        min_witnesses: args.min_witnesses,
        log_key: args.log_key,
        bundle_key: args.bundle_key,
    })
    .await?;
    let admission = Admission {
        per_client_per_minute: args.open_appends_per_minute,
        max_pending: args.max_pending_open_appends,
    };
    let anchor = registry.trust_anchor();
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    crate::setup::announce(&format!(
        "registry {} listening on http://{}\nlog key:    {}\nbundle key: {}\n",
        anchor.origin,
        listener.local_addr()?,
        anchor.log_key,
        anchor.bundle_key
    ));
    let app = dojang_registry::http::app_with(registry, admission);
    crate::serve::serve(listener, app, crate::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn witness(args: WitnessArgs) -> anyhow::Result<ExitCode> {
    crate::init_logs();
    let url = crate::setup::database_url(&args.data_dir, None, "witness.db")?;
    let key: Box<dyn Signer> = match &args.key {
        Some(uri) => Box::new(dojang_pkcs11::Pkcs11Signer::open_or_generate(
            uri,
            Algorithm::EdDsa,
        )?),
        None => Box::new(witness_key(
            &args.data_dir,
            &crate::setup::passphrase(&args.data_dir)?,
        )?),
    };
    let logs = args
        .logs
        .iter()
        .map(|k| NoteVerifier::parse(k))
        .collect::<Result<Vec<_>, _>>()?;
    let witness = Witness::open(&url, &args.name, key, logs).await?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    crate::setup::announce(&format!(
        "witness {} listening on http://{}\nwitness key: {}\n",
        args.name,
        listener.local_addr()?,
        witness.verifier()
    ));
    let app = dojang_registry::witness::app(Arc::new(witness));
    crate::serve::serve(listener, app, crate::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// The witness's cosigning key, sealed in its data directory.
pub(crate) fn witness_key(data_dir: &Path, passphrase: &str) -> anyhow::Result<SecretKey> {
    let path = data_dir.join("witness.key");
    let purpose = "dojang-witness-key";
    if let Ok(text) = std::fs::read_to_string(&path) {
        let sealed: PassphraseSealed = serde_json::from_str(&text)?;
        let secret = sealed
            .open(passphrase.as_bytes(), purpose)
            .context("cannot unseal the witness key")?;
        return Ok(SecretKey::from_bytes(Algorithm::EdDsa, &secret)?);
    }
    let key = SecretKey::generate(Algorithm::EdDsa)?;
    let sealed = PassphraseSealed::seal(
        key.secret_bytes().as_ref(),
        passphrase.as_bytes(),
        purpose,
        KdfParams::DEFAULT,
    )?;
    crate::identity::write_secret(&path, &serde_json::to_string(&sealed)?, false)?;
    Ok(key)
}

/// Where a registry's trust anchor is pinned, and whether to replace the pin.
///
/// Trust on first use: with no pin file, the registry's own anchor is written there once and its
/// keys are shown on stderr, to be compared with the operator's out of band. From then on a
/// registry whose anchor (origin, log key, bundle key, witnesses) differs from the pin, or whose
/// bundle does not verify against it, is refused with both keys named and nothing written — a
/// substitute registry cannot swap the keys by being fetched from. Only `--repin` replaces the
/// pin, and it says what changes. A pin the operator names (`--anchor`) came out of band, so it
/// must exist: it is never created by trust on first use.
pub(crate) struct AnchorPin {
    /// The pin file.
    path: PathBuf,
    /// Named by the operator (`--anchor`) rather than the command's default location.
    given: bool,
    /// `--repin`: replace a pin the registry's anchor differs from.
    repin: bool,
}

impl AnchorPin {
    /// The pin at `given` (`--anchor`), else at `default`.
    pub(crate) fn new(given: Option<PathBuf>, default: PathBuf, repin: bool) -> Self {
        AnchorPin {
            given: given.is_some(),
            path: given.unwrap_or(default),
            repin,
        }
    }
}

/// A registry's current full bundle, verified against the pinned anchor.
pub(crate) struct PinnedBundle {
    /// The pinned anchor (after first use or `--repin`, the registry's own, now written).
    pub(crate) anchor: TrustAnchor,
    /// The bundle JWS as the registry sent it.
    pub(crate) text: String,
    /// What the bundle says.
    pub(crate) verified: VerifiedBundle,
}

/// A registry's own trust anchor and its current bundle (with only the status lists for
/// `types`, if given), neither checked. Only for a registry this process runs itself
/// (`dojang demo`); everything else goes through [`fetch_pinned`].
pub(crate) async fn fetch_bundle(
    url: &str,
    types: Option<&[String]>,
) -> anyhow::Result<(TrustAnchor, String)> {
    let client = RegistryClient::new(url);
    let anchor = client
        .trust_anchor()
        .await
        .with_context(|| format!("fetching the trust anchor of the registry at {url}"))?;
    let bundle = client
        .bundle(None, types)
        .await
        .with_context(|| format!("fetching the bundle of the registry at {url}"))?;
    Ok((anchor, bundle))
}

/// Fetches a registry's bundle (see [`fetch_bundle`]) and checks it against the pin: pinned on
/// first use, refused when the registry's anchor or bundle differs from the pin, replaced only
/// with `--repin`.
pub(crate) async fn fetch_pinned(
    url: &str,
    pin: &AnchorPin,
    types: Option<&[String]>,
) -> anyhow::Result<PinnedBundle> {
    let path = &pin.path;
    let pinned: Option<TrustAnchor> = match std::fs::read(path) {
        Ok(bytes) => Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("parsing the pinned trust anchor {}", path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !pin.given => None,
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "reading the pinned trust anchor {} (get it out of band, e.g. `curl {}/trust-anchor`, \
                     and compare its keys with the registry operator's)",
                    path.display(),
                    url.trim_end_matches('/')
                )
            });
        }
    };
    let (offered, text) = fetch_bundle(url, types).await?;
    let changes = pinned
        .as_ref()
        .map(|old| anchor_changes(old, &offered))
        .unwrap_or_default();
    match pinned {
        Some(anchor) if changes.is_empty() => {
            if pin.repin {
                eprintln!(
                    "the registry's anchor is the one pinned in {}: nothing to repin",
                    path.display()
                );
            }
            let verified = bundle::verify(&text, &anchor).with_context(|| {
                format!(
                    "고정된 신뢰 앵커로 번들을 검증할 수 없습니다 / the registry's bundle does not \
                     verify against the anchor pinned in {} (log key {}, bundle key {}); nothing \
                     was written",
                    path.display(),
                    anchor.log_key,
                    anchor.bundle_key
                )
            })?;
            Ok(PinnedBundle {
                anchor,
                text,
                verified,
            })
        }
        Some(_) if !pin.repin => {
            let lines: String = changes
                .iter()
                .map(|c| format!("\n  {}: pinned {}, offered {}", c.field, c.old, c.new))
                .collect();
            bail!(
                "고정된 신뢰 앵커와 다릅니다 / the registry's anchor differs from the one pinned in {}:{lines}\n\
                 nothing was written. If the registry's keys really changed, confirm the new \
                 anchor with its operator out of band (`curl {}/trust-anchor`) and run again \
                 with --repin.",
                path.display(),
                url.trim_end_matches('/')
            )
        }
        pinned => {
            let verified = bundle::verify(&text, &offered)
                .context("the registry's bundle does not verify against its own anchor")?;
            let json = serde_json::to_string_pretty(&offered)?;
            if pinned.is_some() {
                write_file(path, json.as_bytes(), true)?;
                eprintln!(
                    "신뢰 앵커를 다시 고정했습니다 / repinned the trust anchor in {} (--repin):",
                    path.display()
                );
                for c in &changes {
                    eprintln!("  {}: {} → {}", c.field, c.old, c.new);
                }
            } else {
                write_file(path, json.as_bytes(), false)?;
                eprintln!(
                    "최초 사용 신뢰(TOFU)로 신뢰 앵커를 고정했습니다 / trust on first use: pinned the anchor of \
                     {url} in {}\n  origin: {}\n  log key: {}\n  bundle key: {}\n  witnesses: {}\n\
                     compare these keys with the registry operator's out of band; a registry under \
                     other keys will be refused from now on.",
                    path.display(),
                    offered.origin,
                    offered.log_key,
                    offered.bundle_key,
                    witness_policy(&offered),
                );
            }
            Ok(PinnedBundle {
                anchor: offered,
                text,
                verified,
            })
        }
    }
}

/// One field in which two trust anchors differ.
struct AnchorChange {
    field: &'static str,
    old: String,
    new: String,
}

/// Every field in which `new` differs from `old` (the order of witnesses does not matter).
fn anchor_changes(old: &TrustAnchor, new: &TrustAnchor) -> Vec<AnchorChange> {
    let witnesses = |a: &TrustAnchor| {
        let mut keys = a.witnesses.clone();
        keys.sort();
        if keys.is_empty() {
            "none".to_owned()
        } else {
            keys.join(", ")
        }
    };
    [
        ("origin", old.origin.clone(), new.origin.clone()),
        ("log key", old.log_key.clone(), new.log_key.clone()),
        ("bundle key", old.bundle_key.clone(), new.bundle_key.clone()),
        ("witnesses", witnesses(old), witnesses(new)),
        (
            "min witnesses",
            old.min_witnesses.to_string(),
            new.min_witnesses.to_string(),
        ),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(field, old, new)| AnchorChange { field, old, new })
    .collect()
}

/// The anchor's witness keys and how many must cosign, in words.
fn witness_policy(anchor: &TrustAnchor) -> String {
    if anchor.witnesses.is_empty() {
        "none".to_owned()
    } else {
        format!(
            "{} (at least {} must cosign)",
            anchor.witnesses.join(", "),
            anchor.min_witnesses
        )
    }
}

/// Writes `contents` to `path` whole or not at all (a temporary file, then a rename); without
/// `replace`, an existing file is left alone and is an error.
fn write_file(path: &Path, contents: &[u8], replace: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing {}", path.display()))?;
    // Anchors and bundles are public; a temporary file starts out readable by its owner only.
    #[cfg(unix)]
    std::fs::set_permissions(
        file.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )?;
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    let persisted = if replace {
        file.persist(path)
    } else {
        file.persist_noclobber(path)
    };
    persisted
        .map(drop)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))
}

async fn export_bundle(
    url: &str,
    out: &Path,
    pin: &AnchorPin,
    types: Option<&[String]>,
) -> anyhow::Result<ExitCode> {
    let PinnedBundle { text, verified, .. } = fetch_pinned(url, pin, types).await?;
    write_file(out, text.as_bytes(), true)?;
    let only = types.map_or(String::new(), |t| format!(" (for {} only)", t.join(", ")));
    println!(
        "bundle verified and written to {}: checkpoint size {}, {} witness(es), {} accredited issuer(s), {} status list(s){only}",
        out.display(),
        verified.checkpoint.size,
        verified.witnesses,
        verified.state.accredited_issuers().len(),
        verified.state.status_lists().count()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn signed_checkpoint(anchor: &TrustAnchor, path: &Path) -> anyhow::Result<SignedCheckpoint> {
    let log_key = NoteVerifier::parse(&anchor.log_key)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(SignedCheckpoint::verify(&text, &anchor.origin, &log_key)?)
}

fn verify_inclusion(
    anchor: &Path,
    checkpoint: &Path,
    proof: &Path,
    leaf_hash: &str,
) -> anyhow::Result<ExitCode> {
    let anchor: TrustAnchor = read_json(anchor)?;
    let checkpoint = signed_checkpoint(&anchor, checkpoint)?.checkpoint;
    let proof: dojang_registry::http::InclusionProof = read_json(proof)?;
    if proof.size != checkpoint.size {
        bail!(
            "the proof is for size {}, the checkpoint has size {}",
            proof.size,
            checkpoint.size
        );
    }
    let leaf = decode_hashes(&[leaf_hash.to_owned()]).map_err(anyhow::Error::msg)?[0];
    let hashes = decode_hashes(&proof.proof).map_err(anyhow::Error::msg)?;
    match merkle::verify_inclusion(proof.index, proof.size, &leaf, &hashes, &checkpoint.root) {
        Ok(()) => {
            println!(
                "OK: leaf {} is in the log of size {} ({})",
                proof.index, proof.size, anchor.origin
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("FAILED: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn verify_consistency(
    anchor: &Path,
    old: &Path,
    new: &Path,
    proof: &Path,
) -> anyhow::Result<ExitCode> {
    let anchor: TrustAnchor = read_json(anchor)?;
    let old = signed_checkpoint(&anchor, old)?.checkpoint;
    let new = signed_checkpoint(&anchor, new)?.checkpoint;
    let proof: dojang_registry::http::ConsistencyProof = read_json(proof)?;
    if (proof.first, proof.second) != (old.size, new.size) {
        bail!(
            "the proof is for sizes {}→{}, the checkpoints are {}→{}",
            proof.first,
            proof.second,
            old.size,
            new.size
        );
    }
    let hashes = decode_hashes(&proof.proof).map_err(anyhow::Error::msg)?;
    match merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &hashes) {
        Ok(()) => {
            println!(
                "OK: the log of size {} extends the log of size {}",
                new.size, old.size
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("FAILED: {e} — the newer checkpoint does not extend the older one");
            Ok(ExitCode::from(1))
        }
    }
}
