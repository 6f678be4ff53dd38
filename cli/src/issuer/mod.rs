//! `dojang issuer …`: run the issuer service, set up issuers and operators, issue in batch,
//! find credentials, and change their status.
//!
//! Dates a clerk types or reads here (`--issued-on`, the offers file's name and expiry, the
//! list's issuance times) are Korean Standard Time (UTC+9), whatever the machine's time zone:
//! the offices are in Korea, and the same command gives the same answer on every machine.

mod batch;
mod find;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use dojang_core::seal::KdfParams;
use dojang_issuer::db::Db;
use dojang_issuer::service::{
    CalendarDate, NewIssuer, Operator, StatusAction, create_issuer, create_operator,
};
use dojang_issuer::{IssuerConfig, IssuerService, LedgerView};
use dojang_schemas::Catalog;

#[derive(Args)]
pub(crate) struct Common {
    /// Data directory (SQLite file, generated passphrase).
    #[arg(long, env = "DOJANG_DATA_DIR", default_value = "dojang-data")]
    data_dir: PathBuf,
    /// PostgreSQL instead of SQLite (`postgres://…`).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The registry's API URL.
    #[arg(
        long,
        env = "DOJANG_REGISTRY_URL",
        default_value = "http://127.0.0.1:8070"
    )]
    registry: String,
    /// The registry's public URL, as credentials reference its status lists (defaults to
    /// `--registry`).
    #[arg(long)]
    registry_public_url: Option<String>,
}

impl Common {
    fn database_url(&self) -> anyhow::Result<String> {
        crate::setup::database_url(&self.data_dir, self.database_url.clone(), "issuer.db")
    }

    fn registry(&self) -> LedgerView {
        LedgerView::http(
            &self.registry,
            self.registry_public_url
                .as_deref()
                .unwrap_or(&self.registry),
        )
    }

    async fn service(&self, public_url: &str, keep_claims: bool) -> anyhow::Result<IssuerService> {
        let mut config = IssuerConfig::new(
            &self.database_url()?,
            public_url,
            self.registry(),
            crate::setup::passphrase(&self.data_dir)?,
        );
        config.keep_claims = keep_claims;
        Ok(IssuerService::open(config).await?)
    }
}

#[derive(Subcommand)]
pub(crate) enum IssuerCommand {
    /// Run the issuer service (OpenID4VCI and the operator API).
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The public base URL wallets reach the service at.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
        /// Keep issued claim sets (sealed). Off by default: revocation needs none of them.
        #[arg(long)]
        keep_claims: bool,
        /// Seconds between audit anchors in the registry.
        #[arg(long, default_value_t = 60)]
        audit_interval: u64,
    },
    /// Create an issuer: a new key and did:dojang registered on the registry. The root
    /// authority must then accredit the printed DID (`dojang registry accredit`).
    Init {
        #[command(flatten)]
        common: Common,
        /// Short name in URLs, e.g. `seoul`.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The signing key in an HSM, as a PKCS#11 URI
        /// (`pkcs11:token=dojang;object=seoul-issuer-1?module-path=…`), made there if the token
        /// has none under that label. The PIN comes from `DOJANG_PKCS11_PIN`,
        /// `DOJANG_PKCS11_PIN_FILE` or the URI's `pin-source=file:…`, never from the command
        /// line. Without it: a new key, sealed in the database with the service's passphrase.
        #[arg(long)]
        key: Option<dojang_pkcs11::KeyUri>,
    },
    /// Rotate an issuer's signing key: a new key (on the HSM with `--key`, else sealed), the
    /// DID update on the registry signed by the current key, then signing with the new one.
    /// Credentials signed before still verify by the DID's key history. A running `dojang
    /// issuer serve` (or `dojang up`) on the same database switches within 10 seconds;
    /// rotating while it is stopped leaves no such window.
    RotateKey {
        #[command(flatten)]
        common: Common,
        /// The issuer's slug.
        #[arg(long)]
        slug: String,
        /// The new key in an HSM, as a PKCS#11 URI under a new label (made there if absent;
        /// PIN as for `init`). Without it: a new key, sealed in the database.
        #[arg(long)]
        key: Option<dojang_pkcs11::KeyUri>,
    },
    /// Create an operator API token for an issuer (printed once).
    Operator {
        #[command(flatten)]
        common: Common,
        /// The issuer's slug.
        #[arg(long)]
        issuer: String,
        /// The operator's name.
        #[arg(long)]
        name: String,
        /// Credential types it may act on, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        types: Vec<String>,
        /// Days until the token expires.
        #[arg(long)]
        expires_days: Option<i64>,
    },
    /// Create one offer per row of a CSV or JSON-lines file, into a new offers file.
    ///
    /// Each run writes the offers it makes, with their transaction codes, to a new file named
    /// by what it is — `offers-<type>-<YYYY-MM-DD>-<n>.csv` — and never overwrites one: the
    /// codes are shown nowhere else. Safe to re-run after fixing rejected rows.
    #[command(after_long_help = batch::help())]
    Batch(batch::BatchArgs),
    /// Find credentials: by type, status, offer, issuance date, or citizen.
    #[command(after_long_help = find::LIST_HELP)]
    List(find::ListArgs),
    /// Revoke a credential.
    Revoke(find::StatusArgs),
    /// Suspend a credential.
    Suspend(find::StatusArgs),
    /// Lift a suspension.
    Unsuspend(find::StatusArgs),
}

fn parse_date(text: &str) -> Result<CalendarDate, String> {
    text.parse().map_err(|e| format!("{e}"))
}

/// Seconds east of UTC of Korean Standard Time.
const KST: i64 = 9 * 3600;

/// The KST calendar day of Unix time `at`.
fn kst_date(at: i64) -> CalendarDate {
    CalendarDate::from_days_since_epoch((at + KST).div_euclid(86_400))
}

/// Unix time of the start of `date` in KST.
fn kst_midnight(date: CalendarDate) -> i64 {
    date.days_since_epoch() * 86_400 - KST
}

/// `at` as `YYYY-MM-DDTHH:MM:SS+09:00`.
fn kst_time(at: i64) -> String {
    let seconds = (at + KST).rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}+09:00",
        kst_date(at),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Local administration acts as an operator of the issuer for every type.
pub(crate) fn local_operator(issuer: &str) -> Operator {
    Operator {
        id: format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "admin".into())
        ),
        name: "command line".into(),
        issuer: issuer.to_owned(),
        types: Catalog::builtin()
            .iter()
            .map(|t| t.id().to_owned())
            .collect(),
    }
}

pub(crate) fn run(command: IssuerCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        match command {
            IssuerCommand::Serve {
                common,
                listen,
                public_url,
                keep_claims,
                audit_interval,
            } => {
                crate::init_logs();
                let service = common.service(&public_url, keep_claims).await?;
                if service.issuers().is_empty() {
                    tracing::warn!("no issuers yet: create one with `dojang issuer init`");
                }
                spawn_background(service.clone(), Duration::from_secs(audit_interval.max(1)));
                let listener = tokio::net::TcpListener::bind(listen).await?;
                let mut banner = format!(
                    "issuer service listening on http://{}\n",
                    listener.local_addr()?
                );
                for (slug, name, did) in service.issuers() {
                    banner += &format!("  {name}: {}  ({did})\n", service.issuer_id(&slug));
                }
                crate::setup::announce(&banner);
                let app = dojang_issuer::http::app(service.clone());
                crate::serve::serve(listener, app, crate::shutdown_signal()).await?;
                // Anchor what happened since the last interval before leaving.
                if let Err(e) = service.anchor_audit().await {
                    tracing::warn!(error = %e, "could not anchor the audit trail at shutdown");
                }
                Ok(ExitCode::SUCCESS)
            }
            IssuerCommand::Init {
                common,
                slug,
                name,
                key,
            } => {
                let db = Db::open(&common.database_url()?).await?;
                let passphrase = crate::setup::passphrase(&common.data_dir)?;
                let did = create_issuer(
                    &db,
                    &common.registry(),
                    &passphrase,
                    KdfParams::DEFAULT,
                    NewIssuer {
                        slug: &slug,
                        name: &name,
                        key: key.as_ref(),
                    },
                    crate::now(),
                )
                .await?;
                println!("{did}");
                eprintln!("issuer `{slug}` registered; ask the root authority to accredit {did}");
                Ok(ExitCode::SUCCESS)
            }
            IssuerCommand::RotateKey { common, slug, key } => {
                let service = common.service("http://127.0.0.1:8080", false).await?;
                let rotated = service.rotate_key(&slug, key.as_ref()).await?;
                println!("{}", rotated.kid);
                eprintln!(
                    "issuer `{slug}` signs with {} from now on (was {}); ask the root authority \
                     to certify the new key for mdocs",
                    rotated.kid, rotated.previous_kid
                );
                Ok(ExitCode::SUCCESS)
            }
            IssuerCommand::Operator {
                common,
                issuer,
                name,
                types,
                expires_days,
            } => {
                let db = Db::open(&common.database_url()?).await?;
                let now = crate::now();
                let (id, token) = create_operator(
                    &db,
                    &issuer,
                    &name,
                    &types,
                    expires_days.map(|d| now + d * 86_400),
                    now,
                )
                .await?;
                println!("{token}");
                eprintln!(
                    "operator {id} for `{issuer}` ({}): keep the token safe, it is shown once",
                    types.join(", ")
                );
                Ok(ExitCode::SUCCESS)
            }
            IssuerCommand::Batch(args) => batch::run(args).await,
            IssuerCommand::List(args) => find::list(args).await,
            IssuerCommand::Revoke(args) => find::status(args, StatusAction::Revoke).await,
            IssuerCommand::Suspend(args) => find::status(args, StatusAction::Suspend).await,
            IssuerCommand::Unsuspend(args) => find::status(args, StatusAction::Unsuspend).await,
        }
    })
}

/// How often a running service looks for a key another process rotated.
pub(crate) const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// Anchors the audit trail, sweeps expired offers, nonces and tokens, and commits changed
/// status lists by a `status.root`, every `interval`;
/// loads rotated keys every [`KEY_RELOAD_INTERVAL`].
pub(crate) fn spawn_background(service: IssuerService, interval: Duration) {
    let reloading = service.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(KEY_RELOAD_INTERVAL);
        loop {
            ticker.tick().await;
            if let Err(e) = reloading.reload_keys().await {
                tracing::warn!(error = %e, "loading rotated issuer keys failed; will retry");
            }
        }
    });
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            if let Err(e) = service.anchor_audit().await {
                tracing::warn!(error = %e, "anchoring the audit trail failed; will retry");
            }
            if let Err(e) = service.housekeeping(crate::now()).await {
                tracing::warn!(error = %e, "housekeeping failed");
            }
            if let Err(e) = service.commit_status_lists(crate::now()).await {
                tracing::warn!(error = %e, "committing status lists failed; will retry");
            }
        }
    });
}
