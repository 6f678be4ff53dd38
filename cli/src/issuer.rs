//! `dojang issuer …`: run the issuer service, set up issuers and operators, issue in batch,
//! find credentials, and change their status.
//!
//! Dates a clerk types or reads here (`--issued-on`, the offers file's name and expiry, the
//! list's issuance times) are Korean Standard Time (UTC+9), whatever the machine's time zone:
//! the offices are in Korea, and the same command gives the same answer on every machine.

use std::collections::HashMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{ArgGroup, Args, Subcommand};
use dojang_core::seal::KdfParams;
use dojang_issuer::batch::{self, Outcome};
use dojang_issuer::db::Db;
use dojang_issuer::service::{
    CalendarDate, CredentialQuery, CredentialStatus, ListedCredential, Operator, Reason,
    StatusAction, Subject, create_issuer, create_operator,
};
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
    /// Create one offer per row of a CSV or JSON-lines file, into a new offers file.
    ///
    /// Each run writes the offers it makes, with their transaction codes, to a new file named
    /// by what it is — `offers-<type>-<YYYY-MM-DD>-<n>.csv` — and never overwrites one: the
    /// codes are shown nowhere else. Safe to re-run after fixing rejected rows.
    #[command(after_long_help = batch_help())]
    Batch {
        #[command(flatten)]
        common: Common,
        /// The issuer's slug.
        #[arg(long)]
        issuer: String,
        /// Credential type (its claim columns are listed below).
        #[arg(long = "type")]
        type_id: String,
        /// The rows (`.csv`, or JSON lines).
        #[arg(long)]
        file: PathBuf,
        /// Folder for the offers file (default: the folder of `--file`).
        #[arg(long)]
        out_dir: Option<PathBuf>,
        /// Write the offers file exactly here instead; refused if the file exists.
        #[arg(long, short, conflicts_with = "out_dir")]
        out: Option<PathBuf>,
        /// The service's public URL (offers name it).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Find credentials: by type, status, offer, issuance date, or citizen.
    #[command(after_long_help = LIST_HELP)]
    List(ListArgs),
    /// Revoke a credential.
    Revoke(StatusArgs),
    /// Suspend a credential.
    Suspend(StatusArgs),
    /// Lift a suspension.
    Unsuspend(StatusArgs),
}

#[derive(Args)]
#[command(group(ArgGroup::new("which").required(true).args(["credential", "offer"])))]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    common: Common,
    /// The issuer's slug.
    #[arg(long)]
    issuer: String,
    /// The credential id (`dojang issuer list` shows it).
    #[arg(long)]
    credential: Option<String>,
    /// Or the offer id given at issuance (in the batch's offers file, or the console's).
    #[arg(long)]
    offer: Option<String>,
    /// Why: lost, stolen, superseded, holder_request, issued_in_error, eligibility_ended,
    /// deceased, investigation, resolved.
    #[arg(long)]
    reason: Reason,
}

#[derive(Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    common: Common,
    /// The issuer's slug.
    #[arg(long)]
    issuer: String,
    /// Only this credential type.
    #[arg(long = "type")]
    type_id: Option<String>,
    /// Only credentials in this status.
    #[arg(long, value_enum)]
    status: Option<StatusFilter>,
    /// The credential issued from this offer (the offer id given at issuance).
    #[arg(long)]
    offer: Option<String>,
    /// Issued on this day (YYYY-MM-DD, KST).
    #[arg(long, value_parser = parse_date, conflicts_with_all = ["issued_from", "issued_to"])]
    issued_on: Option<CalendarDate>,
    /// Issued on or after this day (YYYY-MM-DD, KST).
    #[arg(long, value_parser = parse_date)]
    issued_from: Option<CalendarDate>,
    /// Issued on or before this day (YYYY-MM-DD, KST).
    #[arg(long, value_parser = parse_date)]
    issued_to: Option<CalendarDate>,
    /// The citizen's card or document number, as given in the batch's `_subject` column
    /// (spaces, hyphens and case do not matter).
    #[arg(long, conflicts_with_all = ["name", "birth_date"])]
    card_number: Option<String>,
    /// The citizen's name (with `--birth-date`), as given in `_subject_name`.
    #[arg(long, requires = "birth_date")]
    name: Option<String>,
    /// The citizen's birth date (with `--name`): YYYY-MM-DD, YYYYMMDD or YYYY.MM.DD.
    #[arg(long, requires = "name")]
    birth_date: Option<String>,
    /// Show at most this many, newest first.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=999))]
    limit: u16,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// A status to list.
#[derive(Clone, Copy, clap::ValueEnum)]
enum StatusFilter {
    /// Valid.
    Valid,
    /// Suspended.
    Suspended,
    /// Revoked.
    Revoked,
}

const LIST_HELP: &str = "\
Filters combine: every one given must match. A citizen is found by the card or document number
(`--card-number`) or the name and birth date (`--name`, `--birth-date`) the office gave when
offering (the batch's `_subject`, or `_subject_name` and `_subject_birth_date`): what you type
is normalised the same way and compared as a keyed hash; it is never stored or logged. Dates and
times are Korean Standard Time. Only the office's own credentials are listed, and only their
metadata: id, type, status, issuance time, and the offer they came from. Revoke or suspend one
with `dojang issuer revoke --credential <id>` or `--offer <offer id>`.

필터는 모두 함께 적용됩니다. 시민은 제안할 때 준 카드·문서 번호(`--card-number`) 또는 이름과
생년월일(`--name`, `--birth-date`)로 찾습니다. 입력한 값은 같은 방식으로 정규화되어 키 해시로만
비교되며 저장되거나 기록되지 않습니다. 날짜와 시각은 한국 표준시입니다.
";

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

/// The long help of `issuer batch`: the input format, each type's claim columns, the output.
fn batch_help() -> String {
    let mut types = String::new();
    for ty in Catalog::builtin().iter() {
        let mut columns = batch::columns(ty);
        // Required columns first.
        columns.sort_by_key(|c| !c.required);
        let lists: Vec<&str> = columns
            .iter()
            .filter(|c| c.required && c.kind == "list")
            .map(|c| c.name.as_str())
            .collect();
        if !lists.is_empty() {
            types += &format!(
                "  {}: JSON lines only (required list claims: {})\n",
                ty.id(),
                lists.join(", ")
            );
            continue;
        }
        let mut line = format!("  {}:", ty.id());
        for (i, c) in columns.iter().enumerate() {
            let mark = if c.required { "*" } else { "" };
            let column = match c.kind {
                "text" => format!("{}{mark}", c.name),
                kind => format!("{}{mark} ({kind})", c.name),
            };
            let separator = if i + 1 < columns.len() { "," } else { "" };
            if line.len() + column.len() + 2 > 96 {
                types += &line;
                types += "\n";
                line = "     ".to_owned();
            }
            line += &format!(" {column}{separator}");
        }
        types += &line;
        types += "\n";
    }
    format!(
        "\
Input (`--file`)
  CSV (a `.csv` file): the first row names the columns, then one row per citizen.
    Claim columns are the claim names of `--type` (below; * = required), dotted for a nested
    claim (`address.locality`). Values: true/false (or yes/no, 1/0), numbers, dates as
    YYYY-MM-DD, otherwise text; an empty cell leaves the claim out. A list claim needs JSON lines.
    Columns starting with `_` are not claims, and all are optional:
      _subject             the citizen's card or document number, to find their credentials
                           later (`dojang issuer list --card-number`)
      _subject_name        or their name and birth date instead (`--name`, `--birth-date`);
      _subject_birth_date    the office keeps only a keyed hash of either, never the text
      _idempotency_key     the row's identity across re-runs (1-128 characters); without it,
                           a hash of the type, the claims and the subject
  JSON lines (any other file): one object per line, the claims with the same `_` fields, or
    {{\"claims\": {{...}}, \"subject\": ..., \"subject_name\": ..., \"subject_birth_date\": ..., \"idempotency_key\": ...}}

Claim columns by type
{types}
Output: a new offers file per run, never overwriting one
  `offers-<type>-<YYYY-MM-DD>-<n>.csv` (today in KST, the first free n) in the folder of
  `--file`, or `--out-dir`; `--out <file>` names it instead and is refused if the file exists.
  Written row by row, so a run that stops half-way has recorded every offer it made.
  Columns: line, offer_id, tx_code, credential_offer_uri, expires_at, outcome (offered,
  offered_earlier, rejected), note. It holds the transaction codes, which are shown nowhere
  else and cannot be shown again (the office keeps only their hashes): keep it safe, hand each
  citizen the offer (its QR code) and, separately, the code.

Re-running
  Fix the rejected rows and run the same command again. A row offered by an earlier run is not
  offered again: it is reported as offered_earlier, with its offer id and the file that holds
  its codes; fixed rows are offered; earlier files stay as they are. A row changed after it was
  offered is offered anew unless it keeps its `_idempotency_key`.
  Exit status: 0 every row offered (now or earlier), 1 some rows rejected, 2 an error stopped
  the run (the message says what; offers made before it are in the file).

입력: CSV 첫 줄은 열 이름(항목 이름, 중첩 항목은 `address.locality`처럼 점으로)이고, `_subject`(카드·문서
번호) 또는 `_subject_name`과 `_subject_birth_date`(이름과 생년월일)로 나중에 자격증명을 찾을 수 있습니다.
출력: 실행할 때마다 새 파일 `offers-<유형>-<날짜>-<n>.csv`에 제안과 거래 코드를 기록하며, 기존 파일을
덮어쓰지 않습니다. 거래 코드는 다시 볼 수 없으니 파일을 안전하게 보관하세요. 거부된 행을 고쳐 같은 명령을
다시 실행하면 이전에 제안된 행은 다시 제안되지 않습니다.
"
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
            IssuerCommand::Batch { common, issuer, type_id, file, out_dir, out, public_url } => {
                let service = common.service(&public_url, false).await?;
                let ty = Catalog::builtin().get(&type_id)?;
                let rows = batch::read(&file, ty).map_err(anyhow::Error::msg)?;
                if rows.is_empty() {
                    bail!("{} has no rows ({}에 행이 없습니다)", file.display(), file.display());
                }
                let now = crate::now();
                let mut offers = match out {
                    Some(path) => OffersFile::create_at(path, now)?,
                    None => {
                        let dir = out_dir.unwrap_or_else(|| match file.parent() {
                            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
                            _ => PathBuf::from("."),
                        });
                        OffersFile::create_next(&dir, &type_id, now)?
                    }
                };
                let bar = indicatif::ProgressBar::new(rows.len() as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                let (mut offered, mut again, mut rejected) = (0, 0, 0);
                let recorded = batch::run_with(&service, &local_operator(&issuer), &issuer, &type_id, rows, now, |outcome| {
                    match &outcome {
                        Outcome::Offered { .. } => offered += 1,
                        Outcome::AlreadyOffered { .. } => again += 1,
                        Outcome::Rejected { line, reason } => {
                            rejected += 1;
                            bar.suspend(|| eprintln!("line {line}: rejected: {reason} ({line}행 거부)"));
                        }
                    }
                    bar.inc(1);
                    offers.record(&outcome)
                })
                .await;
                bar.finish_and_clear();
                let path = offers.path.clone();
                recorded.and_then(|()| offers.finish()).with_context(|| {
                    format!(
                        "writing {}: stopped; the offers made so far are in it \
                         ({} 기록 중 오류로 중단했습니다. 지금까지 만든 제안은 이 파일에 있습니다)",
                        path.display(),
                        path.display()
                    )
                })?;
                println!(
                    "{offered} offered, {again} already offered earlier, {rejected} rejected; offers in {} \
                     (새 제안 {offered}건, 이전에 제안됨 {again}건, 거부 {rejected}건; 제안 파일 {})",
                    path.display(),
                    path.display()
                );
                if rejected > 0 {
                    println!(
                        "fix the rejected rows and run the same command again: rows offered before are not \
                         offered again, and this file stays as it is (거부된 행을 고쳐 같은 명령을 다시 \
                         실행하세요. 이미 제안된 행은 다시 제안되지 않고 이 파일은 그대로 남습니다)"
                    );
                }
                Ok(if rejected == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
            }
            IssuerCommand::List(args) => list(args).await,
            IssuerCommand::Revoke(args) => status(args, StatusAction::Revoke).await,
            IssuerCommand::Suspend(args) => status(args, StatusAction::Suspend).await,
            IssuerCommand::Unsuspend(args) => status(args, StatusAction::Unsuspend).await,
        }
    })
}

async fn status(args: StatusArgs, action: StatusAction) -> anyhow::Result<ExitCode> {
    let service = args.common.service("http://127.0.0.1:8080", false).await?;
    let operator = local_operator(&args.issuer);
    let credential = match (args.credential, &args.offer) {
        (Some(credential), _) => credential,
        (None, Some(offer)) => {
            let id = service
                .credential_of_offer(&operator, &args.issuer, offer)
                .await
                .with_context(|| {
                    format!(
                        "finding the credential of offer {offer} (제안 {offer}의 자격증명 찾기)"
                    )
                })?;
            println!("offer {offer}: credential {id}");
            id
        }
        // clap requires one of the two.
        (None, None) => {
            bail!("give --credential or --offer (--credential 또는 --offer가 필요합니다)")
        }
    };
    let record = service
        .change_status(
            &operator,
            &args.issuer,
            &credential,
            action,
            args.reason,
            crate::now(),
        )
        .await
        .with_context(|| {
            format!("changing the status of {credential} ({credential}의 상태 변경)")
        })?;
    let korean = match record.status {
        CredentialStatus::Valid => "유효",
        CredentialStatus::Revoked => "폐지",
        CredentialStatus::Suspended => "정지",
    };
    println!(
        "{} is now {:?} (list {}, index {}; 현재 상태: {korean})",
        record.id, record.status, record.status_list, record.status_index
    );
    if let Err(e) = service.anchor_audit().await {
        eprintln!(
            "note: audit not yet anchored in the registry: {e} (감사 기록이 아직 레지스트리에 고정되지 않았습니다)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let subject = match (&args.card_number, &args.name, &args.birth_date) {
        (Some(number), _, _) => Some(Subject::number(number)?),
        (None, Some(name), Some(birth_date)) => Some(Subject::person(name, birth_date)?),
        _ => None,
    };
    let (issued_from, issued_to) = match args.issued_on {
        Some(day) => (Some(day), Some(day)),
        None => (args.issued_from, args.issued_to),
    };
    let limit = usize::from(args.limit);
    let query = CredentialQuery {
        type_id: args.type_id,
        status: args.status.map(|s| match s {
            StatusFilter::Valid => CredentialStatus::Valid,
            StatusFilter::Suspended => CredentialStatus::Suspended,
            StatusFilter::Revoked => CredentialStatus::Revoked,
        }),
        offer_id: args.offer,
        issued_from: issued_from.map(kst_midnight),
        issued_before: issued_to.map(|day| kst_midnight(day) + 86_400),
        subject,
        // One more, to tell when there are more than shown.
        limit: limit + 1,
    };
    let service = args.common.service("http://127.0.0.1:8080", false).await?;
    let mut found = service
        .find_credentials(&local_operator(&args.issuer), &args.issuer, &query)
        .await
        .with_context(|| format!("listing the credentials of `{}`", args.issuer))?;
    let more = found.len() > limit;
    found.truncate(limit);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print_table(&found);
        if more {
            println!(
                "showing the newest {limit}; narrow the search or raise --limit \
                 (최근 {limit}건만 표시합니다. 조건을 좁히거나 --limit을 늘리세요)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(found: &[ListedCredential]) {
    if found.is_empty() {
        println!("no credentials match (조건에 맞는 자격증명이 없습니다)");
        return;
    }
    let type_width = found
        .iter()
        .map(|c| c.record.type_id.len())
        .max()
        .unwrap_or(0)
        .max(4);
    println!(
        "{:<36}  {:<type_width$}  {:<9}  {:<16}  OFFER",
        "CREDENTIAL", "TYPE", "STATUS", "ISSUED (KST)"
    );
    for c in found {
        let status = match c.record.status {
            CredentialStatus::Valid => "valid",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Suspended => "suspended",
        };
        let issued = kst_time(c.record.issued_at);
        println!(
            "{:<36}  {:<type_width$}  {:<9}  {:<16}  {}",
            c.record.id,
            c.record.type_id,
            status,
            issued.get(..16).unwrap_or(&issued).replace('T', " "),
            c.offer_id.as_deref().unwrap_or("-")
        );
    }
    println!("{} credential(s) (자격증명 {}건)", found.len(), found.len());
}

/// The offers file of one batch run: created new (never over another), written and flushed
/// row by row, so the transaction codes of every offer made are on disk before the next row.
struct OffersFile {
    path: PathBuf,
    writer: csv::Writer<File>,
    /// Offer id → the earlier offers file (beside this one) holding its codes.
    earlier: HashMap<String, String>,
    /// When the run started (an earlier offer past its expiry cannot be handed out).
    now: i64,
}

impl OffersFile {
    const HEADER: [&'static str; 7] = [
        "line",
        "offer_id",
        "tx_code",
        "credential_offer_uri",
        "expires_at",
        "outcome",
        "note",
    ];

    /// Creates exactly `path`; refuses an existing file.
    fn create_at(path: PathBuf, now: i64) -> anyhow::Result<Self> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        let earlier = earlier_offers(&dir);
        match File::create_new(&path) {
            Ok(file) => Self::start(path, file, earlier, now),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
                "{} already exists: it may hold the transaction codes of an earlier run, so it is \
                 never overwritten; name another file, or leave out --out for a new \
                 offers-<type>-<date>-<n>.csv ({}이(가) 이미 있습니다. 이전 실행의 거래 코드가 있을 수 \
                 있어 덮어쓰지 않습니다. 다른 파일 이름을 주거나 --out 없이 실행하세요)",
                path.display(),
                path.display()
            ),
            Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }

    /// Creates `offers-<type>-<date>-<n>.csv` in `dir`, with the first free `n`.
    fn create_next(dir: &Path, type_id: &str, now: i64) -> anyhow::Result<Self> {
        let date = kst_date(now);
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let earlier = earlier_offers(dir);
        for n in 1..10_000 {
            let path = dir.join(format!("offers-{type_id}-{date}-{n}.csv"));
            match File::create_new(&path) {
                Ok(file) => return Self::start(path, file, earlier, now),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        bail!("{} holds too many offers files for {date}", dir.display())
    }

    fn start(
        path: PathBuf,
        file: File,
        earlier: HashMap<String, String>,
        now: i64,
    ) -> anyhow::Result<Self> {
        let mut writer = csv::Writer::from_writer(file);
        writer.write_record(Self::HEADER)?;
        writer.flush()?;
        Ok(OffersFile {
            path,
            writer,
            earlier,
            now,
        })
    }

    /// Writes one outcome and flushes it to the file.
    fn record(&mut self, outcome: &Outcome) -> anyhow::Result<()> {
        let row: [String; 7] = match outcome {
            Outcome::Offered { line, offer } => [
                line.to_string(),
                offer.offer_id.clone(),
                offer.tx_code.clone().unwrap_or_default(),
                offer.credential_offer_uri.clone(),
                kst_time(offer.expires_at),
                "offered".into(),
                String::new(),
            ],
            Outcome::AlreadyOffered {
                line,
                offer_id,
                state,
                expires_at,
            } => {
                // Housekeeping may not have marked it yet.
                let state = match state.as_str() {
                    "open" if *expires_at <= self.now => "expired",
                    state => state,
                };
                let mut note = match self.earlier.get(offer_id) {
                    Some(file) => format!(
                        "offered by an earlier run, now {state}; its codes are in {file} \
                         (이전 실행에서 제안됨, 현재 {state}; 코드는 {file}에 있습니다)"
                    ),
                    None => format!(
                        "offered by an earlier run, now {state}; its codes are in that run's offers file \
                         (이전 실행에서 제안됨, 현재 {state}; 코드는 그 실행의 제안 파일에 있습니다)"
                    ),
                };
                if matches!(state, "expired" | "locked") {
                    note += "; it can no longer be redeemed: give the row a new _idempotency_key to offer it \
                             again (더 이상 받을 수 없습니다. 다시 제안하려면 새 _idempotency_key를 주세요)";
                }
                [
                    line.to_string(),
                    offer_id.clone(),
                    String::new(),
                    String::new(),
                    kst_time(*expires_at),
                    "offered_earlier".into(),
                    note,
                ]
            }
            Outcome::Rejected { line, reason } => [
                line.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                "rejected".into(),
                reason.clone(),
            ],
        };
        self.writer.write_record(&row)?;
        self.writer.flush()?;
        Ok(())
    }

    /// Flushes and syncs the file to disk.
    fn finish(mut self) -> anyhow::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        Ok(())
    }
}

/// The offers files already in `dir` (CSV files with `offer_id` and `tx_code` columns): which
/// of them holds the codes of each offer. Unreadable files are passed over.
fn earlier_offers(dir: &Path) -> HashMap<String, String> {
    let mut found = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let small = entry
            .metadata()
            .is_ok_and(|m| m.is_file() && m.len() < 64 << 20);
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !is_csv || !small {
            continue;
        }
        let Ok(mut reader) = csv::Reader::from_path(&path) else {
            continue;
        };
        let Ok(headers) = reader.headers() else {
            continue;
        };
        let column = |wanted: &str| headers.iter().position(|h| h == wanted);
        let (Some(offer), Some(code)) = (column("offer_id"), column("tx_code")) else {
            continue;
        };
        for record in reader.records().flatten() {
            if let (Some(id), Some(tx_code)) = (record.get(offer), record.get(code))
                && !id.is_empty()
                && !tx_code.is_empty()
            {
                found
                    .entry(id.to_owned())
                    .or_insert_with(|| name.to_owned());
            }
        }
    }
    found
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
