//! The W3C Verifiable Credentials Data Model 2.0: [`Credential`] and [`Presentation`], and
//! the data model's rules, enforced.
//!
//! dojang's own credentials travel as SD-JWT VCs and compact QR payloads; this model is the
//! common view of them ([`Credential::from_sd_jwt_vc`]), the shape of W3C status list
//! credentials, and what Data Integrity credentials from other systems (Open Badges 3.0) arrive
//! as. Fields that can be one value or an array keep their shape through [`OneOrMany`], so a
//! parsed document serializes back as it came.
//!
//! # The rules
//!
//! Every normative MUST of VCDM 2.0 §4 (and the §5 ones on the same objects: refresh services,
//! terms of use, evidence, related resources, reserved extension points) is a [`Rule`] with a
//! stable id (`vcdm2.credential-subject-non-empty`) and a message in Korean and English. A
//! broken rule is a [`Violation`]: the rule and the JSON Pointer of the offending value.
//!
//! Parse, don't validate: [`Credential::from_json`] and [`Presentation::from_json`] check a
//! JSON value against every structural rule and only then build the typed value;
//! [`validate_document`] does the same for whatever a document claims to be (a credential, a
//! presentation, an enveloped one). The checks read the JSON rather than the typed value
//! because a document that breaks a rule often has no typed form at all (an `id` that is an
//! array, an `issuer` that is `null`), and the error must still name the rule.
//!
//! Three rules need JSON-LD processing — every context processable, every term defined, the
//! document expanding without error ([`Rule::needs_json_ld`]) — and `core` does no JSON-LD:
//! `dojang_verifier::di` checks them with `ssi`'s expansion and offline contexts. `docs/credential-model.md` lists where each
//! rule is checked.

mod check;
mod date_time;
mod rules;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use date_time::days_in_month;
pub use rules::Rule;

use date_time::parse_date_time_stamp;

use crate::sd_jwt::vc::VerifiedSdJwtVc;

/// The VCDM 2.0 base context, which must come first.
pub const CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";

/// A JSON value that may be a single item or an array of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// An array. (First, so that an array of JSON values deserializes as `Many`, not as one
    /// `Value::Array`.)
    Many(Vec<T>),
    /// A single item.
    One(T),
}

impl<T> OneOrMany<T> {
    /// The items, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        match self {
            OneOrMany::One(item) => std::slice::from_ref(item).iter(),
            OneOrMany::Many(items) => items.iter(),
        }
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.iter().len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany<Value> {
    /// An array value as `Many`, anything else as `One`.
    fn from_value(value: &Value) -> Self {
        match value {
            Value::Array(items) => OneOrMany::Many(items.clone()),
            other => OneOrMany::One(other.clone()),
        }
    }
}

/// An issuer or holder: a URL (often a DID), or an object with an `id` URL and more (`name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Party {
    /// Just the identifier.
    Id(String),
    /// An object with an identifier.
    Object {
        /// The identifier.
        id: String,
        /// Other properties.
        #[serde(flatten)]
        properties: Map<String, Value>,
    },
}

/// The issuer of a credential (VCDM 2.0 §4.7).
pub type Issuer = Party;

/// The holder of a presentation (VCDM 2.0 §4.13).
pub type Holder = Party;

impl Party {
    /// The identifier.
    pub fn id(&self) -> &str {
        match self {
            Party::Id(id) | Party::Object { id, .. } => id,
        }
    }

    /// From a value already checked to be a URL or an object with a string `id`.
    fn from_checked(value: &Value) -> Option<Self> {
        match value {
            Value::String(id) => Some(Party::Id(id.clone())),
            Value::Object(object) => {
                let mut properties = object.clone();
                match properties.remove("id") {
                    Some(Value::String(id)) => Some(Party::Object { id, properties }),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// A broken rule of the data model, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// JSON Pointer (RFC 6901) to the offending value; `""` is the whole document.
    pub pointer: String,
    /// What was found, when the pointer alone does not say it (the undefined term, the
    /// JSON-LD processor's complaint).
    pub found: Option<String>,
}

impl Violation {
    /// `rule` broken at `pointer`.
    pub fn new(rule: Rule, pointer: impl Into<String>) -> Self {
        Violation {
            rule,
            pointer: pointer.into(),
            found: None,
        }
    }

    /// The same, saying what was found.
    pub fn found(mut self, found: impl Into<String>) -> Self {
        self.found = Some(found.into());
        self
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "the document"
        } else {
            &self.pointer
        };
        write!(f, "{} at {at}: {}", self.rule, self.rule.message_en())?;
        if let Some(found) = &self.found {
            write!(f, " ({found})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violation {}

/// Why a credential is not a valid VCDM 2.0 credential, or not valid now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// A rule of the data model is broken.
    #[error("{0}")]
    Invalid(#[from] Violation),
    /// `validUntil` has passed.
    #[error("expired at {valid_until}")]
    Expired {
        /// The `validUntil` value.
        valid_until: String,
    },
    /// `validFrom` is in the future.
    #[error("not valid before {valid_from}")]
    NotYetValid {
        /// The `validFrom` value.
        valid_from: String,
    },
}

impl CredentialError {
    /// The rule broken, for [`CredentialError::Invalid`].
    pub fn rule(&self) -> Option<Rule> {
        match self {
            CredentialError::Invalid(violation) => Some(violation.rule),
            _ => None,
        }
    }
}

/// What a valid document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentKind {
    /// A verifiable credential (`type` includes `VerifiableCredential`).
    Credential,
    /// A verifiable presentation (`type` includes `VerifiablePresentation`).
    Presentation,
    /// An `EnvelopedVerifiableCredential` (§4.13.1).
    EnvelopedCredential,
    /// An `EnvelopedVerifiablePresentation` (§4.13.2).
    EnvelopedPresentation,
}

impl DocumentKind {
    /// The base type that makes a document this kind.
    pub fn base_type(self) -> &'static str {
        match self {
            DocumentKind::Credential => "VerifiableCredential",
            DocumentKind::Presentation => "VerifiablePresentation",
            DocumentKind::EnvelopedCredential => "EnvelopedVerifiableCredential",
            DocumentKind::EnvelopedPresentation => "EnvelopedVerifiablePresentation",
        }
    }
}

/// Checks `document` against every structural rule of VCDM 2.0 as what its `type` says it is
/// (a presentation if it includes `VerifiablePresentation`, an enveloped credential or
/// presentation, else a credential). The rules that need JSON-LD ([`Rule::needs_json_ld`])
/// are not checked here.
pub fn validate_document(document: &Value) -> Result<DocumentKind, Violation> {
    check::document(document)
}

/// A verifiable credential (without its proof's semantics: proofs live in `properties`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// JSON-LD contexts; the first is [`CONTEXT_V2`].
    #[serde(rename = "@context")]
    pub context: OneOrMany<Value>,
    /// The credential's identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Types; includes `VerifiableCredential`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// The issuer.
    pub issuer: Issuer,
    /// Start of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// End of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// The claims about the subject(s).
    pub credential_subject: OneOrMany<Map<String, Value>>,
    /// Status entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_status: Option<OneOrMany<Value>>,
    /// Everything else: `name`, `description`, `evidence`, `credentialSchema`, `proof`, …
    #[serde(flatten)]
    pub properties: Map<String, Value>,
}

impl Credential {
    /// A credential of `types` (besides `VerifiableCredential`) from `issuer` about `subject`.
    pub fn new(types: &[&str], issuer: Issuer, subject: Map<String, Value>) -> Self {
        let mut all = vec!["VerifiableCredential".to_owned()];
        all.extend(types.iter().map(|t| (*t).to_owned()));
        Credential {
            context: OneOrMany::Many(vec![CONTEXT_V2.into()]),
            id: None,
            types: OneOrMany::Many(all),
            issuer,
            valid_from: None,
            valid_until: None,
            credential_subject: OneOrMany::One(subject),
            credential_status: None,
            properties: Map::new(),
        }
    }

    /// A credential from JSON, once it keeps every structural rule of VCDM 2.0.
    pub fn from_json(value: &Value) -> Result<Self, CredentialError> {
        check::credential_value(value, "")?;
        Credential::from_checked(value).ok_or_else(|| {
            // The checks passed, so every field below has its shape; unreachable.
            Violation::new(Rule::DocumentObject, "").into()
        })
    }

    fn from_checked(value: &Value) -> Option<Self> {
        let mut properties = value.as_object()?.clone();
        let mut take = |name: &str| properties.remove(name);
        let context = OneOrMany::from_value(&take("@context")?);
        let id = take("id").and_then(|v| v.as_str().map(str::to_owned));
        let types = strings(take("type")?)?;
        let issuer = Party::from_checked(&take("issuer")?)?;
        let valid_from = take("validFrom").and_then(|v| v.as_str().map(str::to_owned));
        let valid_until = take("validUntil").and_then(|v| v.as_str().map(str::to_owned));
        let credential_subject = match take("credentialSubject")? {
            Value::Array(items) => OneOrMany::Many(
                items
                    .into_iter()
                    .map(|s| match s {
                        Value::Object(subject) => Some(subject),
                        _ => None,
                    })
                    .collect::<Option<_>>()?,
            ),
            Value::Object(subject) => OneOrMany::One(subject),
            _ => return None,
        };
        let credential_status = take("credentialStatus").map(|v| OneOrMany::from_value(&v));
        Some(Credential {
            context,
            id,
            types,
            issuer,
            valid_from,
            valid_until,
            credential_subject,
            credential_status,
            properties,
        })
    }

    /// The VCDM view of a verified SD-JWT VC, typed `vcdm_type`.
    pub fn from_sd_jwt_vc(verified: &VerifiedSdJwtVc, vcdm_type: &str) -> Self {
        let mut subject = verified.claims.clone();
        if let Some(key) = &verified.holder_key {
            subject.insert("id".into(), crate::Did::jwk(key).to_string().into());
        }
        let mut credential =
            Credential::new(&[vcdm_type], Issuer::Id(verified.issuer.clone()), subject);
        credential.valid_from = verified
            .valid_from
            .or(verified.issued_at)
            .and_then(format_datetime);
        credential.valid_until = verified.valid_until.and_then(format_datetime);
        credential
    }

    /// Checks every structural rule of VCDM 2.0 (those that need no JSON-LD processing).
    pub fn validate(&self) -> Result<(), CredentialError> {
        Ok(check::credential_value(&to_json(self), "")?)
    }

    /// Checks the validity period at `now`.
    pub fn check_validity(&self, now: i64) -> Result<(), CredentialError> {
        if let (Some(from), Some(text)) = (self.valid_from_unix()?, &self.valid_from)
            && now < from
        {
            return Err(CredentialError::NotYetValid {
                valid_from: text.clone(),
            });
        }
        if let (Some(until), Some(text)) = (self.valid_until_unix()?, &self.valid_until)
            && now >= until
        {
            return Err(CredentialError::Expired {
                valid_until: text.clone(),
            });
        }
        Ok(())
    }

    /// `validFrom` as Unix seconds.
    pub fn valid_from_unix(&self) -> Result<Option<i64>, CredentialError> {
        parse_optional(
            self.valid_from.as_deref(),
            "/validFrom",
            Rule::ValidFromDateTime,
        )
    }

    /// `validUntil` as Unix seconds.
    pub fn valid_until_unix(&self) -> Result<Option<i64>, CredentialError> {
        parse_optional(
            self.valid_until.as_deref(),
            "/validUntil",
            Rule::ValidUntilDateTime,
        )
    }
}

/// A verifiable presentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presentation {
    /// JSON-LD contexts; the first is [`CONTEXT_V2`].
    #[serde(rename = "@context")]
    pub context: OneOrMany<Value>,
    /// The presentation's identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Types; includes `VerifiablePresentation`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// The holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<Holder>,
    /// The credentials presented (embedded or enveloped); never an empty array.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub verifiable_credential: OneOrMany<Value>,
    /// Everything else, including `proof`.
    #[serde(flatten)]
    pub properties: Map<String, Value>,
}

impl Presentation {
    /// A presentation by `holder` (a URL) of `credentials`.
    pub fn new(holder: Option<String>, credentials: Vec<Value>) -> Self {
        Presentation {
            context: OneOrMany::Many(vec![CONTEXT_V2.into()]),
            id: None,
            types: OneOrMany::One("VerifiablePresentation".into()),
            holder: holder.map(Holder::Id),
            verifiable_credential: OneOrMany::Many(credentials),
            properties: Map::new(),
        }
    }

    /// A presentation from JSON, once it keeps every structural rule of VCDM 2.0 (including
    /// those of each credential it presents).
    pub fn from_json(value: &Value) -> Result<Self, CredentialError> {
        check::presentation_value(value, "")?;
        Presentation::from_checked(value).ok_or_else(|| {
            // The checks passed, so every field below has its shape; unreachable.
            Violation::new(Rule::DocumentObject, "").into()
        })
    }

    fn from_checked(value: &Value) -> Option<Self> {
        let mut properties = value.as_object()?.clone();
        let mut take = |name: &str| properties.remove(name);
        let context = OneOrMany::from_value(&take("@context")?);
        let id = take("id").and_then(|v| v.as_str().map(str::to_owned));
        let types = strings(take("type")?)?;
        let holder = match take("holder") {
            Some(value) => Some(Party::from_checked(&value)?),
            None => None,
        };
        let verifiable_credential = take("verifiableCredential")
            .map(|v| OneOrMany::from_value(&v))
            .unwrap_or_default();
        Some(Presentation {
            context,
            id,
            types,
            holder,
            verifiable_credential,
            properties,
        })
    }

    /// An `EnvelopedVerifiableCredential` carrying an SD-JWT VC (VCDM 2.0 §4.13.1).
    pub fn envelope_sd_jwt(sd_jwt: &str) -> Value {
        serde_json::json!({
            "@context": CONTEXT_V2,
            "id": format!("data:application/{},{sd_jwt}", crate::sd_jwt::vc::TYP),
            "type": "EnvelopedVerifiableCredential",
        })
    }

    /// Checks every structural rule of VCDM 2.0 (those that need no JSON-LD processing).
    pub fn validate(&self) -> Result<(), CredentialError> {
        Ok(check::presentation_value(&to_json(self), "")?)
    }
}

/// The JSON form of a credential or presentation.
fn to_json(value: &impl Serialize) -> Value {
    // Both types hold only strings, JSON values and maps with string keys, which always
    // serialize; `Null` would fail the checks rather than pass them.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn parse_optional(
    text: Option<&str>,
    pointer: &str,
    rule: Rule,
) -> Result<Option<i64>, CredentialError> {
    text.map(|t| parse_datetime(t).ok_or_else(|| Violation::new(rule, pointer).into()))
        .transpose()
}

/// Parses an XML Schema 1.1 `dateTimeStamp` (VCDM 2.0 §4.9) into Unix seconds.
pub fn parse_datetime(text: &str) -> Option<i64> {
    parse_date_time_stamp(text).map(|(seconds, _)| seconds)
}

/// Formats Unix seconds as an RFC 3339 UTC date-time (`2026-11-23T09:00:00Z`), which is also
/// a `dateTimeStamp`.
pub fn format_datetime(unix: i64) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// A string or an array of strings (`type`), as checked before.
fn strings(value: Value) -> Option<OneOrMany<String>> {
    Some(match value {
        Value::Array(items) => OneOrMany::Many(
            items
                .iter()
                .map(|t| t.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
        ),
        single => OneOrMany::One(single.as_str()?.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example() -> Value {
        json!({
            "@context": [CONTEXT_V2, "https://www.w3.org/ns/credentials/examples/v2"],
            "id": "http://university.example/credentials/3732",
            "type": ["VerifiableCredential", "ExampleDegreeCredential"],
            "issuer": {"id": "https://university.example/issuers/565049", "name": "Example University"},
            "validFrom": "2010-01-01T00:00:00Z",
            "validUntil": "2030-01-01T00:00:00Z",
            "credentialSubject": {
                "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
                "degree": {"type": "ExampleBachelorDegree", "name": "Bachelor of Science and Arts"}
            },
            "evidence": [{"type": ["Evidence"]}]
        })
    }

    fn rule_of(value: Value) -> Option<Rule> {
        Credential::from_json(&value).err().and_then(|e| e.rule())
    }

    #[test]
    fn parses_validates_and_round_trips() {
        let credential = Credential::from_json(&example()).unwrap();
        credential.validate().unwrap();
        assert_eq!(
            credential.issuer.id(),
            "https://university.example/issuers/565049"
        );
        assert!(credential.properties.contains_key("evidence"));
        assert_eq!(serde_json::to_value(&credential).unwrap(), example());
        let serde: Credential = serde_json::from_value(example()).unwrap();
        assert_eq!(serde, credential);
        assert_eq!(format_datetime(0).unwrap(), "1970-01-01T00:00:00Z");
        let y2020 = parse_datetime("2020-01-01T00:00:00Z").unwrap();
        credential.check_validity(y2020).unwrap();
        assert!(matches!(
            credential.check_validity(parse_datetime("2031-01-01T00:00:00Z").unwrap()),
            Err(CredentialError::Expired { .. })
        ));
        assert!(matches!(
            credential.check_validity(0),
            Err(CredentialError::NotYetValid { .. })
        ));
    }

    #[test]
    fn structural_errors_name_their_rule_and_place() {
        let mut v = example();
        v["@context"] = json!(["https://www.w3.org/2018/credentials/v1"]);
        assert_eq!(rule_of(v), Some(Rule::ContextBaseFirst));

        let mut v = example();
        v["type"] = json!("ExampleDegreeCredential");
        assert_eq!(rule_of(v), Some(Rule::TypeBase));

        let mut v = example();
        v["validFrom"] = json!("yesterday");
        let err = Credential::from_json(&v).unwrap_err();
        assert_eq!(
            err,
            CredentialError::Invalid(Violation::new(Rule::ValidFromDateTime, "/validFrom"))
        );
        assert_eq!(
            err.to_string(),
            "vcdm2.valid-from-datetime at /validFrom: validFrom must be an XML Schema dateTimeStamp."
        );

        let mut v = example();
        v["validFrom"] = json!("2040-01-01T00:00:00Z");
        assert_eq!(rule_of(v), Some(Rule::ValidityOrder));

        let mut v = example();
        v["credentialSubject"] = json!([]);
        assert_eq!(rule_of(v), Some(Rule::CredentialSubjectNonEmpty));

        let mut v = example();
        v["credentialSubject"] = json!([{"id": "did:example:1"}, {}]);
        let err = Credential::from_json(&v).unwrap_err();
        assert_eq!(
            err,
            CredentialError::Invalid(Violation::new(
                Rule::CredentialSubjectNonEmpty,
                "/credentialSubject/1"
            ))
        );

        let mut v = example();
        v["credentialSubject"]["degree"]["id"] = json!(["https://a.example", "https://b.example"]);
        let err = Credential::from_json(&v).unwrap_err();
        assert_eq!(
            err,
            CredentialError::Invalid(Violation::new(
                Rule::IdSingle,
                "/credentialSubject/degree/id"
            ))
        );

        // The typed value is checked by the same rules.
        let mut credential = Credential::from_json(&example()).unwrap();
        credential.credential_subject = OneOrMany::One(Map::new());
        assert_eq!(
            credential.validate().unwrap_err().rule(),
            Some(Rule::CredentialSubjectNonEmpty)
        );
    }

    #[test]
    fn rule_ids_are_unique_and_round_trip() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        for rule in Rule::ALL {
            assert_eq!(Rule::from_id(rule.id()), Some(rule));
            assert!(rule.id().starts_with("vcdm2."));
            assert!(!rule.message_en().is_empty() && !rule.message_ko().is_empty());
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
    }

    #[test]
    fn presentations_envelope_sd_jwts_and_take_holder_objects() {
        let vp = Presentation::new(
            Some("did:example:holder".into()),
            vec![Presentation::envelope_sd_jwt("a.b.c~")],
        );
        vp.validate().unwrap();
        let json = serde_json::to_value(&vp).unwrap();
        assert_eq!(
            json["verifiableCredential"][0]["id"],
            "data:application/dc+sd-jwt,a.b.c~"
        );
        assert_eq!(validate_document(&json), Ok(DocumentKind::Presentation));
        assert_eq!(
            validate_document(&json["verifiableCredential"][0]),
            Ok(DocumentKind::EnvelopedCredential)
        );

        let mut json = json;
        json["holder"] = json!({"id": "did:example:holder", "name": "Holder"});
        let parsed = Presentation::from_json(&json).unwrap();
        assert_eq!(
            parsed.holder.as_ref().map(Party::id),
            Some("did:example:holder")
        );
        assert_eq!(serde_json::to_value(&parsed).unwrap(), json);

        // Nothing presented is no `verifiableCredential` at all, not an empty array.
        let empty = serde_json::to_value(Presentation::new(None, vec![])).unwrap();
        assert!(empty.get("verifiableCredential").is_none());
        Presentation::from_json(&empty).unwrap();
    }
}
