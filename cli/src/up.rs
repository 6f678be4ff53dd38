//! `dojang up`: the whole platform in one process on one port — registry, the four issuers,
//! the verifier page — seeded on first start with a root authority and the issuers named in the
//! credential type descriptors, accredited for their types; reused on later starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use dojang_core::key::{Algorithm, SecretKey, Signer};
use dojang_core::seal::{KdfParams, PassphraseSealed};
use dojang_issuer::db::Db;
use dojang_issuer::service::{NewIssuer, create_issuer};
use dojang_issuer::{IssuerConfig, IssuerService, LedgerView};
use dojang_ledger::entry::{Entry, Operation};
use dojang_ledger::note::{NoteSigner, TYPE_COSIGNATURE};
use dojang_ledger::state::Accreditation;
use dojang_registry::admission::Admission;
use dojang_registry::service::{Registry, RegistryConfig, WitnessConfig};
use dojang_registry::witness::Witness;
use dojang_schemas::Catalog;
use dojang_verifier::service::{VerifierConfig, VerifierService};
use dojang_verifier::{IssuerPolicy, Trust};
use dojang_wallet::Wallet;
use zeroize::Zeroizing;

use crate::verify::Issuers;

mod metrics;
mod pages;

/// Run the whole platform: registry, the four issuers and the verifier page, on one port.
///
/// Settings come from flags, then environment variables, then `--config` (a TOML file with the
/// same names: `data_dir`, `database_url`, `listen`, `public_url`), then the defaults.
#[derive(clap::Args)]
pub(crate) struct UpArgs {
    /// A TOML file with any of the settings below.
    #[arg(long, env = "DOJANG_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite files, sealed keys, the generated passphrase) [default: dojang-data].
    #[arg(long, env = "DOJANG_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL instead of SQLite (`postgres://…`), for every service.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8000].
    #[arg(long, env = "DOJANG_LISTEN")]
    listen: Option<SocketAddr>,
    /// The public base URL [default: http://<listen>].
    #[arg(long, env = "DOJANG_PUBLIC_URL")]
    public_url: Option<String>,
    /// Open appends to the registry (entries from DIDs outside trust, e.g. `did.create`)
    /// admitted per client address per minute [default: 30].
    #[arg(long, env = "DOJANG_OPEN_APPENDS_PER_MINUTE")]
    open_appends_per_minute: Option<u32>,
    /// Which issuers the verifier page accepts: `accredited` (in the registry, for the type) or
    /// `also-key-dids` (also did:key/did:jwk issuers from other systems, reported as not in the
    /// registry) [default: accredited].
    #[arg(long, value_enum, env = "DOJANG_VERIFIER_ISSUERS")]
    issuers: Option<Issuers>,
    /// Serve HTTPS, so phones on the LAN can use the camera: with `--tls-cert`/`--tls-key`, or a
    /// self-signed certificate made on first start and kept in `<data-dir>/tls/`.
    #[arg(long, env = "DOJANG_TLS")]
    tls: bool,
    /// The TLS certificate chain (PEM); implies `--tls`.
    #[arg(long, env = "DOJANG_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM); implies `--tls`.
    #[arg(long, env = "DOJANG_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Every signing key of the platform in an HSM: a PKCS#11 URI naming the token
    /// (`pkcs11:token=dojang?module-path=…`; the PIN from `DOJANG_PKCS11_PIN` or
    /// `DOJANG_PKCS11_PIN_FILE`). The root authority, IACA, registry, witness and issuer keys
    /// are made there on first start. The data directory keeps the choice: give it on the first
    /// start; later starts use the token recorded.
    #[arg(long, env = "DOJANG_KEYS", value_parser = dojang_pkcs11::KeyUri::token)]
    keys: Option<dojang_pkcs11::KeyUri>,
}

/// What a platform starts with, besides where it listens.
pub(crate) struct Options {
    pub(crate) data_dir: PathBuf,
    pub(crate) database_url: Option<String>,
    pub(crate) public_url: Option<String>,
    pub(crate) kdf: KdfParams,
    pub(crate) admission: Admission,
    pub(crate) issuers: IssuerPolicy,
    /// Serve HTTPS with this certificate.
    pub(crate) tls: Option<crate::tls::Tls>,
    /// The HSM token holding every key, instead of keys sealed in the data directory.
    pub(crate) keys: Option<dojang_pkcs11::KeyUri>,
}

impl Options {
    /// SQLite in `data_dir`, the production key derivation, the default limits and policy.
    pub(crate) fn new(data_dir: &Path) -> Self {
        Options {
            data_dir: data_dir.to_owned(),
            database_url: None,
            public_url: None,
            kdf: KdfParams::DEFAULT,
            admission: Admission::default(),
            issuers: IssuerPolicy::default(),
            tls: None,
            keys: None,
        }
    }
}

/// The `--config` file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    open_appends_per_minute: Option<u32>,
    issuers: Option<Issuers>,
    keys: Option<String>,
}

impl UpArgs {
    /// Flags and environment over the file over the defaults: where to listen, and the rest.
    fn resolve(self) -> anyhow::Result<(SocketAddr, Options)> {
        let tls = self.tls || self.tls_cert.is_some();
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<ConfigFile>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => ConfigFile::default(),
        };
        let listen = self
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8000)));
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("dojang-data"));
        let defaults = Options::new(&data_dir);
        let options = Options {
            database_url: self.database_url.or(file.database_url),
            public_url: self.public_url.or(file.public_url),
            admission: Admission {
                per_client_per_minute: self
                    .open_appends_per_minute
                    .or(file.open_appends_per_minute)
                    .unwrap_or(defaults.admission.per_client_per_minute),
                ..defaults.admission
            },
            issuers: self
                .issuers
                .or(file.issuers)
                .map_or(defaults.issuers, IssuerPolicy::from),
            keys: match (self.keys, file.keys) {
                (Some(keys), _) => Some(keys),
                (None, Some(text)) => Some(
                    dojang_pkcs11::KeyUri::token(&text).context("reading `keys` in the config")?,
                ),
                (None, None) => None,
            },
            ..defaults
        };
        let public_url = options.public_url.clone();
        let tls = match (tls, &self.tls_cert, &self.tls_key) {
            (false, ..) => None,
            (true, Some(cert), Some(key)) => {
                Some(crate::tls::load(crate::tls::Source::Given { cert, key })?)
            }
            (true, ..) => {
                // For the host phones will type or scan, and the address listened on.
                let mut hosts = vec![listen.ip().to_string()];
                hosts.extend(public_url.as_deref().and_then(host_of));
                Some(crate::tls::load(crate::tls::Source::SelfSigned {
                    dir: &data_dir.join("tls"),
                    hosts,
                })?)
            }
        };
        Ok((listen, Options { tls, ..options }))
    }
}

/// The host of `url` (`https://192.168.0.10:8443/x` → `192.168.0.10`).
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// A running platform.
pub(crate) struct Platform {
    /// Its base URL.
    pub(crate) base: String,
    /// The token the console and wallet pages require.
    pub(crate) demo_token: String,
    pub(crate) issuers: IssuerService,
    pub(crate) verifier: VerifierService,
    trust_problem: TrustProblem,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// When serving HTTPS: the certificate's SHA-256 fingerprint and where it is.
    pub(crate) tls_certificate: Option<(String, PathBuf)>,
    registry: Registry,
    /// Certifies issuers' rotated keys.
    authority: Arc<RootAuthority>,
}

/// The in-process witness's name.
const WITNESS_NAME: &str = "witness.dojang.local";

/// The root authority's key purpose, when sealed in the data directory.
const ROOT_PURPOSE: &str = "dojang-up-root-authority";

impl Platform {
    /// Opens (seeding on first start) and serves the platform on `listener`.
    pub(crate) async fn start(
        listener: tokio::net::TcpListener,
        options: Options,
    ) -> anyhow::Result<Platform> {
        let Options {
            data_dir,
            database_url,
            public_url,
            kdf,
            admission,
            issuers: issuer_policy,
            tls,
            keys,
        } = options;
        let data_dir = data_dir.as_path();
        let local = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base = public_url
            .unwrap_or_else(|| format!("{scheme}://{local}"))
            .trim_end_matches('/')
            .to_owned();
        // The witness stands in for another agency's server. Over plain HTTP it shares the
        // port; under TLS (a certificate the registry's client need not trust) it has its own
        // loopback port.
        let witness_listener = match tls {
            Some(_) => Some(tokio::net::TcpListener::bind("127.0.0.1:0").await?),
            None => None,
        };
        let witness_at = match &witness_listener {
            Some(l) => l.local_addr()?,
            None => local,
        };
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let passphrase = crate::setup::passphrase(data_dir)?;
        let keys = KeyStore::open(data_dir, keys, &passphrase, kdf)?;
        // A witness on the same port, standing in for another agency's: its key sealed in the
        // data directory or on the token, its record of what it cosigned in its own SQLite file.
        let witness_key = || keys.witness();
        let witness_verifier = NoteSigner::new(WITNESS_NAME, TYPE_COSIGNATURE, witness_key()?)?
            .verifier()
            .clone();
        let registry = Registry::open(RegistryConfig {
            database_url: crate::setup::database_url(
                data_dir,
                database_url.clone(),
                "registry.db",
            )?,
            origin: "dojang.local/log".into(),
            passphrase: passphrase.clone(),
            root: None,
            kdf,
            witnesses: vec![WitnessConfig {
                url: format!("http://{witness_at}/witness"),
                key: witness_verifier,
            }],
            min_witnesses: 0,
            log_key: keys.on_token("dojang-log"),
            bundle_key: keys.on_token("dojang-bundle"),
        })
        .await?;
        let witness = Witness::open(
            &format!("sqlite://{}", data_dir.join("witness.db").display()),
            WITNESS_NAME,
            witness_key()?,
            vec![registry.log_key().clone()],
        )
        .await?;
        let issuer_db_url = crate::setup::database_url(data_dir, database_url, "issuer.db")?;
        let authority = Arc::new(seed(&keys, &registry, &issuer_db_url, &passphrase, &base).await?);

        let mut config = IssuerConfig::new(
            &issuer_db_url,
            &base,
            LedgerView::new(Arc::new(registry.clone()), &format!("{base}/registry")),
            passphrase,
        );
        config.kdf = kdf;
        let issuers = IssuerService::open(config).await?;
        let verifier_config = VerifierConfig {
            public_url: format!("{base}/verifier"),
            audience: format!("{base}/verifier"),
            // Refreshed from the registry in this process (`with_ledger` below), not over HTTP.
            registry_url: None,
            max_bundle_age: Some(dojang_verifier::DEFAULT_MAX_BUNDLE_AGE),
            min_witnesses: 0,
        };
        // The verifier page must not keep the rest from starting: without a bundle it answers
        // 503, `/readyz` says why, and the periodic refresh keeps trying.
        let trust_problem = TrustProblem::default();
        let verifier = match registry.bundle(None).await {
            Ok(bundle) => match Trust::load(&bundle, registry.trust_anchor()) {
                Ok(trust) => Some(
                    VerifierService::new(verifier_config.clone(), trust)
                        .with_ledger(Arc::new(registry.clone()))
                        .with_issuer_policy(issuer_policy),
                ),
                Err(e) => {
                    trust_problem.set(format!("the registry's bundle does not verify: {e}"));
                    None
                }
            },
            Err(e) => {
                trust_problem.set(format!("the registry's bundle cannot be built: {e}"));
                None
            }
        }
        .unwrap_or_else(|| {
            VerifierService::without_trust(verifier_config, registry.trust_anchor())
                .with_ledger(Arc::new(registry.clone()))
                .with_issuer_policy(issuer_policy)
        });
        let demo_token = data_file(data_dir, "demo-token", random_secret)?;
        let wallet_secret = data_file(data_dir, "demo-wallet-secret", random_secret)?;
        let wallet_path = data_dir.join("demo-wallet.db");
        let wallet = if wallet_path.exists() {
            Wallet::open(&wallet_path, wallet_secret.as_bytes()).await?
        } else {
            Wallet::create(&wallet_path, wallet_secret.as_bytes(), kdf).await?
        };
        let pages = pages::Pages::new(demo_token.clone(), issuers.clone(), wallet);
        let app = Router::new()
            .merge(dojang_issuer::http::app(issuers.clone()))
            .merge(pages::app(pages))
            .nest(
                "/registry",
                dojang_registry::http::app_with(registry.clone(), admission),
            )
            .nest("/verifier", dojang_verifier::http::app(verifier.clone()))
            .route("/verifier/", get(dojang_verifier::http::page))
            .route("/types/{vct}", get(dojang_verifier::http::type_metadata))
            .route("/", get(|| pages::page(include_str!("up/home.html"))))
            .route("/api-docs", get(api_docs))
            .route("/healthz", get(|| async { "ok" }))
            .route(
                "/readyz",
                get(ready).with_state(Readiness {
                    registry: registry.clone(),
                    verifier: verifier.clone(),
                    trust_problem: trust_problem.clone(),
                }),
            );
        let counters = metrics::Metrics::default();
        let sources = metrics::Sources {
            metrics: counters.clone(),
            registry: registry.clone(),
            verifier: verifier.clone(),
        };
        let app = app
            .route_layer(axum::middleware::from_fn_with_state(
                counters,
                metrics::track,
            ))
            .route("/metrics", get(metrics::expose).with_state(sources))
            .layer(axum::middleware::from_fn(
                dojang_verifier::http::lang::negotiate,
            ));
        let (shutdown, signal) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut signal = signal.clone();
            async move {
                let _ = signal.wait_for(|stop| *stop).await;
            }
        };
        let witness = dojang_registry::witness::app(Arc::new(witness));
        let app = match witness_listener {
            Some(own) => {
                tokio::spawn(crate::serve::serve(own, witness, stopped()));
                app
            }
            None => app.nest("/witness", witness),
        };
        let tls_certificate = tls
            .as_ref()
            .map(|t| (t.fingerprint.clone(), t.cert_path.clone()));
        let server = tokio::spawn(async move {
            match tls {
                Some(tls) => crate::serve::serve_tls(listener, app, stopped(), tls.acceptor).await,
                None => crate::serve::serve(listener, app, stopped()).await,
            }
        });
        Ok(Platform {
            base,
            demo_token,
            issuers,
            verifier,
            trust_problem,
            server,
            shutdown,
            tls_certificate,
            registry,
            authority,
        })
    }

    /// Stops serving after the requests in flight, then anchors the audit trail — in the
    /// registry of this process, whose HTTP side has just stopped — so the last events are in
    /// the log.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.server.await??;
        let anchored = self.issuers.anchor_audit().await;
        match anchored {
            Ok(events) => tracing::info!(events, "audit trail anchored at shutdown"),
            Err(e) => tracing::warn!(error = %e, "could not anchor the audit trail at shutdown"),
        }
        Ok(())
    }
}

/// Why the verifier page has no trust bundle, as last seen (for `/readyz`).
#[derive(Clone, Default)]
pub(crate) struct TrustProblem(Arc<std::sync::Mutex<Option<String>>>);

impl TrustProblem {
    fn set(&self, problem: String) {
        tracing::warn!(%problem, "the verifier page has no trust bundle yet");
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(problem);
    }

    fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[derive(Clone)]
struct Readiness {
    registry: Registry,
    verifier: VerifierService,
    trust_problem: TrustProblem,
}

/// Ready when the registry's database answers and the verifier page holds a trust bundle;
/// otherwise 503, saying which part is not and why.
async fn ready(axum::extract::State(ready): axum::extract::State<Readiness>) -> impl IntoResponse {
    use axum::http::StatusCode;
    let mut problems = Vec::new();
    if ready.registry.size().await.is_err() {
        problems.push(
            "registry: 데이터베이스가 응답하지 않습니다 / the database does not answer".to_owned(),
        );
    }
    if ready.verifier.trust(crate::now()).is_err() {
        problems.push(format!(
            "verifier: 신뢰 번들이 아직 없습니다 / no trust bundle yet ({})",
            ready
                .trust_problem
                .get()
                .unwrap_or_else(|| "not loaded yet".into())
        ));
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready".to_owned())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, problems.join("\n"))
    }
}

/// The OpenAPI documents of every API.
async fn api_docs() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "registry": "/registry/openapi.json",
        "issuer": "/openapi/issuer.json",
        "verifier": "/verifier/openapi.json",
    }))
}

/// Where the platform's own signing keys are: sealed in the data directory under its
/// passphrase, or all on one HSM token.
struct KeyStore<'a> {
    data_dir: &'a Path,
    passphrase: &'a Zeroizing<String>,
    kdf: KdfParams,
    token: Option<dojang_pkcs11::KeyUri>,
}

/// The file recording which token a data directory's keys are on.
const KEYS_FILE: &str = "keys.pkcs11";

impl<'a> KeyStore<'a> {
    /// The data directory's keys: on the token it recorded, or `given` on first start, or
    /// sealed. A platform keeps its keys (the log's and the root authority's are pinned by
    /// every verifier): another token, or a token for keys sealed already, is refused.
    fn open(
        data_dir: &'a Path,
        given: Option<dojang_pkcs11::KeyUri>,
        passphrase: &'a Zeroizing<String>,
        kdf: KdfParams,
    ) -> anyhow::Result<Self> {
        let path = data_dir.join(KEYS_FILE);
        let recorded = match std::fs::read_to_string(&path) {
            Ok(text) => Some(dojang_pkcs11::KeyUri::token(text.trim())?),
            Err(_) => None,
        };
        let token = match (given, recorded) {
            (Some(given), Some(recorded)) if given.to_string() != recorded.to_string() => {
                anyhow::bail!(
                    "이 데이터 디렉터리의 키는 {recorded}에 있습니다 / this data directory's keys \
                     are on {recorded}, not {given}: a platform keeps its keys"
                )
            }
            (Some(given), None) => {
                if data_dir.join(ROOT_FILE).exists() {
                    anyhow::bail!(
                        "이 데이터 디렉터리의 키는 봉인되어 있습니다 / this data directory's keys \
                         are sealed in it: a platform keeps its keys (start without --keys, or \
                         use --keys with a new data directory)"
                    );
                }
                crate::identity::write_secret(&path, &given.to_string(), false)?;
                Some(given)
            }
            (_, recorded) => recorded,
        };
        Ok(KeyStore {
            data_dir,
            passphrase,
            kdf,
            token,
        })
    }

    /// The key labelled `label` on the token, when the keys are on one.
    fn on_token(&self, label: &str) -> Option<dojang_pkcs11::KeyUri> {
        self.token.as_ref().map(|token| token.object(label))
    }

    /// A key of the platform (`label`, `alg`): on the token, else sealed in `file` for
    /// `purpose`. Made on first start.
    fn key(
        &self,
        label: &str,
        (file, purpose): (&str, &str),
        alg: Algorithm,
    ) -> anyhow::Result<Box<dyn Signer>> {
        Ok(match self.on_token(label) {
            Some(uri) => Box::new(dojang_pkcs11::Pkcs11Signer::open_or_generate(&uri, alg)?),
            None => Box::new(sealed_key(
                self.data_dir,
                file,
                (purpose, alg),
                self.passphrase,
                self.kdf,
            )?),
        })
    }

    /// The in-process witness's key.
    fn witness(&self) -> anyhow::Result<Box<dyn Signer>> {
        Ok(match self.on_token("dojang-witness") {
            Some(uri) => Box::new(dojang_pkcs11::Pkcs11Signer::open_or_generate(
                &uri,
                Algorithm::EdDsa,
            )?),
            None => Box::new(crate::registry::witness_key(
                self.data_dir,
                self.passphrase,
            )?),
        })
    }
}

/// The root authority's key file, when sealed in the data directory.
const ROOT_FILE: &str = "root-authority.sealed.json";

/// First start: the root authority's genesis; every start: each type's issuer exists, has a
/// DID on the ledger and is accredited for its types, and the root authority's certificates
/// are published. Returns the root authority, which certifies rotated keys later.
async fn seed(
    keys: &KeyStore<'_>,
    registry: &Registry,
    issuer_db_url: &str,
    passphrase: &Zeroizing<String>,
    base: &str,
) -> anyhow::Result<RootAuthority> {
    let root = keys.key(
        "dojang-root-authority",
        (ROOT_FILE, ROOT_PURPOSE),
        Algorithm::EdDsa,
    )?;
    let (document, root_kid) = crate::registry::document_for(root.as_ref());
    let root_did = root_kid.did.clone();
    if registry.size().await? == 0 {
        let genesis = Operation::Genesis {
            origin: registry.origin().to_owned(),
            document,
        };
        registry
            .submit(Entry::sign(&genesis, root.as_ref(), &root_kid)?)
            .await?;
        tracing::info!(did = %root_did, "root authority created");
    }

    // Issuers register their DIDs with the registry in this process, as they will issue.
    let ledger = LedgerView::new(Arc::new(registry.clone()), &format!("{base}/registry"));
    let db = Db::open(issuer_db_url).await?;
    let existing = db.issuers().await?;
    let mut wanted: Vec<(String, String, Vec<String>)> = Vec::new();
    for ty in Catalog::builtin().iter() {
        for issuer in &ty.descriptor().issuers {
            match wanted.iter_mut().find(|(slug, ..)| *slug == issuer.slug) {
                Some((.., types)) => types.push(ty.id().to_owned()),
                None => wanted.push((
                    issuer.slug.clone(),
                    issuer.name.clone(),
                    vec![ty.id().to_owned()],
                )),
            }
        }
    }
    for (slug, name, types) in &wanted {
        let did = match existing.iter().find(|row| row.slug == *slug) {
            Some(row) => dojang_core::Did::parse(&row.did)?,
            None => {
                let key = keys.on_token(&format!("dojang-issuer-{slug}"));
                let did = create_issuer(
                    &db,
                    &ledger,
                    passphrase,
                    keys.kdf,
                    NewIssuer {
                        slug,
                        name,
                        key: key.as_ref(),
                    },
                    crate::now(),
                )
                .await?;
                tracing::info!(%slug, %did, "issuer created");
                did
            }
        };
        let missing: Vec<String> = {
            let state = registry.state().await;
            types
                .iter()
                .filter(|ty| {
                    !matches!(
                        state.accreditation(&did, ty),
                        Accreditation::Accredited { .. }
                    )
                })
                .cloned()
                .collect()
        };
        if !missing.is_empty() {
            let grant = Operation::Grant {
                grantor: root_did.clone(),
                subject: did.clone(),
                name: name.clone(),
                types: missing,
                delegable: false,
                at: crate::now(),
            };
            registry
                .submit(Entry::sign(&grant, root.as_ref(), &root_kid)?)
                .await?;
        }
    }
    let authority = RootAuthority {
        root,
        root_kid,
        iaca: keys.key(
            "dojang-iaca",
            ("iaca.sealed.json", IACA_PURPOSE),
            Algorithm::Es256,
        )?,
        base: base.to_owned(),
    };
    authority.certificates(registry).await?;
    Ok(authority)
}

/// The root authority's key for its issuing-authority root (IACA) certificate.
const IACA_PURPOSE: &str = "dojang-up-iaca";

/// The root authority, publishing on the ledger: its key, and its IACA key.
struct RootAuthority {
    root: Box<dyn Signer>,
    root_kid: dojang_core::DidUrl,
    iaca: Box<dyn Signer>,
    /// The platform's base URL (the certificates name the registry under it).
    base: String,
}

impl RootAuthority {
    async fn submit(&self, registry: &Registry, operation: &Operation) -> anyhow::Result<()> {
        registry
            .submit(Entry::sign(operation, self.root.as_ref(), &self.root_kid)?)
            .await?;
        Ok(())
    }

    /// Its IACA certificate, and a document signer's certificate for each accredited issuer's
    /// current ES256 key (ISO 18013-5 Annex B), each published once: on every start, and
    /// after an issuer rotates its key.
    async fn certificates(&self, registry: &Registry) -> anyhow::Result<()> {
        let (base, iaca_key) = (&self.base, self.iaca.as_ref());
        let authority = dojang_mdoc::Authority {
            common_name: "dojang root authority IACA",
            country: "KR",
            url: &format!("{base}/registry"),
            crl_url: &format!("{base}/registry/certificates"),
        };
        let now = crate::now();
        let published = |state: &dojang_ledger::state::LedgerState| {
            state.iaca_roots().find(|der| {
                dojang_mdoc::Certificate::from_der(der)
                    .is_ok_and(|c| c.public_key == iaca_key.public_key().as_bytes())
            })
        };
        // The state's guard is dropped before publishing (which takes it again).
        let existing = published(&*registry.state().await);
        let iaca = match existing {
            Some(der) => der,
            None => {
                let der = dojang_mdoc::iaca_certificate(&authority, iaca_key, now - 60, 3650)?;
                self.submit(
                    registry,
                    &Operation::CertificatePublish {
                        authority: self.root_kid.did.clone(),
                        subject: None,
                        certificate: dojang_core::b64::encode(&der),
                        at: now,
                    },
                )
                .await?;
                der
            }
        };
        let wanted: Vec<(dojang_core::Did, dojang_core::PublicKey)> = {
            let state = registry.state().await;
            state
                .accredited_issuers()
                .into_iter()
                .filter_map(|(did, ..)| {
                    let document = &state.did(&did)?.versions.last()?.document;
                    let key = document
                        .key_for(dojang_core::did::Relationship::AssertionMethod, None)
                        .ok()?;
                    let certified = state.certificates().iter().any(|c| {
                        c.revoked.is_none()
                            && c.subject.as_ref() == Some(&did)
                            && dojang_core::b64::decode(&c.der)
                                .ok()
                                .and_then(|der| dojang_mdoc::Certificate::from_der(&der).ok())
                                .is_some_and(|cert| cert.public_key == key.as_bytes())
                    });
                    (key.algorithm() == Algorithm::Es256 && !certified).then_some((did, key))
                })
                .collect()
        };
        for (did, key) in wanted {
            let der = dojang_mdoc::document_signer_certificate(
                &authority,
                &iaca,
                iaca_key,
                &dojang_mdoc::DocumentSigner {
                    common_name: &format!("document signer {}", did.as_str()),
                    uri: Some(did.as_str()),
                    key: &key,
                    not_before: now - 60,
                    days: 365,
                },
            )?;
            self.submit(
                registry,
                &Operation::CertificatePublish {
                    authority: self.root_kid.did.clone(),
                    subject: Some(did),
                    certificate: dojang_core::b64::encode(&der),
                    at: now,
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// The contents of a small secret file in the data directory, created with `make` if absent.
fn data_file(
    data_dir: &Path,
    name: &str,
    make: fn() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    let path = data_dir.join(name);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(text.trim().to_owned());
    }
    let value = make()?;
    crate::identity::write_secret(&path, &value, false)?;
    Ok(value)
}

fn random_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 24];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("random generator failed"))?;
    Ok(dojang_core::b64::encode(bytes))
}

/// A key of the root authority (`purpose`, `alg`), sealed under the passphrase in the data
/// directory as `file`; created on first start.
fn sealed_key(
    data_dir: &Path,
    file: &str,
    (purpose, alg): (&str, Algorithm),
    passphrase: &Zeroizing<String>,
    kdf: KdfParams,
) -> anyhow::Result<SecretKey> {
    let path = data_dir.join(file);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let sealed: PassphraseSealed =
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
        let secret = sealed
            .open(passphrase.as_bytes(), purpose)
            .with_context(|| format!("{} does not open with this passphrase", path.display()))?;
        return Ok(SecretKey::from_bytes(alg, &secret)?);
    }
    let key = SecretKey::generate(alg)?;
    let sealed = PassphraseSealed::seal(
        key.secret_bytes().as_slice(),
        passphrase.as_bytes(),
        purpose,
        kdf,
    )?;
    crate::identity::write_secret(&path, &serde_json::to_string_pretty(&sealed)?, false)?;
    Ok(key)
}

pub(crate) fn run(args: UpArgs) -> anyhow::Result<ExitCode> {
    let (listen, options) = args.resolve()?;
    let data_dir = options.data_dir.clone();
    tokio::runtime::Runtime::new()?.block_on(async move {
        crate::init_logs();
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let platform = Platform::start(listener, options).await?;
        spawn_background(&platform);
        let base = &platform.base;
        let mut banner = format!(
            "dojang is up: listening on {base}\n\n  open {base}/            the home page\n  open {base}/verifier/   the employer's verification page\n  open {base}/console/#token={token}   the issuer console (issue, revoke)\n  open {base}/wallet/#token={token}    a citizen's demo wallet\n\n  registry API   {base}/registry   (trust bundle at {base}/registry/bundle)\n",
            token = platform.demo_token
        );
        for (slug, name, did) in platform.issuers.issuers() {
            banner += &format!("  issuer         {base}/issuers/{slug}   {name} ({did})\n");
        }
        banner += "\n  Try it: in the console issue a citizen card; paste its offer and code into the wallet,\n  tick the claims to show; upload the QR image on the verification page. Revoke it in the\n  console, press \"Refresh bundle\", and the same QR is rejected as revoked.\n";
        banner += &format!(
            "\n  operator tokens: dojang issuer operator --data-dir {} --registry {base}/registry --issuer <slug> --name <you> --types <type>\n  Ctrl-C stops it; the data stays in {}\n",
            data_dir.display(),
            data_dir.display()
        );
        if let Some((fingerprint, path)) = &platform.tls_certificate {
            banner += &format!(
                "\n  HTTPS certificate {}\n  SHA-256 {fingerprint}\n  (a phone's browser asks whether to trust it: compare this fingerprint first)\n",
                path.display()
            );
        }
        crate::setup::announce(&banner);
        crate::shutdown_signal().await;
        platform.stop().await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Audit anchoring, housekeeping and rotated keys for the issuers; certificates for rotated
/// keys; bundle refresh for the verifier page.
fn spawn_background(platform: &Platform) {
    crate::issuer::spawn_background(platform.issuers.clone(), Duration::from_secs(60));
    let (authority, registry) = (platform.authority.clone(), platform.registry.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::issuer::KEY_RELOAD_INTERVAL);
        loop {
            tick.tick().await;
            if let Err(e) = authority.certificates(&registry).await {
                tracing::warn!(error = %e, "certifying issuers' keys failed; will retry");
            }
        }
    });
    let verifier = platform.verifier.clone();
    let trust_problem = platform.trust_problem.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        loop {
            tick.tick().await;
            if let Err(e) = verifier.refresh().await {
                if verifier.trust(crate::now()).is_err() {
                    trust_problem.set(format!("the last refresh failed: {e}"));
                } else {
                    tracing::warn!(error = %e, "verifier bundle refresh failed");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt as _;

    use super::*;

    /// Without a trust bundle the platform still serves; `/readyz` says which part is not
    /// ready and why.
    #[tokio::test]
    async fn readyz_names_a_verifier_without_a_bundle_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(RegistryConfig {
            database_url: format!("sqlite://{}", dir.path().join("registry.db").display()),
            origin: "test.local/log".into(),
            passphrase: Zeroizing::new("test".into()),
            root: None,
            kdf: KdfParams::INSECURE_FOR_TESTS,
            witnesses: Vec::new(),
            min_witnesses: 0,
            log_key: None,
            bundle_key: None,
        })
        .await
        .unwrap();
        let verifier = VerifierService::without_trust(
            VerifierConfig {
                public_url: "http://test/verifier".into(),
                audience: "http://test/verifier".into(),
                registry_url: None,
                max_bundle_age: None,
                min_witnesses: 0,
            },
            registry.trust_anchor(),
        );
        let trust_problem = TrustProblem::default();
        trust_problem.set("the registry's bundle cannot be built: not found".into());
        let app = Router::new().route(
            "/readyz",
            get(ready).with_state(Readiness {
                registry,
                verifier,
                trust_problem,
            }),
        );
        let response = app
            .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert_eq!(
            text,
            "verifier: 신뢰 번들이 아직 없습니다 / no trust bundle yet \
             (the registry's bundle cannot be built: not found)"
        );
    }
}
