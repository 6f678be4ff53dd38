//! The W3C Verifiable Credentials Data Model 2.0: [`Credential`] and [`Presentation`].
//!
//! dojang's own credentials travel as SD-JWT VCs and compact QR payloads; this model is the
//! common view of them ([`Credential::from_sd_jwt_vc`]), the shape of W3C status list
//! credentials, and what Data Integrity credentials from other systems (Open Badges 3.0) arrive
//! as. Fields that can be one value or an array keep their shape through [`OneOrMany`], so a
//! parsed document serializes back as it came.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::sd_jwt::vc::VerifiedSdJwtVc;

/// The VCDM 2.0 base context, which must come first.
pub const CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";

/// A JSON value that may be a single item or an array of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single item.
    One(T),
    /// An array.
    Many(Vec<T>),
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

/// The issuer: a URL/DID, or an object with an `id` and more (e.g. `name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Issuer {
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

impl Issuer {
    /// The identifier.
    pub fn id(&self) -> &str {
        match self {
            Issuer::Id(id) | Issuer::Object { id, .. } => id,
        }
    }
}

/// Why a credential is not a valid VCDM 2.0 credential, or not valid now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The first `@context` is not the VCDM 2.0 base context.
    #[error("the first @context must be {CONTEXT_V2}")]
    MissingBaseContext,
    /// `type` lacks the base type.
    #[error("type must include {expected}")]
    MissingType {
        /// `VerifiableCredential` or `VerifiablePresentation`.
        expected: &'static str,
    },
    /// `credentialSubject` is empty.
    #[error("credentialSubject is empty")]
    NoSubject,
    /// A date is not an XML Schema dateTimeStamp.
    #[error("{field} is not a valid date-time")]
    InvalidDate {
        /// The property.
        field: &'static str,
    },
    /// `validFrom` is after `validUntil`.
    #[error("validFrom is after validUntil")]
    ValidityInverted,
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

/// A verifiable credential (without its proof's semantics: proofs live in `properties`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// JSON-LD contexts; the first is [`CONTEXT_V2`].
    #[serde(rename = "@context")]
    pub context: Vec<Value>,
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
            context: vec![CONTEXT_V2.into()],
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

    /// Checks the structural rules of VCDM 2.0.
    pub fn validate(&self) -> Result<(), CredentialError> {
        check_base(&self.context, &self.types, "VerifiableCredential")?;
        if self.credential_subject.is_empty() {
            return Err(CredentialError::NoSubject);
        }
        let from = self.valid_from_unix()?;
        let until = self.valid_until_unix()?;
        if let (Some(from), Some(until)) = (from, until)
            && from > until
        {
            return Err(CredentialError::ValidityInverted);
        }
        Ok(())
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
        parse_optional(self.valid_from.as_deref(), "validFrom")
    }

    /// `validUntil` as Unix seconds.
    pub fn valid_until_unix(&self) -> Result<Option<i64>, CredentialError> {
        parse_optional(self.valid_until.as_deref(), "validUntil")
    }
}

/// A verifiable presentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presentation {
    /// JSON-LD contexts; the first is [`CONTEXT_V2`].
    #[serde(rename = "@context")]
    pub context: Vec<Value>,
    /// The presentation's identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Types; includes `VerifiablePresentation`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// The holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The credentials presented (embedded or enveloped).
    #[serde(default)]
    pub verifiable_credential: Vec<Value>,
    /// Everything else, including `proof`.
    #[serde(flatten)]
    pub properties: Map<String, Value>,
}

impl Presentation {
    /// A presentation by `holder` of `credentials`.
    pub fn new(holder: Option<String>, credentials: Vec<Value>) -> Self {
        Presentation {
            context: vec![CONTEXT_V2.into()],
            id: None,
            types: OneOrMany::One("VerifiablePresentation".into()),
            holder,
            verifiable_credential: credentials,
            properties: Map::new(),
        }
    }

    /// An `EnvelopedVerifiableCredential` carrying an SD-JWT VC (VCDM 2.0 §4.13).
    pub fn envelope_sd_jwt(sd_jwt: &str) -> Value {
        serde_json::json!({
            "@context": CONTEXT_V2,
            "id": format!("data:application/{},{sd_jwt}", crate::sd_jwt::vc::TYP),
            "type": "EnvelopedVerifiableCredential",
        })
    }

    /// Checks the structural rules of VCDM 2.0.
    pub fn validate(&self) -> Result<(), CredentialError> {
        check_base(&self.context, &self.types, "VerifiablePresentation")
    }
}

fn check_base(
    context: &[Value],
    types: &OneOrMany<String>,
    base: &'static str,
) -> Result<(), CredentialError> {
    if context.first().and_then(Value::as_str) != Some(CONTEXT_V2) {
        return Err(CredentialError::MissingBaseContext);
    }
    if !types.iter().any(|t| t == base) {
        return Err(CredentialError::MissingType { expected: base });
    }
    Ok(())
}

fn parse_optional(text: Option<&str>, field: &'static str) -> Result<Option<i64>, CredentialError> {
    text.map(|t| parse_datetime(t).ok_or(CredentialError::InvalidDate { field }))
        .transpose()
}

/// Parses an RFC 3339 / XML Schema dateTimeStamp into Unix seconds.
pub fn parse_datetime(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// Formats Unix seconds as an RFC 3339 UTC date-time (`2026-11-23T09:00:00Z`).
pub fn format_datetime(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&Rfc3339)
        .ok()
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

    #[test]
    fn parses_validates_and_round_trips() {
        let credential: Credential = serde_json::from_value(example()).unwrap();
        credential.validate().unwrap();
        assert_eq!(
            credential.issuer.id(),
            "https://university.example/issuers/565049"
        );
        assert!(credential.properties.contains_key("evidence"));
        assert_eq!(serde_json::to_value(&credential).unwrap(), example());
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
    fn structural_errors() {
        let mut v = example();
        v["@context"] = json!(["https://www.w3.org/2018/credentials/v1"]);
        let c: Credential = serde_json::from_value(v).unwrap();
        assert_eq!(c.validate(), Err(CredentialError::MissingBaseContext));

        let mut v = example();
        v["type"] = json!("ExampleDegreeCredential");
        let c: Credential = serde_json::from_value(v).unwrap();
        assert_eq!(
            c.validate(),
            Err(CredentialError::MissingType {
                expected: "VerifiableCredential"
            })
        );

        let mut v = example();
        v["validFrom"] = json!("yesterday");
        let c: Credential = serde_json::from_value(v).unwrap();
        assert_eq!(
            c.validate(),
            Err(CredentialError::InvalidDate { field: "validFrom" })
        );

        let mut v = example();
        v["validFrom"] = json!("2040-01-01T00:00:00Z");
        let c: Credential = serde_json::from_value(v).unwrap();
        assert_eq!(c.validate(), Err(CredentialError::ValidityInverted));

        let mut v = example();
        v["credentialSubject"] = json!([]);
        let c: Credential = serde_json::from_value(v).unwrap();
        assert_eq!(c.validate(), Err(CredentialError::NoSubject));
    }

    #[test]
    fn presentations_envelope_sd_jwts() {
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
        assert_eq!(format_datetime(0).unwrap(), "1970-01-01T00:00:00Z");
    }
}
