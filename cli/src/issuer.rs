//! `dojang issuer …`: run the issuer service, set up issuers and operators, issue in batch,
//! and change credential status.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use dojang_core::seal::KdfParams;
use dojang_issuer::batch::{self, Outcome};
use dojang_issuer::db::Db;
use dojang_issuer::service::{Operator, Reason, StatusAction, create_issuer, create_operator};
use dojang_issuer::{IssuerConfig, IssuerService, RegistryClient};
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

    fn registry(&self) -> RegistryClient {
        RegistryClient::new(
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
    /// Create one offer per row of a CSV or JSON-lines file.
    Batch {
        #[command(flatten)]
        common: Common,
        /// The issuer's slug.
        #[arg(long)]
        issuer: String,
        /// Credential type.
        #[arg(long = "type")]
        type_id: String,
        /// The rows (`.csv`, or JSON lines).
        #[arg(long)]
        file: PathBuf,
        /// Where to write the offers (CSV: line, offer id, transaction code, offer URI).
        #[arg(long, short)]
        out: PathBuf,
        /// The service's public URL (offers name it).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Revoke a credential.
    Revoke(StatusArgs),
    /// Suspend a credential.
    Suspend(StatusArgs),
    /// Lift a suspension.
    Unsuspend(StatusArgs),
}

#[derive(Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    common: Common,
    /// The issuer's slug.
    #[arg(long)]
    issuer: String,
    /// The credential id.
    #[arg(long)]
    credential: String,
    /// Why: lost, stolen, superseded, holder_request, issued_in_error, eligibility_ended,
    /// deceased, investigation, resolved.
    #[arg(long)]
    reason: Reason,
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
            IssuerCommand::Serve { common, listen, public_url, keep_claims, audit_interval } => {
                crate::init_logs();
                let service = common.service(&public_url, keep_claims).await?;
                if service.issuers().is_empty() {
                    tracing::warn!("no issuers yet: create one with `dojang issuer init`");
                }
                spawn_background(service.clone(), Duration::from_secs(audit_interval.max(1)));
                let listener = tokio::net::TcpListener::bind(listen).await?;
                let mut banner = format!("issuer service listening on http://{}\n", listener.local_addr()?);
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
            IssuerCommand::Init { common, slug, name } => {
                let db = Db::open(&common.database_url()?).await?;
                let passphrase = crate::setup::passphrase(&common.data_dir)?;
                let did = create_issuer(&db, &common.registry(), &passphrase, KdfParams::DEFAULT, &slug, &name, crate::now()).await?;
                println!("{did}");
                eprintln!("issuer `{slug}` registered; ask the root authority to accredit {did}");
                Ok(ExitCode::SUCCESS)
            }
            IssuerCommand::Operator { common, issuer, name, types, expires_days } => {
                let db = Db::open(&common.database_url()?).await?;
                let now = crate::now();
                let (id, token) = create_operator(&db, &issuer, &name, &types, expires_days.map(|d| now + d * 86_400), now).await?;
                println!("{token}");
                eprintln!("operator {id} for `{issuer}` ({}): keep the token safe, it is shown once", types.join(", "));
                Ok(ExitCode::SUCCESS)
            }
            IssuerCommand::Batch { common, issuer, type_id, file, out, public_url } => {
                let service = common.service(&public_url, false).await?;
                let ty = Catalog::builtin().get(&type_id)?;
                let rows = batch::read(&file, ty).map_err(anyhow::Error::msg)?;
                let bar = indicatif::ProgressBar::new(rows.len() as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                let outcomes = batch::run(&service, &local_operator(&issuer), &issuer, &type_id, rows, crate::now(), |done, _| {
                    bar.set_position(done as u64)
                })
                .await;
                bar.finish_and_clear();
                write_offers(&out, &outcomes)?;
                let (mut offered, mut again, mut rejected) = (0, 0, 0);
                for outcome in &outcomes {
                    match outcome {
                        Outcome::Offered { .. } => offered += 1,
                        Outcome::AlreadyOffered { .. } => again += 1,
                        Outcome::Rejected { line, reason } => {
                            rejected += 1;
                            eprintln!("line {line}: rejected: {reason}");
                        }
                    }
                }
                println!("{offered} offered, {again} already offered earlier, {rejected} rejected; offers in {}", out.display());
                Ok(if rejected == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
            }
            IssuerCommand::Revoke(args) => status(args, StatusAction::Revoke).await,
            IssuerCommand::Suspend(args) => status(args, StatusAction::Suspend).await,
            IssuerCommand::Unsuspend(args) => status(args, StatusAction::Unsuspend).await,
        }
    })
}

async fn status(args: StatusArgs, action: StatusAction) -> anyhow::Result<ExitCode> {
    let service = args.common.service("http://127.0.0.1:8080", false).await?;
    let record = service
        .change_status(
            &local_operator(&args.issuer),
            &args.issuer,
            &args.credential,
            action,
            args.reason,
            crate::now(),
        )
        .await
        .with_context(|| format!("changing the status of {}", args.credential))?;
    println!(
        "{} is now {:?} (list {}, index {})",
        record.id, record.status, record.status_list, record.status_index
    );
    if let Err(e) = service.anchor_audit().await {
        eprintln!("note: audit not yet anchored in the registry: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

fn write_offers(path: &std::path::Path, outcomes: &[Outcome]) -> anyhow::Result<()> {
    let mut writer =
        csv::Writer::from_path(path).with_context(|| format!("creating {}", path.display()))?;
    writer.write_record(["line", "offer_id", "tx_code", "credential_offer_uri"])?;
    for outcome in outcomes {
        if let Outcome::Offered { line, offer } = outcome {
            writer.write_record([
                line.to_string(),
                offer.offer_id.clone(),
                offer.tx_code.clone().unwrap_or_default(),
                offer.credential_offer_uri.clone(),
            ])?;
        }
    }
    writer.flush()?;
    if outcomes
        .iter()
        .all(|o| !matches!(o, Outcome::Offered { .. }))
        && outcomes.is_empty()
    {
        bail!("the file has no rows");
    }
    Ok(())
}

/// Anchors the audit trail and sweeps expired offers, nonces and tokens, every `interval`.
pub(crate) fn spawn_background(service: IssuerService, interval: Duration) {
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
        }
    });
}
