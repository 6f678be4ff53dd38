//! W3C Data Integrity credentials from other systems (being written).

use dojang_core::verdict::ReasonCode;

/// A Data Integrity credential whose proof verified.
#[derive(Debug, Clone)]
pub struct VerifiedDi {
    /// The issuer id.
    pub issuer: String,
    /// The credential's `type` values.
    pub types: Vec<String>,
    /// The proof's cryptosuite.
    pub cryptosuite: String,
    /// The proof's verification method.
    pub verification_method: String,
    /// The credential subject.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// `validFrom` (or `issuanceDate`), as given.
    pub valid_from: Option<String>,
    /// `validUntil` (or `expirationDate`), as given.
    pub valid_until: Option<String>,
}

/// Why a Data Integrity credential was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiError {
    /// Not JSON.
    #[error("not JSON")]
    NotJson,
}

impl DiError {
    /// The verdict's reason code.
    pub fn reason_code(&self) -> ReasonCode {
        ReasonCode::MalformedCredential
    }
}

/// Verifies the proof offline.
pub fn verify(_document: &str) -> Result<VerifiedDi, DiError> {
    Err(DiError::NotJson)
}

/// True if `text` looks like a JSON credential with a Data Integrity proof.
pub fn looks_like_data_integrity(text: &str) -> bool {
    text.trim_start().starts_with('{') && text.contains("\"proof\"")
}

impl VerifiedDi {
    /// The most specific type: the last one that is not `VerifiableCredential`.
    pub fn most_specific_type(&self) -> &str {
        self.types
            .iter()
            .rev()
            .find(|t| *t != "VerifiableCredential")
            .map_or("VerifiableCredential", String::as_str)
    }
}

/// The validity period's verdict at `now`, if it rejects.
pub fn validity(_verified: &VerifiedDi, _now: i64, _leeway: i64) -> Option<(ReasonCode, String)> {
    None
}
