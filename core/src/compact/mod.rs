//! The compact offline credential and its QR presentation (`docs/qr-profile.md`).
//!
//! An issuer signs a *compact credential* in the style of SD-CWT (`draft-ietf-spice-sd-cwt`): a
//! COSE_Sign1 (RFC 9052) over a CWT claims set (RFC 8392) in which every selectively
//! disclosable claim is replaced by the SHA-256 digest of a *salted disclosure*
//! `[salt, value, name]`; the disclosures travel beside it in the unprotected header
//! (`sd_claims`), so leaving one out conceals its claim without touching the signature.
//!
//! The holder presents it as a *key binding token*: a COSE_Sign1 signed with the key in the
//! credential's `cnf`, whose protected header carries the credential with only the chosen
//! disclosures (`kcwt`) and whose payload says when it was made (`iat`, time-window mode) and,
//! in challenge mode, for which verifier (`aud`) and challenge (`cnonce`). One holder signature
//! thus covers the credential, the disclosed set, the time or challenge and the audience.
//!
//! For a QR code the presentation's bytes are base45-encoded (RFC 9285) behind the prefix
//! [`QR_PREFIX`], so the code can use the alphanumeric mode at ECC level Q.
//!
//! - [`issue`] turns a credential draft into the compact credential's bytes.
//! - [`HeldCompact`] is the holder's view: claims, disclosable names, and
//!   [`HeldCompact::present`].
//! - [`verify`] checks a presentation: algorithms, issuer signature with the key the
//!   [`IssuerKeyResolver`] names as valid at issuance, disclosures, validity period, and the
//!   holder binding against the verifier's expectations.

mod cbor;
#[cfg(feature = "forge")]
pub mod forge;
mod issue;
mod present;
mod token;
mod verify;

pub use issue::issue;
pub use present::{Binding, Challenge, HeldCompact};
pub use verify::{Signatures, VerifiedCompact, VerifyOptions, signatures, verify};

use crate::key::{KeyError, SignError};
use crate::sd_jwt::IssuerKeyError;

/// The OpenID4VCI `format` identifier of the compact credential.
pub const FORMAT: &str = "dojang-qr";
/// What a QR text starts with: the profile and its version.
pub const QR_PREFIX: &str = "DJ1:";
/// Largest presentation accepted, in bytes (a version-40 QR at ECC Q holds 1,663).
pub const MAX_PRESENTATION_LEN: usize = 2048;
/// Largest issued credential accepted, in bytes.
pub const MAX_CREDENTIAL_LEN: usize = 8192;
/// Most disclosures in one credential.
pub const MAX_DISCLOSURES: usize = 64;
/// Salt length of a disclosure, in bytes.
pub const SALT_LEN: usize = 16;
/// Length of a disclosure digest: SHA-256 truncated to 128 bits. Forging a disclosure that
/// matches a signed digest is a second-preimage search (2^128 work); collisions (2^64) would
/// only help the issuer, who signs what it likes anyway. The 16 bytes saved per claim keep a
/// citizen card's QR code at version 27.
pub const DIGEST_LEN: usize = 16;

/// Content format of the credential (`application/sd-cwt`), in its protected `typ`.
pub(crate) const TYP_CREDENTIAL: u64 = 293;
/// Content format of the presentation (`application/kb+cwt`), in its protected `typ`.
pub(crate) const TYP_PRESENTATION: u64 = 294;

/// Why a compact credential could not be issued, presented or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompactError {
    /// The input is larger than the limit.
    #[error("input is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The text does not start with a dojang QR prefix.
    #[error("not a dojang QR code (it does not start with `{QR_PREFIX}`)")]
    UnknownPrefix,
    /// A dojang QR prefix of a version this code does not know.
    #[error("QR profile version `{prefix}` is not supported (this verifier reads `{QR_PREFIX}`)")]
    UnsupportedVersion {
        /// The prefix found.
        prefix: String,
    },
    /// The QR text is not valid base45.
    #[error("the QR text is not valid base45")]
    Base45,
    /// The bytes are not the expected CBOR/COSE structure.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which structure.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A protected `typ` other than the one expected.
    #[error("expected a {expected}, found content format {found:?}")]
    UnexpectedType {
        /// What was expected.
        expected: &'static str,
        /// The `typ` found.
        found: Option<u64>,
    },
    /// A COSE algorithm dojang does not accept.
    #[error("COSE algorithm {alg:?} is not accepted (ES256 -7 and EdDSA -8 are)")]
    UnsupportedAlgorithm {
        /// The `alg` found.
        alg: Option<i64>,
    },
    /// The issuer's key cannot be found or was not valid at issuance.
    #[error(transparent)]
    IssuerKey(#[from] IssuerKeyError),
    /// The header's algorithm is not the key's.
    #[error("the credential says {alg} but the key is {key}")]
    AlgorithmMismatch {
        /// Declared algorithm.
        alg: crate::Algorithm,
        /// The key's algorithm.
        key: crate::Algorithm,
    },
    /// The issuer's signature does not verify.
    #[error("the issuer's signature does not verify")]
    SignatureInvalid,
    /// A required claim is missing.
    #[error("the credential has no `{claim}` claim")]
    MissingClaim {
        /// The claim.
        claim: &'static str,
    },
    /// A claim has the wrong type or value.
    #[error("invalid `{claim}` claim: {reason}")]
    InvalidClaim {
        /// The claim.
        claim: String,
        /// What is wrong.
        reason: String,
    },
    /// A disclosure is tampered, unreferenced, duplicated or collides with a visible claim.
    #[error("invalid disclosure: {reason}")]
    Disclosure {
        /// What is wrong.
        reason: String,
    },
    /// The credential's validity period has ended.
    #[error("the credential expired at {exp}")]
    Expired {
        /// Its `exp`.
        exp: i64,
    },
    /// The credential's validity period has not begun.
    #[error("the credential is not valid before {nbf}")]
    NotYetValid {
        /// Its `nbf`.
        nbf: i64,
    },
    /// The credential's holder key (`cnf`) is unusable.
    #[error("the credential's holder key is unusable: {0}")]
    HolderKey(#[from] KeyError),
    /// The holder binding is not signed by the credential's holder key.
    #[error("the holder binding is not signed by the credential's holder key")]
    HolderSignatureInvalid,
    /// The holder binding was made outside the accepted window.
    #[error("the holder binding was made at {at}, outside the accepted window around {now}")]
    BindingExpired {
        /// Its `iat`.
        at: i64,
        /// The verification time.
        now: i64,
    },
    /// The holder binding answers another challenge.
    #[error("the holder binding answers another challenge")]
    ChallengeMismatch,
    /// The holder binding is for another verifier.
    #[error("the holder binding is for another verifier")]
    AudienceMismatch,
    /// The holder asked to disclose a claim the credential cannot disclose.
    #[error("the credential has no disclosable claim `{name}`")]
    NotDisclosable {
        /// The claim name.
        name: String,
    },
    /// The signer presenting is not the credential's holder key.
    #[error("the presenting key is not the key the credential is bound to")]
    NotTheHolder,
    /// The credential draft cannot be expressed in the compact profile.
    #[error("cannot issue a compact credential: {reason}")]
    Unissuable {
        /// Why.
        reason: String,
    },
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl CompactError {
    pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Self {
        CompactError::Malformed {
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn disclosure(reason: impl ToString) -> Self {
        CompactError::Disclosure {
            reason: reason.to_string(),
        }
    }
}

/// What a verifier's challenge QR code starts with.
pub const CHALLENGE_PREFIX: &str = "DJC1:";

/// A verifier's challenge, shown as a QR code for the wallet to scan in challenge mode: who the
/// verifier is and a fresh nonce. The text is [`CHALLENGE_PREFIX`] and base45 of the CBOR map
/// `{3: audience, 39: nonce}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRequest {
    /// The verifier's identifier.
    pub audience: String,
    /// The nonce, 8 to 64 bytes.
    pub nonce: Vec<u8>,
}

impl ChallengeRequest {
    /// A challenge from `audience` with 16 fresh random bytes.
    pub fn new(audience: &str) -> Result<Self, CompactError> {
        let mut nonce = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| CompactError::Unissuable {
            reason: "the random generator failed".into(),
        })?;
        Ok(ChallengeRequest {
            audience: audience.to_owned(),
            nonce,
        })
    }

    /// The binding a presentation answering it carries.
    pub fn challenge(&self) -> Challenge<'_> {
        Challenge {
            audience: &self.audience,
            nonce: &self.nonce,
        }
    }

    /// Its QR text.
    pub fn to_qr_text(&self) -> String {
        let map = cbor::Value::Map(vec![
            (
                cbor::Value::int(token::AUD),
                cbor::Value::Text(&self.audience),
            ),
            (
                cbor::Value::int(token::CNONCE),
                cbor::Value::Bytes(&self.nonce),
            ),
        ]);
        format!("{CHALLENGE_PREFIX}{}", base45::encode(map.encode()))
    }

    /// Reads a challenge QR text.
    pub fn from_qr_text(text: &str) -> Result<Self, CompactError> {
        let text = text.trim();
        if text.len() > 512 {
            return Err(CompactError::TooLarge {
                len: text.len(),
                max: 512,
            });
        }
        let body = text
            .strip_prefix(CHALLENGE_PREFIX)
            .ok_or(CompactError::UnknownPrefix)?;
        let bytes = base45::decode(body).map_err(|_| CompactError::Base45)?;
        let map = cbor::read(&bytes).map_err(|e| CompactError::malformed("challenge", e))?;
        let audience = map
            .get(&cbor::Value::int(token::AUD))
            .and_then(cbor::Item::as_text);
        let nonce = map
            .get(&cbor::Value::int(token::CNONCE))
            .and_then(cbor::Item::as_bytes);
        match (audience, nonce) {
            (Some(audience), Some(nonce))
                if !audience.is_empty() && (8..=64).contains(&nonce.len()) =>
            {
                Ok(ChallengeRequest {
                    audience: audience.to_owned(),
                    nonce: nonce.to_vec(),
                })
            }
            _ => Err(CompactError::malformed(
                "challenge",
                "expected {3: audience, 39: nonce of 8 to 64 bytes}",
            )),
        }
    }
}

/// The QR text of a presentation: [`QR_PREFIX`] followed by base45.
pub fn to_qr_text(presentation: &[u8]) -> String {
    format!("{QR_PREFIX}{}", base45::encode(presentation))
}

/// The presentation bytes of a QR text, bounded before decoding. Leading and trailing
/// whitespace (scanners add newlines) is ignored.
pub fn from_qr_text(text: &str) -> Result<Vec<u8>, CompactError> {
    let text = text.trim();
    // base45 turns 2 bytes into 3 characters.
    let max = QR_PREFIX.len() + MAX_PRESENTATION_LEN.div_ceil(2) * 3;
    if text.len() > max {
        return Err(CompactError::TooLarge {
            len: text.len(),
            max,
        });
    }
    let Some(body) = text.strip_prefix(QR_PREFIX) else {
        // `DJ2:` and the like: ours, but a version this code does not read.
        let prefix = text.split(':').next().unwrap_or_default();
        if prefix.len() == 3 && prefix.starts_with("DJ") && text.contains(':') {
            return Err(CompactError::UnsupportedVersion {
                prefix: format!("{prefix}:"),
            });
        }
        return Err(CompactError::UnknownPrefix);
    };
    base45::decode(body).map_err(|_| CompactError::Base45)
}

impl From<&CompactError> for crate::ReasonCode {
    fn from(e: &CompactError) -> Self {
        use crate::ReasonCode as R;
        match e {
            CompactError::TooLarge { .. } => R::TooLarge,
            CompactError::UnknownPrefix
            | CompactError::UnsupportedVersion { .. }
            | CompactError::UnexpectedType { .. } => R::UnsupportedFormat,
            CompactError::Base45 | CompactError::Malformed { .. } => R::MalformedQr,
            CompactError::UnsupportedAlgorithm { .. } | CompactError::AlgorithmMismatch { .. } => {
                R::UnsupportedAlgorithm
            }
            CompactError::IssuerKey(IssuerKeyError::KeyNotValidAtIssuance { .. }) => {
                R::KeyNotValidAtIssuance
            }
            CompactError::IssuerKey(_) => R::IssuerUnknown,
            CompactError::SignatureInvalid => R::SignatureInvalid,
            CompactError::MissingClaim { .. } | CompactError::InvalidClaim { .. } => {
                R::MalformedCredential
            }
            CompactError::Disclosure { .. } => R::DisclosureInvalid,
            CompactError::Expired { .. } => R::Expired,
            CompactError::NotYetValid { .. } => R::NotYetValid,
            CompactError::HolderKey(_) | CompactError::HolderSignatureInvalid => {
                R::HolderBindingInvalid
            }
            CompactError::BindingExpired { .. } => R::BindingExpired,
            CompactError::ChallengeMismatch => R::ChallengeMismatch,
            CompactError::AudienceMismatch => R::AudienceMismatch,
            CompactError::NotDisclosable { .. }
            | CompactError::NotTheHolder
            | CompactError::Unissuable { .. }
            | CompactError::Sign(_) => R::MalformedCredential,
        }
    }
}

#[cfg(test)]
mod tests;
