//! `dojang wallet …`: a citizen's wallet on the command line, over `dojang-wallet`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use dojang_core::compact::{self, ChallengeRequest};
use dojang_core::key::Algorithm;
use dojang_core::seal::KdfParams;
use dojang_wallet::receive::{self, ReceiveOptions};
use dojang_wallet::{Wallet, openid4vp, qr};
use zeroize::Zeroizing;

#[derive(Args)]
pub(crate) struct WalletArgs {
    /// The wallet file.
    #[arg(
        long,
        env = "DOJANG_WALLET",
        default_value = "dojang-wallet.db",
        global = true
    )]
    wallet: PathBuf,
    /// Do not ask issuers for current statuses: show them as last fetched.
    #[arg(long, global = true)]
    offline: bool,
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Create an empty wallet, sealed under `DOJANG_WALLET_SECRET`.
    Init,
    /// Receive a credential from an offer: an `openid-credential-offer://` URI or a QR image.
    Receive {
        /// The offer URI, or a PNG/JPEG file of its QR code.
        offer: String,
        /// The transaction code the issuing office gave you.
        #[arg(long)]
        tx_code: Option<String>,
        /// Algorithm of the new holder key.
        #[arg(long, default_value = "ES256")]
        alg: Algorithm,
    },
    /// List the credentials.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Show a credential's claims (and which can be kept back), status and history.
    Show {
        /// The credential id (from `list`).
        id: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Present a credential: an offline QR code, or an answer to an OpenID4VP request.
    Present {
        /// The credential id (with `--disclose`), for a QR code.
        #[arg(required_unless_present = "openid4vp")]
        id: Option<String>,
        /// Claims to disclose, comma-separated.
        #[arg(long, value_delimiter = ',')]
        disclose: Vec<String>,
        /// Answer the verifier's challenge: its `DJC1:` text or a picture of its QR code.
        #[arg(long)]
        challenge: Option<String>,
        /// Write the QR code as PNG here.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Write the QR code as SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Print only the QR text (base45), no terminal drawing.
        #[arg(long)]
        text: bool,
        /// Answer this OpenID4VP request (`openid4vp://…`) instead.
        #[arg(long, conflicts_with_all = ["id", "challenge", "png", "svg", "text"])]
        openid4vp: Option<String>,
        /// Send the OpenID4VP answer; without it, only show what would be disclosed.
        #[arg(long, requires = "openid4vp")]
        yes: bool,
    },
    /// Fetch the status of every credential (or one) again.
    Refresh {
        /// Only this credential.
        id: Option<String>,
    },
    /// What was shown to whom, newest first.
    History,
    /// Delete a credential, its key and its history.
    Delete {
        /// The credential id.
        id: String,
    },
    /// Write an encrypted backup, sealed under `DOJANG_BACKUP_SECRET`.
    Backup {
        /// The backup file.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Add a backup's contents (sealed under `DOJANG_BACKUP_SECRET`) to this wallet — created
    /// (sealed under `DOJANG_WALLET_SECRET`) if there is none yet, as on a new phone.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Re-encrypt everything under `DOJANG_WALLET_NEW_SECRET`.
    ChangeSecret,
}

fn secret(variable: &str) -> anyhow::Result<Zeroizing<String>> {
    match std::env::var(variable) {
        Ok(secret) if !secret.is_empty() => Ok(Zeroizing::new(secret)),
        _ => bail!("set {variable} to the secret (the app's passphrase)"),
    }
}

async fn open(path: &Path) -> anyhow::Result<Wallet> {
    Ok(Wallet::open(path, secret("DOJANG_WALLET_SECRET")?.as_bytes()).await?)
}

/// Text given on the command line, or read from the QR code in the image file it names.
fn text_or_image(arg: &str) -> anyhow::Result<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {arg}"))?;
        return Ok(qr::read_image(&bytes)?);
    }
    Ok(arg.to_owned())
}

pub(crate) fn run(args: WalletArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(command(args))
}

/// How long a status fetch may take before the wallet shows the last known status instead.
const STATUS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Fetches current statuses for `ids` (best effort: a failure leaves the last known status,
/// and says so on stderr).
async fn refresh_statuses(wallet: &Wallet, http: &reqwest::Client, ids: &[String], now: i64) {
    for id in ids {
        if let Err(e) = receive::refresh_status(wallet, http, id, now).await {
            eprintln!(
                "{id}: 상태를 새로 확인하지 못해 마지막으로 확인한 상태를 보여 줍니다 / \
                 could not refresh its status, showing the last known one: {e}"
            );
        }
    }
}

async fn command(args: WalletArgs) -> anyhow::Result<ExitCode> {
    let path = &args.wallet;
    let http = reqwest::Client::builder()
        .timeout(STATUS_TIMEOUT)
        .build()
        .unwrap_or_default();
    let now = crate::now();
    // Statuses are fetched before they are shown or relied on, unless told not to.
    let fresh = !args.offline;
    match args.command {
        WalletCommand::Init => {
            Wallet::create(
                path,
                secret("DOJANG_WALLET_SECRET")?.as_bytes(),
                KdfParams::DEFAULT,
            )
            .await?;
            eprintln!("created {}", path.display());
        }
        WalletCommand::Receive {
            offer,
            tx_code,
            alg,
        } => {
            let wallet = open(path).await?;
            let offer = receive::offer_from_text(&http, &text_or_image(&offer)?).await?;
            let options = ReceiveOptions {
                tx_code: tx_code.as_deref(),
                alg,
                now,
            };
            let credential = receive::receive(&wallet, &http, &offer, options).await?;
            let summary = credential.summary();
            println!("{}", credential.id);
            eprintln!(
                "received {} from {} ({})",
                summary.name,
                summary.issuer,
                summary.formats.join(", ")
            );
        }
        WalletCommand::List { json } => {
            let wallet = open(path).await?;
            if fresh {
                let ids: Vec<String> = wallet.list().await?.into_iter().map(|c| c.id).collect();
                refresh_statuses(&wallet, &http, &ids, now).await;
            }
            let list = wallet.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                eprintln!("no credentials yet: `dojang wallet receive <offer>`");
            }
            for c in list.iter().filter(|_| !json) {
                let status = c
                    .status
                    .as_ref()
                    .map_or("status unknown".to_owned(), |(s, _)| s.clone());
                println!(
                    "{}  {}  — {}  [{}]  {}",
                    c.id,
                    c.name,
                    c.issuer,
                    c.formats.join(", "),
                    status
                );
            }
        }
        WalletCommand::Show { id, json } => {
            let wallet = open(path).await?;
            if fresh {
                refresh_statuses(&wallet, &http, std::slice::from_ref(&id), now).await;
            }
            let credential = wallet.credential(&id).await?;
            let (claims, disclosable) = credential.claims()?;
            let history = wallet.history(Some(&id)).await?;
            if json {
                let shown = serde_json::json!({
                    "summary": credential.summary(),
                    "vct": credential.vct,
                    "issuer": credential.issuer,
                    "holder": credential.key.did(),
                    "claims": claims,
                    "disclosable": disclosable,
                    "presentations": history.len(),
                });
                println!("{}", serde_json::to_string_pretty(&shown)?);
                return Ok(ExitCode::SUCCESS);
            }
            let summary = credential.summary();
            println!("{} — {}", summary.name, summary.issuer);
            println!("  type     {}", credential.vct);
            println!("  issuer   {}", credential.issuer);
            println!("  holder   {}", credential.key.did());
            println!("  formats  {}", summary.formats.join(", "));
            if let Some(status) = &credential.status {
                println!("  status   {} (as of {})", status.status, status.fetched_at);
            }
            // Labels and words in the language asked for; names as they are otherwise.
            let lang = crate::lang();
            let ty = dojang_schemas::Catalog::builtin()
                .by_vct(&credential.vct)
                .ok();
            for (name, value) in &claims {
                let yours = disclosable
                    .iter()
                    .any(|d| d == name || d == &format!("/{name}"));
                let (label, choice) = match (lang, ty) {
                    (Some(lang), Some(ty)) => (
                        ty.label(&format!("/{name}"), lang),
                        if yours {
                            lang.choose("직접 선택", "you choose")
                        } else {
                            lang.choose("항상 보임", "always shown")
                        },
                    ),
                    _ => (
                        name.clone(),
                        if yours { "you choose" } else { "always shown" },
                    ),
                };
                println!("  claim    {label}: {value}  ({choice})");
            }
            println!("  shown    {} time(s)", history.len());
        }
        WalletCommand::Present {
            openid4vp: Some(request),
            yes,
            ..
        } => {
            let wallet = open(path).await?;
            let request = openid4vp::request_from_text(&text_or_image(&request)?)?;
            let found = openid4vp::matches(&wallet, &request).await?;
            println!("{} asks for:", request.response_uri);
            for m in &found {
                let claims: Vec<String> = m.disclosed.iter().map(ToString::to_string).collect();
                println!("  {} ({}): {}", m.name, m.credential_id, claims.join(", "));
            }
            if !yes {
                eprintln!("nothing sent; add --yes to send these claims");
                return Ok(ExitCode::from(1));
            }
            let outcome = openid4vp::respond(&wallet, &http, &request, &found, now).await?;
            eprintln!("sent");
            if let Some(next) = outcome.redirect_uri {
                println!("continue at {next}");
            }
        }
        WalletCommand::Present {
            id: Some(id),
            disclose,
            challenge,
            png,
            svg,
            text,
            openid4vp: None,
            ..
        } => {
            let wallet = open(path).await?;
            if fresh {
                refresh_statuses(&wallet, &http, std::slice::from_ref(&id), now).await;
            }
            if let Some(status) = wallet
                .credential(&id)
                .await?
                .status
                .filter(|s| s.status != "valid")
            {
                eprintln!(
                    "경고: 발급 기관이 이 자격증명을 '{0}' 상태로 바꾸었습니다({1} 기준). 검증하는 곳은 \
                     이를 거부합니다. / warning: its issuer has marked this credential {0} (as of \
                     {1}); a verifier will reject it.",
                    status.status, status.fetched_at
                );
            }
            let challenge = challenge
                .map(|c| -> anyhow::Result<_> {
                    Ok(ChallengeRequest::from_qr_text(&text_or_image(&c)?)?)
                })
                .transpose()?;
            let names: Vec<&str> = disclose.iter().map(String::as_str).collect();
            let presentation = wallet
                .present_qr(&id, &names, challenge.as_ref(), now)
                .await?;
            let qr_text = compact::to_qr_text(&presentation);
            if let Some(file) = png {
                std::fs::write(&file, qr::to_png(&qr_text)?)
                    .with_context(|| format!("writing {}", file.display()))?;
            }
            if let Some(file) = svg {
                std::fs::write(&file, qr::to_svg(&qr_text)?)
                    .with_context(|| format!("writing {}", file.display()))?;
            }
            if !text {
                println!("{}", qr::to_terminal(&qr_text)?);
                eprintln!(
                    "{} bytes, QR version {} at ECC Q; valid for about a minute{}",
                    presentation.len(),
                    qr::version(&qr_text)?,
                    challenge
                        .as_ref()
                        .map_or(String::new(), |c| format!(", for {}", c.audience))
                );
            }
            println!("{qr_text}");
        }
        WalletCommand::Present { .. } => bail!("give a credential id, or --openid4vp"),
        WalletCommand::Refresh { id } => {
            let wallet = open(path).await?;
            let ids = match id {
                Some(id) => vec![id],
                None => wallet
                    .credentials()
                    .await?
                    .into_iter()
                    .map(|c| c.id)
                    .collect(),
            };
            for id in ids {
                match receive::refresh_status(&wallet, &http, &id, now).await {
                    Ok(snapshot) => println!("{id}  {}", snapshot.status),
                    Err(e) => println!("{id}  could not refresh: {e}"),
                }
            }
        }
        WalletCommand::History => {
            for entry in open(path).await?.history(None).await? {
                println!(
                    "{}  {}  {}  {}",
                    entry.at,
                    entry.credential_id,
                    serde_json::to_string(&entry.presentation)?,
                    entry.disclosed.join(",")
                );
            }
        }
        WalletCommand::Delete { id } => {
            if !open(path).await?.delete(&id).await? {
                bail!("no credential {id}");
            }
            eprintln!("deleted {id}");
        }
        WalletCommand::Backup { out } => {
            let wallet = open(path).await?;
            let backup = wallet
                .export_backup(
                    secret("DOJANG_BACKUP_SECRET")?.as_bytes(),
                    KdfParams::DEFAULT,
                )
                .await?;
            crate::identity::write_secret(&out, &String::from_utf8(backup)?, false)?;
            eprintln!("backup written to {} (mode 0600)", out.display());
        }
        WalletCommand::Restore { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let backup_secret = secret("DOJANG_BACKUP_SECRET")?;
            let created = !path.exists();
            let wallet = if created {
                Wallet::create(
                    path,
                    secret("DOJANG_WALLET_SECRET")?.as_bytes(),
                    KdfParams::DEFAULT,
                )
                .await?
            } else {
                open(path).await?
            };
            match wallet.import_backup(&bytes, backup_secret.as_bytes()).await {
                Ok(added) => {
                    if created {
                        eprintln!("created {}", path.display());
                    }
                    eprintln!("restored {added} credential(s)");
                }
                Err(e) => {
                    // A refused restore leaves no new wallet behind.
                    if created {
                        drop(wallet);
                        let _ = std::fs::remove_file(path);
                    }
                    return Err(e.into());
                }
            }
        }
        WalletCommand::ChangeSecret => {
            let mut wallet = open(path).await?;
            wallet
                .change_secret(
                    secret("DOJANG_WALLET_NEW_SECRET")?.as_bytes(),
                    KdfParams::DEFAULT,
                )
                .await?;
            eprintln!("re-encrypted under the new secret");
        }
    }
    Ok(ExitCode::SUCCESS)
}
