//! Batch issuance: one offer per row of a CSV or JSON-lines file.
//!
//! Each row becomes a credential offer (the citizen redeems it with a wallet), validated like any
//! other. Rows that fail are reported with their line and reason; the others go on.
//!
//! **CSV.** The first row names the columns. A claim column is the claim's name, dotted for a
//! nested claim (`address.locality`); its values are converted to the type the schema gives
//! (`true`/`false`/`yes`/`no`/`1`/`0`, integers, numbers, otherwise text), and an empty cell
//! leaves the claim out. Which claims a type has and which are required: [`columns`]. Claims
//! that are lists (arrays) need JSON lines. Columns starting with `_` are not claims:
//!
//! - `_subject` — the citizen's card or document number, to find their credentials later;
//! - `_subject_name` and `_subject_birth_date` — or their name and birth date, instead;
//! - `_idempotency_key` — the row's key (1–128 characters); without it, a hash of the type, the
//!   claims and the subject.
//!
//! The subject is normalised ([`Subject`]) and kept only as a keyed hash.
//!
//! **JSON lines.** One object per line: the claims themselves with the same `_` fields, or
//! `{"claims": {…}, "subject": …, "subject_name": …, "subject_birth_date": …,
//! "idempotency_key": …}`.
//!
//! **Re-runs.** A row whose key was offered before is not offered again: the earlier offer
//! stands ([`Outcome::AlreadyOffered`]). Its codes cannot be shown again — only their hashes
//! are kept — so whoever records the outcomes must keep each run's new offers, never replace
//! them: [`run_with`] hands each outcome over as soon as it is known, so a run that stops
//! half-way has still recorded every offer it made. A row fixed after a rejection gets a new
//! key (its claims changed) and is offered; a row changed after it was offered is offered
//! again too, unless it keeps its `_idempotency_key`.

use std::path::Path;

use dojang_schemas::CredentialType;
use serde_json::{Map, Value};

use crate::service::{AdminError, CreatedOffer, IssuerService, NewOffer, Operator, Subject};

/// One row, ready to offer.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line in the file.
    pub line: usize,
    /// The subject's claims.
    pub claims: Map<String, Value>,
    /// The subject reference: the canonical text of the row's [`Subject`].
    pub subject: Option<String>,
    /// The row's idempotency key.
    pub idempotency_key: String,
}

/// What became of one row.
#[derive(Debug)]
pub enum Outcome {
    /// A new offer.
    Offered {
        /// The line.
        line: usize,
        /// The offer.
        offer: Box<CreatedOffer>,
    },
    /// Offered by an earlier run (same idempotency key): nothing new.
    AlreadyOffered {
        /// The line.
        line: usize,
        /// The earlier offer's id.
        offer_id: String,
        /// Its state now: `open`, `redeemed`, `issued`, `locked` or `expired`.
        state: String,
        /// Its expiry, Unix seconds.
        expires_at: i64,
    },
    /// Refused.
    Rejected {
        /// The line.
        line: usize,
        /// Why.
        reason: String,
    },
}

/// Reads a CSV (`.csv`) or JSON-lines file into rows; unreadable rows come back as rejections.
pub fn read(path: &Path, ty: &CredentialType) -> Result<Vec<Result<Row, Outcome>>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        read_csv(&text, ty)
    } else {
        Ok(read_jsonl(&text, ty))
    }
}

fn read_jsonl(text: &str, ty: &CredentialType) -> Vec<Result<Row, Outcome>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let line_no = i + 1;
            let reject = |reason: String| Outcome::Rejected {
                line: line_no,
                reason,
            };
            let value: Value =
                serde_json::from_str(line).map_err(|e| reject(format!("not JSON: {e}")))?;
            let Value::Object(mut object) = value else {
                return Err(reject("not a JSON object".into()));
            };
            let string = |object: &Map<String, Value>, field: &str| {
                object.get(field).and_then(Value::as_str).map(str::to_owned)
            };
            let (claims, given) = match object.remove("claims") {
                Some(Value::Object(claims)) => {
                    let given = Given {
                        subject: string(&object, "subject"),
                        name: string(&object, "subject_name"),
                        birth_date: string(&object, "subject_birth_date"),
                        key: string(&object, "idempotency_key"),
                    };
                    (claims, given)
                }
                Some(_) => return Err(reject("`claims` is not an object".into())),
                None => {
                    let given = Given {
                        subject: string(&object, "_subject"),
                        name: string(&object, "_subject_name"),
                        birth_date: string(&object, "_subject_birth_date"),
                        key: string(&object, "_idempotency_key"),
                    };
                    for field in RESERVED {
                        object.remove(field);
                    }
                    (object, given)
                }
            };
            row(line_no, ty, claims, given)
        })
        .collect()
}

fn read_csv(text: &str, ty: &CredentialType) -> Result<Vec<Result<Row, Outcome>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("CSV header: {e}"))?
        .clone();
    let properties = ty
        .schema()
        .get("properties")
        .cloned()
        .unwrap_or(Value::Null);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                rows.push(Err(Outcome::Rejected {
                    line,
                    reason: format!("CSV: {e}"),
                }));
                continue;
            }
        };
        let mut claims = Map::new();
        let mut given = Given::default();
        for (header, value) in headers.iter().zip(record.iter()) {
            let cell = Some(value.to_owned()).filter(|v| !v.is_empty());
            match header {
                "_subject" => given.subject = cell,
                "_subject_name" => given.name = cell,
                "_subject_birth_date" => given.birth_date = cell,
                "_idempotency_key" => given.key = cell,
                _ if value.is_empty() => {}
                path => insert_path(&mut claims, path, value, &properties),
            }
        }
        rows.push(row(line, ty, claims, given));
    }
    Ok(rows)
}

/// Sets `a.b.c = value`, converting the value to the type the schema gives that path.
fn insert_path(claims: &mut Map<String, Value>, path: &str, value: &str, properties: &Value) {
    let parts: Vec<&str> = path.split('.').collect();
    let mut schema = properties;
    let mut object = claims;
    for (depth, part) in parts.iter().enumerate() {
        let property = schema.get(part).unwrap_or(&Value::Null);
        if depth + 1 == parts.len() {
            object.insert((*part).to_owned(), typed(value, property));
            return;
        }
        schema = property.get("properties").unwrap_or(&Value::Null);
        let next = object
            .entry((*part).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(next) = next else { return };
        object = next;
    }
}

fn typed(value: &str, schema: &Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Value::Bool(true),
            "false" | "no" | "0" => Value::Bool(false),
            _ => Value::String(value.to_owned()),
        },
        Some("integer") => value
            .parse::<i64>()
            .map_or_else(|_| Value::String(value.to_owned()), Value::from),
        Some("number") => value
            .parse::<f64>()
            .map_or_else(|_| Value::String(value.to_owned()), Value::from),
        _ => Value::String(value.to_owned()),
    }
}

/// The fields of a row that are not claims.
const RESERVED: [&str; 4] = [
    "_subject",
    "_subject_name",
    "_subject_birth_date",
    "_idempotency_key",
];

/// What a row says besides its claims, as given.
#[derive(Default)]
struct Given {
    subject: Option<String>,
    name: Option<String>,
    birth_date: Option<String>,
    key: Option<String>,
}

fn row(
    line: usize,
    ty: &CredentialType,
    claims: Map<String, Value>,
    given: Given,
) -> Result<Row, Outcome> {
    let reject = |reason: String| Outcome::Rejected { line, reason };
    let subject = match (&given.subject, &given.name, &given.birth_date) {
        (None, None, None) => None,
        (Some(number), None, None) => Some(Subject::number(number)),
        (None, Some(name), Some(birth_date)) => Some(Subject::person(name, birth_date)),
        (Some(_), _, _) => {
            return Err(reject(
                "give either `_subject` or `_subject_name` and `_subject_birth_date`, not both \
                 (`_subject` 또는 `_subject_name`과 `_subject_birth_date` 중 하나만 쓰세요)"
                    .into(),
            ));
        }
        (None, _, _) => {
            return Err(reject(
                "`_subject_name` and `_subject_birth_date` go together \
                 (`_subject_name`과 `_subject_birth_date`는 함께 써야 합니다)"
                    .into(),
            ));
        }
    };
    let subject = subject
        .transpose()
        .map_err(|e| reject(format!("subject: {e}")))?;
    let idempotency_key = given.key.unwrap_or_else(|| {
        // Over `_subject` as given (not normalised), as before, so that re-running a file an
        // older version offered finds those offers.
        let canonical = match (&given.name, &given.birth_date) {
            (Some(name), Some(birth_date)) => {
                serde_json::json!([ty.id(), claims, given.subject, [name, birth_date]])
            }
            _ => serde_json::json!([ty.id(), claims, given.subject]),
        }
        .to_string();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        format!("row:{}", dojang_core::b64::encode(digest))
    });
    Ok(Row {
        line,
        claims,
        subject: subject.map(|s| s.canonical().to_owned()),
        idempotency_key,
    })
}

/// A column of a type's CSV rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its header: the claim's name, dotted for a nested claim.
    pub name: String,
    /// Whether every row must fill it.
    pub required: bool,
    /// What it holds: `text`, `date`, `true/false`, `integer`, `number`, or `list` (JSON lines
    /// only).
    pub kind: &'static str,
}

/// The claim columns of `ty`'s CSV rows, by name.
pub fn columns(ty: &CredentialType) -> Vec<Column> {
    fn walk(schema: &Value, prefix: &str, required: bool, out: &mut Vec<Column>) {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        let needed: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, property) in properties {
            let path = format!("{prefix}{name}");
            let required = required && needed.contains(&name.as_str());
            let kind = match property.get("type").and_then(Value::as_str) {
                Some("object") if property.get("properties").is_some() => {
                    walk(property, &format!("{path}."), required, out);
                    continue;
                }
                Some("boolean") => "true/false",
                Some("integer") => "integer",
                Some("number") => "number",
                Some("array") => "list",
                Some("string")
                    if property.get("format").and_then(Value::as_str) == Some("date") =>
                {
                    "date"
                }
                _ => "text",
            };
            out.push(Column {
                name: path,
                required,
                kind,
            });
        }
    }
    let mut out = Vec::new();
    walk(ty.schema(), "", true, &mut out);
    out
}

/// Offers every row, calling `progress(done, total)` after each, and returns the outcomes.
pub async fn run(
    service: &IssuerService,
    operator: &Operator,
    slug: &str,
    type_id: &str,
    rows: Vec<Result<Row, Outcome>>,
    now: i64,
    mut progress: impl FnMut(usize, usize),
) -> Vec<Outcome> {
    let total = rows.len();
    let mut outcomes = Vec::with_capacity(total);
    let recorded: Result<(), std::convert::Infallible> =
        run_with(service, operator, slug, type_id, rows, now, |outcome| {
            outcomes.push(outcome);
            progress(outcomes.len(), total);
            Ok(())
        })
        .await;
    let Ok(()) = recorded;
    outcomes
}

/// Offers every row, handing each outcome to `record` as soon as it is known — before the next
/// row is offered. If `record` fails, no further row is offered and its error is returned: an
/// offer's codes exist only in its outcome, so no offer is made that could not be recorded.
pub async fn run_with<E>(
    service: &IssuerService,
    operator: &Operator,
    slug: &str,
    type_id: &str,
    rows: Vec<Result<Row, Outcome>>,
    now: i64,
    mut record: impl FnMut(Outcome) -> Result<(), E>,
) -> Result<(), E> {
    for row in rows {
        let outcome = match row {
            Err(rejected) => rejected,
            Ok(row) => offer(service, operator, slug, type_id, row, now).await,
        };
        record(outcome)?;
    }
    Ok(())
}

async fn offer(
    service: &IssuerService,
    operator: &Operator,
    slug: &str,
    type_id: &str,
    row: Row,
    now: i64,
) -> Outcome {
    let offer = NewOffer {
        type_id: type_id.to_owned(),
        claims: row.claims,
        subject: row.subject,
        tx_code: true,
        idempotency_key: Some(row.idempotency_key),
    };
    match service.create_offer(operator, slug, offer, now).await {
        Ok(created) if created.replayed => {
            // The earlier offer's state tells whether it can still be handed out.
            let state = match service.db().offer(&created.offer_id).await {
                Ok(Some(earlier)) => earlier.state.as_str().to_owned(),
                _ => "unknown".to_owned(),
            };
            Outcome::AlreadyOffered {
                line: row.line,
                offer_id: created.offer_id,
                state,
                expires_at: created.expires_at,
            }
        }
        Ok(created) => Outcome::Offered {
            line: row.line,
            offer: Box::new(created),
        },
        Err(AdminError::Invalid(dojang_schemas::SchemaError::Invalid { violations, .. })) => {
            Outcome::Rejected {
                line: row.line,
                reason: dojang_schemas::violations_summary(&violations),
            }
        }
        Err(e) => Outcome::Rejected {
            line: row.line,
            reason: e.to_string(),
        },
    }
}
