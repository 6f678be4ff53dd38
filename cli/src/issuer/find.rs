//! `dojang issuer list`, `revoke`, `suspend`, `unsuspend`: find a citizen's credentials and
//! change their status.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{ArgGroup, Args};
use dojang_issuer::service::{
    CalendarDate, CredentialQuery, CredentialStatus, ListedCredential, Reason, StatusAction,
    Subject,
};

use super::{Common, kst_midnight, kst_time, local_operator, parse_date};

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

pub(super) const LIST_HELP: &str = "\
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

pub(super) async fn status(args: StatusArgs, action: StatusAction) -> anyhow::Result<ExitCode> {
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

pub(super) async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
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
