//! Claims and names as an app shows them: every label in Korean and English, from the type's
//! metadata (`schemas/types/<id>/metadata.json`), so the app picks the user's language.

use dojang_core::Lang;
use dojang_schemas::{CredentialType, ValueKind as SchemaKind};
use serde_json::{Map, Value};

/// How to show a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ValueKind {
    /// Text as it is.
    Text,
    /// A calendar date (`YYYY-MM-DD`): format it for the user's locale.
    Date,
    /// An RFC 3339 date and time.
    Datetime,
    /// `true` or `false`: show yes or no.
    Boolean,
    /// A number.
    Number,
}

/// One claim as a labelled row (nested objects and arrays flattened into rows).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClaimView {
    /// Where it is in the credential: keys, and array positions as decimal text.
    pub path: Vec<String>,
    /// Its label in Korean (`주소 › 시·군·구`).
    pub label_ko: String,
    /// Its label in English (`Address › District`).
    pub label_en: String,
    /// The value as text (`true`/`false` for booleans, ISO dates as they are).
    pub value: String,
    /// How to show it.
    pub kind: ValueKind,
    /// Whether the holder may keep it back (a top-level selectively disclosable claim).
    pub choosable: bool,
}

/// `claims` of type `ty` as rows in both languages; `choosable` names the top-level claims the
/// holder chooses.
pub(crate) fn rows(
    ty: &CredentialType,
    claims: &Map<String, Value>,
    choosable: &[String],
) -> Vec<ClaimView> {
    let korean = ty.rows(claims, Lang::Ko);
    let english = ty.rows(claims, Lang::En);
    korean
        .into_iter()
        .zip(english)
        .map(|(ko, en)| ClaimView {
            choosable: ko.path.first().is_some_and(|top| choosable.contains(top)),
            value: match &ko.value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
            kind: match ko.kind {
                SchemaKind::Date => ValueKind::Date,
                SchemaKind::Datetime => ValueKind::Datetime,
                SchemaKind::Boolean => ValueKind::Boolean,
                SchemaKind::Number => ValueKind::Number,
                _ => ValueKind::Text,
            },
            path: ko.path,
            label_ko: ko.label,
            label_en: en.label,
        })
        .collect()
}

/// The label of the claim at `pointer` in both languages.
pub(crate) fn labels(ty: Option<&CredentialType>, pointer: &str) -> (String, String) {
    match ty {
        Some(ty) => (ty.label(pointer, Lang::Ko), ty.label(pointer, Lang::En)),
        None => (pointer.to_owned(), pointer.to_owned()),
    }
}

/// A `"<Korean> / <English>"` name as its two halves (one name in one language: both the same).
pub(crate) fn both(name: &str) -> (String, String) {
    (
        Lang::Ko.pick(name).to_owned(),
        Lang::En.pick(name).to_owned(),
    )
}
