//! Making the certificates ISO 18013-5 Annex B profiles: an issuing authority's root (IACA,
//! Table B.1) and a document signer's (Table B.3), with x509-cert's typed extensions — no
//! ASN.1 by hand. The keys sign through dojang's [`Signer`], so a key in an HSM signs a
//! certificate the same way it signs a credential.

use std::str::FromStr as _;
use std::time::{Duration, SystemTime};

use dojang_core::key::{Algorithm, PublicKey, Signer};
use p256::ecdsa::signature::{self, Keypair};
use p256::pkcs8::EncodePublicKey as _;
use x509_cert::builder::{Builder as _, CertificateBuilder, Profile};
use x509_cert::der::asn1::{Ia5String, ObjectIdentifier};
use x509_cert::der::referenced::OwnedToRef as _;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage,
    IssuerAltName, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, SubjectPublicKeyInfoOwned,
};
use x509_cert::time::{Time, Validity};

use crate::MdocError;

/// The mdoc document-signer extended key usage (ISO 18013-5 Annex B).
const DOCUMENT_SIGNER_EKU: &str = "1.0.18013.5.1.2";
/// ecdsa-with-SHA256.
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";

/// Who an authority is, as its certificates name it.
#[derive(Debug, Clone)]
pub struct Authority<'a> {
    /// Its common name (`Ministry of the Interior and Safety IACA`).
    pub common_name: &'a str,
    /// Its country (ISO 3166 alpha-2): `KR`.
    pub country: &'a str,
    /// A URL about it (the issuer alternative name ISO requires).
    pub url: &'a str,
    /// Where its certificate revocation list is published.
    pub crl_url: &'a str,
}

/// An IACA root certificate (DER) for `authority`, self-signed by `key`, valid from
/// `not_before` for `days`.
pub fn iaca_certificate(
    authority: &Authority<'_>,
    key: &dyn Signer,
    not_before: i64,
    days: u32,
) -> Result<Vec<u8>, MdocError> {
    let signer = CoreSigner::new(key)?;
    let subject = name(authority.common_name, authority.country)?;
    let spki = spki(key.public_key())?;
    let mut builder = CertificateBuilder::new(
        Profile::Manual { issuer: None },
        serial()?,
        validity(not_before, days)?,
        subject,
        spki.clone(),
        &signer,
    )
    .map_err(|_| MdocError::Malformed("cannot start the certificate"))?;
    add(
        &mut builder,
        &SubjectKeyIdentifier::try_from(spki.owned_to_ref()).map_err(build)?,
    )?;
    add(
        &mut builder,
        &BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        },
    )?;
    add(
        &mut builder,
        &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
    )?;
    add_names(&mut builder, authority)?;
    finish(builder)
}

/// Who a document signer's certificate is for.
#[derive(Debug, Clone)]
pub struct DocumentSigner<'a> {
    /// Its common name, in the authority's country.
    pub common_name: &'a str,
    /// The issuer's identifier (its DID), carried as a URI subject alternative name: an SD-JWT
    /// VC verifier matches it with the credential's `iss` when it finds the key through `x5c`.
    pub uri: Option<&'a str>,
    /// The key it certifies (P-256).
    pub key: &'a PublicKey,
    /// Valid from (Unix seconds).
    pub not_before: i64,
    /// For how many days (ISO allows at most 457).
    pub days: u32,
}

/// A document signer's certificate (DER) for `subject`, issued by `authority` (its IACA
/// `iaca_der`, its key `iaca_key`).
pub fn document_signer_certificate(
    authority: &Authority<'_>,
    iaca_der: &[u8],
    iaca_key: &dyn Signer,
    subject: &DocumentSigner<'_>,
) -> Result<Vec<u8>, MdocError> {
    let iaca = x509_cert::Certificate::from_der(iaca_der)
        .map_err(|_| MdocError::Malformed("the IACA certificate is not X.509"))?;
    let signer = CoreSigner::new(iaca_key)?;
    let spki = spki(subject.key)?;
    let mut builder = CertificateBuilder::new(
        Profile::Manual {
            issuer: Some(iaca.tbs_certificate.subject.clone()),
        },
        serial()?,
        validity(subject.not_before, subject.days.min(457))?,
        name(subject.common_name, authority.country)?,
        spki.clone(),
        &signer,
    )
    .map_err(|_| MdocError::Malformed("cannot start the certificate"))?;
    add(
        &mut builder,
        &AuthorityKeyIdentifier::try_from(
            iaca.tbs_certificate.subject_public_key_info.owned_to_ref(),
        )
        .map_err(build)?,
    )?;
    add(
        &mut builder,
        &SubjectKeyIdentifier::try_from(spki.owned_to_ref()).map_err(build)?,
    )?;
    add(&mut builder, &KeyUsage(KeyUsages::DigitalSignature.into()))?;
    let eku = ObjectIdentifier::new(DOCUMENT_SIGNER_EKU).map_err(build)?;
    add(&mut builder, &ExtendedKeyUsage(vec![eku]))?;
    if let Some(uri) = subject.uri {
        add(
            &mut builder,
            &SubjectAltName(vec![GeneralName::UniformResourceIdentifier(
                Ia5String::new(uri).map_err(build)?,
            )]),
        )?;
    }
    add_names(&mut builder, authority)?;
    finish(builder)
}

/// The issuer alternative name and the CRL distribution point both profiles carry.
fn add_names(
    builder: &mut CertificateBuilder<'_, CoreSigner<'_>>,
    authority: &Authority<'_>,
) -> Result<(), MdocError> {
    let uri = |text: &str| {
        Ia5String::new(text)
            .map(GeneralName::UniformResourceIdentifier)
            .map_err(build)
    };
    add(builder, &IssuerAltName(vec![uri(authority.url)?]))?;
    add(
        builder,
        &CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![uri(
                authority.crl_url
            )?])),
            reasons: None,
            crl_issuer: None,
        }]),
    )
}

fn add<E: x509_cert::ext::AsExtension>(
    builder: &mut CertificateBuilder<'_, CoreSigner<'_>>,
    extension: &E,
) -> Result<(), MdocError> {
    builder.add_extension(extension).map_err(build)
}

fn finish(builder: CertificateBuilder<'_, CoreSigner<'_>>) -> Result<Vec<u8>, MdocError> {
    builder
        .build::<p256::ecdsa::DerSignature>()
        .map_err(build)?
        .to_der()
        .map_err(build)
}

fn build<E>(_: E) -> MdocError {
    MdocError::Malformed("cannot build the certificate")
}

fn name(common_name: &str, country: &str) -> Result<Name, MdocError> {
    if common_name.contains([',', '+', '=', '\\', '"']) || country.len() != 2 {
        return Err(MdocError::Malformed(
            "a certificate name needs a plain CN and a two-letter country",
        ));
    }
    Name::from_str(&format!("CN={common_name},C={country}")).map_err(build)
}

fn spki(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, MdocError> {
    let der = verifying_key(key)?.to_public_key_der().map_err(build)?;
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(build)
}

fn verifying_key(key: &PublicKey) -> Result<p256::PublicKey, MdocError> {
    if key.algorithm() != Algorithm::Es256 {
        return Err(MdocError::UnsupportedAlgorithm(
            "certificate keys are P-256",
        ));
    }
    p256::PublicKey::from_sec1_bytes(key.as_bytes()).map_err(build)
}

/// A random positive serial of 16 bytes (ISO: at least 63 bits of randomness, at most 20 octets).
fn serial() -> Result<SerialNumber, MdocError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(build)?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::new(&bytes).map_err(build)
}

fn validity(not_before: i64, days: u32) -> Result<Validity, MdocError> {
    let start = u64::try_from(not_before).map_err(build)?;
    let from = SystemTime::UNIX_EPOCH + Duration::from_secs(start);
    let until = from + Duration::from_secs(u64::from(days) * 86_400);
    Ok(Validity {
        not_before: Time::try_from(from).map_err(build)?,
        not_after: Time::try_from(until).map_err(build)?,
    })
}

/// dojang's [`Signer`] as the RustCrypto signer x509-cert asks for: ECDSA P-256 with SHA-256,
/// signatures DER-encoded as X.509 carries them.
struct CoreSigner<'a> {
    key: &'a dyn Signer,
    verifying: p256::PublicKey,
}

impl<'a> CoreSigner<'a> {
    fn new(key: &'a dyn Signer) -> Result<Self, MdocError> {
        Ok(CoreSigner {
            key,
            verifying: verifying_key(key.public_key())?,
        })
    }
}

impl Keypair for CoreSigner<'_> {
    type VerifyingKey = p256::PublicKey;

    fn verifying_key(&self) -> Self::VerifyingKey {
        self.verifying
    }
}

impl DynSignatureAlgorithmIdentifier for CoreSigner<'_> {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap(ECDSA_WITH_SHA256),
            parameters: None,
        })
    }
}

impl signature::Signer<p256::ecdsa::DerSignature> for CoreSigner<'_> {
    fn try_sign(&self, message: &[u8]) -> Result<p256::ecdsa::DerSignature, signature::Error> {
        let fixed = self
            .key
            .sign(message)
            .map_err(signature::Error::from_source)?;
        let signature =
            p256::ecdsa::Signature::from_slice(&fixed).map_err(signature::Error::from_source)?;
        Ok(signature.to_der())
    }
}
