//! `dojang issuer batch`: one offer per row of a file, their transaction codes in a new offers
//! file, safe to re-run.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use dojang_issuer::batch::{self, Outcome};
use dojang_schemas::Catalog;

use super::{Common, kst_date, kst_time, local_operator};

#[derive(Args)]
pub(crate) struct BatchArgs {
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
}

/// The long help of `issuer batch`: the input format, each type's claim columns, the output.
pub(super) fn help() -> String {
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

/// Creates the offers, records them row by row, and says what happened.
pub(super) async fn run(args: BatchArgs) -> anyhow::Result<ExitCode> {
    let BatchArgs {
        common,
        issuer,
        type_id,
        file,
        out_dir,
        out,
        public_url,
    } = args;
    let service = common.service(&public_url, false).await?;
    let ty = Catalog::builtin().get(&type_id)?;
    let rows = batch::read(&file, ty).map_err(anyhow::Error::msg)?;
    if rows.is_empty() {
        bail!(
            "{} has no rows ({}에 행이 없습니다)",
            file.display(),
            file.display()
        );
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
    let recorded = batch::run_with(
        &service,
        &local_operator(&issuer),
        &issuer,
        &type_id,
        rows,
        now,
        |outcome| {
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
        },
    )
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
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
