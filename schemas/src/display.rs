//! How people see a type: its SD-JWT VC Type Metadata (`metadata.json` in the type's folder),
//! with the type's name and every claim's label in Korean and English, and claims laid out as
//! labelled rows for pages, verdicts, the CLI and wallets.

use dojang_core::Lang;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A type's SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc, "Type Metadata"), as kept in
/// `metadata.json` and served at the type's `vct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeMetadata {
    /// The type's `vct`.
    pub vct: String,
    /// A name for developers.
    pub name: String,
    /// A description for developers.
    pub description: String,
    /// The type's name and description per language.
    pub display: Vec<TypeDisplay>,
    /// Every claim's label and description per language.
    pub claims: Vec<ClaimMetadata>,
}

/// The type's name and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDisplay {
    /// The language tag (later drafts call it `locale`; both are read).
    #[serde(alias = "locale")]
    pub lang: String,
    /// The name people read.
    pub name: String,
    /// One sentence.
    pub description: String,
}

/// One claim's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMetadata {
    /// The claim's path: object keys, `null` for every element of an array.
    pub path: Vec<Option<String>>,
    /// Its label and description per language.
    pub display: Vec<ClaimDisplay>,
    /// `allowed`, `always` or `never` selectively disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<String>,
}

/// A claim's label and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimDisplay {
    /// The language tag (later drafts call it `locale`; both are read).
    #[serde(alias = "locale")]
    pub lang: String,
    /// A short label.
    pub label: String,
    /// One sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// How a value is shown: pages format dates for the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Text as it is.
    Text,
    /// A calendar date (`YYYY-MM-DD`).
    Date,
    /// A date and time (RFC 3339).
    Datetime,
    /// Yes or no.
    Boolean,
    /// A number.
    Number,
}

/// One claim as a labelled row: nested objects and arrays become rows of their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRow {
    /// Where the value is in the claims (keys, and array positions as decimal text).
    pub path: Vec<String>,
    /// The labels along the path in the reader's language, joined by ` › `.
    pub label: String,
    /// A scalar: a string, number, boolean or null.
    pub value: Value,
    /// How to show it.
    pub kind: ValueKind,
}

impl TypeMetadata {
    /// The display in `lang`, if the metadata has one.
    pub fn display_in(&self, lang: Lang) -> Option<&TypeDisplay> {
        self.display.iter().find(|d| d.lang.parse() == Ok(lang))
    }

    /// The label of the claim at `path` (array positions given as `None`) in `lang`.
    pub fn label(&self, path: &[Option<&str>], lang: Lang) -> Option<&str> {
        let claim = self.claims.iter().find(|c| {
            c.path.len() == path.len() && c.path.iter().zip(path).all(|(a, b)| a.as_deref() == *b)
        })?;
        claim
            .display
            .iter()
            .find(|d| d.lang.parse() == Ok(lang))
            .map(|d| d.label.as_str())
    }

    /// What is wrong with this metadata for a type with `vct` and `schema`: another `vct`,
    /// a language missing from a display, a claim the schema does not define, or a top-level
    /// claim without a label in both languages.
    pub(crate) fn check(&self, vct: &str, schema: &Value) -> Result<(), String> {
        if self.vct != vct {
            return Err(format!("metadata.json is for vct `{}`", self.vct));
        }
        let has_both = |langs: Vec<&str>| {
            Lang::ALL
                .iter()
                .all(|lang| langs.iter().any(|l| l.parse() == Ok(*lang)))
        };
        if !has_both(self.display.iter().map(|d| d.lang.as_str()).collect()) {
            return Err("metadata.json: `display` needs `ko` and `en`".into());
        }
        for claim in &self.claims {
            let shown = claim.path.iter().map(|p| p.as_deref().unwrap_or("[]"));
            let shown: Vec<&str> = shown.collect();
            if claim.path.is_empty() || subschema(schema, &claim.path).is_none() {
                return Err(format!(
                    "metadata.json: the schema has no claim at {shown:?}"
                ));
            }
            if !has_both(claim.display.iter().map(|d| d.lang.as_str()).collect()) {
                return Err(format!(
                    "metadata.json: claim {shown:?} needs labels in `ko` and `en`"
                ));
            }
        }
        let top = schema.get("properties").and_then(Value::as_object);
        for name in top.into_iter().flat_map(Map::keys) {
            if !self
                .claims
                .iter()
                .any(|c| c.path.len() == 1 && c.path[0].as_deref() == Some(name.as_str()))
            {
                return Err(format!("metadata.json: claim `{name}` has no labels"));
            }
        }
        Ok(())
    }

    /// `claims` as labelled rows in `lang`, in the order the claims are written; `schema`
    /// tells dates and numbers apart. Arrays of scalars are one row, joined by `, `; arrays of
    /// objects number their elements when there is more than one. A claim without a label is
    /// labelled by its name.
    pub fn rows(&self, schema: &Value, claims: &Map<String, Value>, lang: Lang) -> Vec<ClaimRow> {
        let mut rows = Vec::new();
        for (name, value) in self.ordered(&[], claims) {
            let mut walk = Walk {
                metadata: self,
                lang,
                rows: &mut rows,
            };
            walk.value(
                &mut vec![Some(name.as_str())],
                &mut vec![name.clone()],
                &mut Vec::new(),
                subschema(schema, &[Some(name.clone())]),
                value,
            );
        }
        rows
    }
}

impl TypeMetadata {
    /// `fields` of the object at `parent`, in the order the metadata lists them (the rest
    /// after, by name).
    fn ordered<'v>(
        &self,
        parent: &[Option<&str>],
        fields: &'v Map<String, Value>,
    ) -> Vec<(&'v String, &'v Value)> {
        let position = |name: &str| {
            self.claims
                .iter()
                .position(|c| {
                    c.path.len() == parent.len() + 1
                        && c.path[parent.len()].as_deref() == Some(name)
                        && c.path.iter().zip(parent).all(|(a, b)| a.as_deref() == *b)
                })
                .unwrap_or(usize::MAX)
        };
        let mut ordered: Vec<(&String, &Value)> = fields.iter().collect();
        ordered.sort_by_key(|(name, _)| position(name));
        ordered
    }
}

/// The deepest nesting shown as rows; deeper values are shown as text.
const MAX_DEPTH: usize = 8;

struct Walk<'a> {
    metadata: &'a TypeMetadata,
    lang: Lang,
    rows: &'a mut Vec<ClaimRow>,
}

impl Walk<'_> {
    fn value<'v>(
        &mut self,
        key: &mut Vec<Option<&'v str>>,
        path: &mut Vec<String>,
        labels: &mut Vec<String>,
        schema: Option<&Value>,
        value: &'v Value,
    ) {
        // An array's elements are told apart by number, not by their own label.
        let own = match key.last() {
            Some(None) => None,
            _ => self
                .metadata
                .label(key, self.lang)
                .map(str::to_owned)
                .or_else(|| key.last().copied().flatten().map(str::to_owned)),
        };
        if let Some(own) = &own {
            labels.push(own.clone());
        }
        match value {
            Value::Object(fields) if key.len() < MAX_DEPTH => {
                for (name, inner) in self.metadata.ordered(key, fields) {
                    key.push(Some(name));
                    path.push(name.clone());
                    let inner_schema = schema
                        .and_then(|s| s.get("properties"))
                        .and_then(|p| p.get(name));
                    self.value(key, path, labels, inner_schema, inner);
                    key.pop();
                    path.pop();
                }
            }
            Value::Array(items)
                if key.len() < MAX_DEPTH && items.iter().any(|i| i.is_object() || i.is_array()) =>
            {
                let item_schema = schema.and_then(|s| s.get("items"));
                for (index, item) in items.iter().enumerate() {
                    key.push(None);
                    path.push(index.to_string());
                    if items.len() > 1 {
                        labels.push((index + 1).to_string());
                    }
                    self.value(key, path, labels, item_schema, item);
                    if items.len() > 1 {
                        labels.pop();
                    }
                    key.pop();
                    path.pop();
                }
            }
            scalar => self.rows.push(ClaimRow {
                path: path.clone(),
                label: labels.join(" › "),
                value: shown(scalar),
                kind: kind_of(schema, scalar),
            }),
        }
        if own.is_some() {
            labels.pop();
        }
    }
}

/// A scalar as it is; an array of scalars joined by `, `; anything deeper as compact text.
fn shown(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::String(
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Object(_) => Value::String(value.to_string()),
        scalar => scalar.clone(),
    }
}

fn kind_of(schema: Option<&Value>, value: &Value) -> ValueKind {
    match (
        value,
        schema.and_then(|s| s.get("format")).and_then(Value::as_str),
    ) {
        (Value::Bool(_), _) => ValueKind::Boolean,
        (Value::Number(_), _) => ValueKind::Number,
        (Value::String(_), Some("date")) => ValueKind::Date,
        (Value::String(_), Some("date-time")) => ValueKind::Datetime,
        _ => ValueKind::Text,
    }
}

/// The schema of the value at `path` (`None` steps into array items).
fn subschema<'s>(schema: &'s Value, path: &[Option<String>]) -> Option<&'s Value> {
    path.iter().try_fold(schema, |s, step| match step {
        Some(name) => s.get("properties")?.get(name),
        None => s.get("items"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn metadata() -> TypeMetadata {
        serde_json::from_value(json!({
            "vct": "urn:t", "name": "T", "description": "t",
            "display": [
                {"lang": "ko", "name": "시험", "description": "시험"},
                {"locale": "en", "name": "Test", "description": "test"}
            ],
            "claims": [
                {"path": ["birthdate"], "display": [{"lang": "ko", "label": "생년월일"}, {"lang": "en", "label": "Birth date"}]},
                {"path": ["address"], "display": [{"lang": "ko", "label": "주소"}, {"lang": "en", "label": "Address"}]},
                {"path": ["address", "locality"], "display": [{"lang": "ko", "label": "시"}, {"lang": "en", "label": "City"}]},
                {"path": ["evidence"], "display": [{"lang": "ko", "label": "증빙"}, {"lang": "en", "label": "Evidence"}]},
                {"path": ["evidence", null, "name"], "display": [{"lang": "ko", "label": "이름"}, {"lang": "en", "label": "Name"}]}
            ]
        }))
        .unwrap()
    }

    fn schema() -> Value {
        json!({"properties": {
            "birthdate": {"type": "string", "format": "date"},
            "address": {"type": "object", "properties": {"locality": {"type": "string"}}},
            "evidence": {"type": "array", "items": {"properties": {"name": {"type": "string"}}}},
            "adult": {"type": "boolean"}
        }})
    }

    #[test]
    fn nested_claims_become_labelled_rows_in_the_readers_language() {
        let claims = json!({
            "birthdate": "1994-03-15",
            "address": {"locality": "Seoul"},
            "evidence": [{"name": "a"}, {"name": "b"}],
            "adult": true,
            "tags": ["x", "y"]
        });
        let rows = metadata().rows(&schema(), claims.as_object().unwrap(), Lang::Ko);
        let shown: Vec<(String, Value, ValueKind)> = rows
            .into_iter()
            .map(|r| (r.label, r.value, r.kind))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("생년월일".into(), json!("1994-03-15"), ValueKind::Date),
                ("주소 › 시".into(), json!("Seoul"), ValueKind::Text),
                ("증빙 › 1 › 이름".into(), json!("a"), ValueKind::Text),
                ("증빙 › 2 › 이름".into(), json!("b"), ValueKind::Text),
                ("adult".into(), json!(true), ValueKind::Boolean),
                ("tags".into(), json!("x, y"), ValueKind::Text),
            ]
        );
        let english = metadata().rows(&schema(), claims.as_object().unwrap(), Lang::En);
        assert_eq!(english[1].label, "Address › City");
        assert_eq!(english[1].path, vec!["address", "locality"]);
    }

    #[test]
    fn metadata_must_match_its_type() {
        let m = metadata();
        assert_eq!(
            m.check("urn:other", &schema()).unwrap_err(),
            "metadata.json is for vct `urn:t`"
        );
        assert_eq!(
            m.check("urn:t", &schema()).unwrap_err(),
            "metadata.json: claim `adult` has no labels"
        );
        let mut no_english = m.clone();
        no_english.display.pop();
        assert!(
            no_english
                .check("urn:t", &schema())
                .unwrap_err()
                .contains("`ko` and `en`")
        );
        let mut stray = m.clone();
        stray.claims[2].path = vec![Some("address".into()), Some("street".into())];
        assert!(
            stray
                .check("urn:t", &schema())
                .unwrap_err()
                .contains("no claim at")
        );
    }
}
