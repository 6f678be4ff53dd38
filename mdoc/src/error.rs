//! Why an mdoc was refused, with the verdict's reason code for each.

use dojang_core::ReasonCode;

/// Why an mdoc structure was refused. The detail never quotes the presented values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MdocError {
    /// Not the structure ISO 18013-5 defines (or larger than [`crate::MAX_INPUT_LEN`]).
    #[error("malformed mdoc: {0}")]
    Malformed(&'static str),
    /// A COSE algorithm or digest algorithm that is not supported.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(&'static str),
    /// The issuer's signature (issuerAuth) does not verify.
    #[error("the issuer's signature does not verify")]
    IssuerSignatureInvalid,
    /// The signer's certificate does not chain to a trusted root, or is not a document signer.
    #[error("the document signer is not trusted: {0}")]
    UntrustedSigner(&'static str),
    /// The signer's certificate was not valid when the MSO was signed.
    #[error("the document signer's certificate was not valid at signing")]
    SignerNotValidAtSigning,
    /// A disclosed item does not match its digest in the MSO (altered, or not the issuer's).
    #[error("a disclosed item does not match the issuer's digest")]
    DigestMismatch,
    /// The MSO is past its `validUntil`.
    #[error("the mdoc has expired")]
    Expired,
    /// The MSO's `validFrom` is still ahead.
    #[error("the mdoc is not valid yet")]
    NotYetValid,
    /// The device's signature or MAC over the session transcript does not verify.
    #[error("the device authentication does not verify")]
    DeviceAuthInvalid,
    /// The signer (an issuer's key, perhaps in an HSM) could not sign: making, not reading.
    #[error("the key could not sign")]
    SignerFailed,
    /// A document of another type than the MSO signs.
    #[error("the document's type differs from the MSO's")]
    DocTypeMismatch,
}

impl MdocError {
    /// The verdict's reason code for it.
    pub fn reason(&self) -> ReasonCode {
        match self {
            MdocError::Malformed(_) | MdocError::SignerFailed => ReasonCode::MalformedCredential,
            MdocError::UnsupportedAlgorithm(_) => ReasonCode::UnsupportedAlgorithm,
            MdocError::IssuerSignatureInvalid | MdocError::DocTypeMismatch => {
                ReasonCode::SignatureInvalid
            }
            MdocError::UntrustedSigner(_) => ReasonCode::IssuerUnknown,
            MdocError::SignerNotValidAtSigning => ReasonCode::KeyNotValidAtIssuance,
            MdocError::DigestMismatch => ReasonCode::DisclosureInvalid,
            MdocError::Expired => ReasonCode::Expired,
            MdocError::NotYetValid => ReasonCode::NotYetValid,
            MdocError::DeviceAuthInvalid => ReasonCode::HolderBindingInvalid,
        }
    }
}

impl From<minicbor::decode::Error> for MdocError {
    fn from(_: minicbor::decode::Error) -> Self {
        MdocError::Malformed("not well-formed CBOR")
    }
}
