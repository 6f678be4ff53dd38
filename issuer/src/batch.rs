//! Batch issuance: one offer per row of a CSV or JSON-lines file.
//!
//! Each row becomes a credential offer (the citizen redeems it with a wallet), validated like any
//! other. Every row carries an idempotency key — its `_idempotency_key` column/field, or by
//! default a hash of the type, claims and subject — so running the same file again creates no
//! duplicate offers. Rows that fail are reported with their line and reason; the others go on.
//!
//! CSV: a header row of claim names; nested claims use dotted names (`address.locality`);
//! values are converted to the schema's type (boolean, integer, number, or string). The
//! `_subject` column holds the subject reference. JSON lines: one object per line, either the
//! claims themselves or `{"claims": {…}, "subject": …, "idempotency_key": …}`.

use std::path::Path;

use dojang_schemas::CredentialType;
use serde_json::{Map, Value};

use crate::service::{AdminError, CreatedOffer, IssuerService, NewOffer, Operator};

/// One row, ready to offer.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line in the file.
    pub line: usize,
    /// The subject's claims.
    pub claims: Map<String, Value>,
    /// The subject reference.
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
            let (claims, subject, key) = match object.remove("claims") {
                Some(Value::Object(claims)) => (
                    claims,
                    object
                        .get("subject")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    object
                        .get("idempotency_key")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                ),
                Some(_) => return Err(reject("`claims` is not an object".into())),
                None => {
                    let subject = object
                        .remove("_subject")
                        .and_then(|v| v.as_str().map(str::to_owned));
                    let key = object
                        .remove("_idempotency_key")
                        .and_then(|v| v.as_str().map(str::to_owned));
                    (object, subject, key)
                }
            };
            Ok(row(line_no, ty, claims, subject, key))
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
        let mut subject = None;
        let mut key = None;
        for (header, value) in headers.iter().zip(record.iter()) {
            match header {
                "_subject" => subject = Some(value.to_owned()).filter(|v| !v.is_empty()),
                "_idempotency_key" => key = Some(value.to_owned()).filter(|v| !v.is_empty()),
                _ if value.is_empty() => {}
                path => insert_path(&mut claims, path, value, &properties),
            }
        }
        rows.push(Ok(row(line, ty, claims, subject, key)));
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

fn row(
    line: usize,
    ty: &CredentialType,
    claims: Map<String, Value>,
    subject: Option<String>,
    key: Option<String>,
) -> Row {
    let idempotency_key = key.unwrap_or_else(|| {
        let canonical = serde_json::json!([ty.id(), claims, subject]).to_string();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        format!("row:{}", dojang_core::b64::encode(digest))
    });
    Row {
        line,
        claims,
        subject,
        idempotency_key,
    }
}

/// Offers every row, calling `progress(done, total)` after each.
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
    for (done, row) in rows.into_iter().enumerate() {
        let outcome = match row {
            Err(rejected) => rejected,
            Ok(row) => {
                let offer = NewOffer {
                    type_id: type_id.to_owned(),
                    claims: row.claims,
                    subject: row.subject,
                    tx_code: true,
                    idempotency_key: Some(row.idempotency_key),
                };
                match service.create_offer(operator, slug, offer, now).await {
                    Ok(created) if created.replayed => Outcome::AlreadyOffered {
                        line: row.line,
                        offer_id: created.offer_id,
                    },
                    Ok(created) => Outcome::Offered {
                        line: row.line,
                        offer: Box::new(created),
                    },
                    Err(AdminError::Invalid(dojang_schemas::SchemaError::Invalid {
                        violations,
                        ..
                    })) => Outcome::Rejected {
                        line: row.line,
                        reason: violations
                            .iter()
                            .map(|v| {
                                format!(
                                    "{}: {}",
                                    if v.path.is_empty() { "/" } else { &v.path },
                                    v.message
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    },
                    Err(e) => Outcome::Rejected {
                        line: row.line,
                        reason: e.to_string(),
                    },
                }
            }
        };
        outcomes.push(outcome);
        progress(done + 1, total);
    }
    outcomes
}
