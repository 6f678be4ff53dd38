//! X.509 as mdoc uses it (ISO 18013-5 Annex B): the document signer's certificate from an
//! `x5chain`, checked under a trusted issuing-authority (IACA) root. Parsed with x509-parser;
//! signatures checked with aws-lc-rs over the certificate's own to-be-signed bytes.

use std::sync::OnceLock;

use aws_lc_rs::signature;
use x509_parser::der_parser::{Oid, oid};
use x509_parser::oid_registry;
use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};

use crate::MdocError;

/// The extended key usage of an mdoc document signer (ISO 18013-5 Annex B).
const MDL_DOCUMENT_SIGNER: Oid<'static> = oid!(1.0.18013.5.1.2);

/// A parsed certificate: what verification needs, and its DER.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    /// The subject, as text.
    pub subject: String,
    /// The subject's public key (an uncompressed SEC1 point for EC keys).
    pub public_key: Vec<u8>,
    /// Not valid before (Unix seconds).
    pub not_before: i64,
    /// Not valid after (Unix seconds).
    pub not_after: i64,
    /// A CA certificate (basic constraints `cA`).
    pub is_ca: bool,
    /// Carries the mdoc document-signer extended key usage.
    pub is_document_signer: bool,
    /// Its URI subject alternative names (a dojang document signer's: the issuer's DID).
    pub uri_names: Vec<String>,
    /// What its issuer signed, and how: kept from the one parse for
    /// [`Certificate::verify_issued_by`].
    signed: Signed,
    /// Its key parsed for the scheme of the first certificate checked against it, kept: a root's
    /// is checked against on every verification (parsing a P-256 point is some 0.8 µs).
    parsed: OnceLock<Option<(Scheme, signature::ParsedPublicKey)>>,
}

/// A certificate's to-be-signed bytes, its signature, and the scheme it names (`None`: not one
/// dojang checks).
#[derive(Debug, Clone)]
struct Signed {
    tbs: Vec<u8>,
    signature: Vec<u8>,
    scheme: Option<Scheme>,
}

/// The certificate signatures dojang checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    EcdsaP256Sha256,
    EcdsaP384Sha384,
}

impl Scheme {
    fn algorithm(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            Scheme::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
            Scheme::EcdsaP384Sha384 => &signature::ECDSA_P384_SHA384_ASN1,
        }
    }
}

impl Certificate {
    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, MdocError> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|_| MdocError::Malformed("not an X.509 certificate"))?;
        if !rest.is_empty() {
            return Err(MdocError::Malformed("bytes after the certificate"));
        }
        let is_ca = cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|bc| bc.value.ca);
        let is_document_signer = cert
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|eku| eku.value.other.contains(&MDL_DOCUMENT_SIGNER));
        let algorithm = &cert.signature_algorithm.algorithm;
        let scheme = if *algorithm == oid_registry::OID_SIG_ECDSA_WITH_SHA256 {
            Some(Scheme::EcdsaP256Sha256)
        } else if *algorithm == oid_registry::OID_SIG_ECDSA_WITH_SHA384 {
            Some(Scheme::EcdsaP384Sha384)
        } else {
            None
        };
        let uri_names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|name| match name {
                        GeneralName::URI(uri) => Some((*uri).to_owned()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Certificate {
            uri_names,
            subject: cert.subject().to_string(),
            public_key: cert.public_key().subject_public_key.data.to_vec(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            is_ca,
            is_document_signer,
            signed: Signed {
                tbs: cert.tbs_certificate.as_ref().to_vec(),
                signature: cert.signature_value.data.to_vec(),
                scheme,
            },
            parsed: OnceLock::new(),
            der: der.to_vec(),
        })
    }

    /// Its DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Whether `issuer`'s key signed this certificate (ECDSA with SHA-256 on P-256, or SHA-384
    /// on P-384).
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<(), MdocError> {
        let Signed {
            tbs,
            signature,
            scheme,
        } = &self.signed;
        let scheme = scheme.ok_or(MdocError::UnsupportedAlgorithm(
            "a certificate signature other than ECDSA",
        ))?;
        let parsed = issuer.parsed.get_or_init(|| {
            signature::ParsedPublicKey::new(scheme.algorithm(), &issuer.public_key)
                .ok()
                .map(|key| (scheme, key))
        });
        match parsed {
            Some((parsed_for, key)) if *parsed_for == scheme => key.verify_sig(tbs, signature),
            _ => signature::UnparsedPublicKey::new(scheme.algorithm(), &issuer.public_key)
                .verify(tbs, signature),
        }
        .map_err(|_| MdocError::UntrustedSigner("the certificate is not signed by the root"))
    }

    /// Whether it was valid at `at` (Unix seconds).
    pub fn valid_at(&self, at: i64) -> bool {
        (self.not_before..=self.not_after).contains(&at)
    }
}
