//! IssuerSigned (ISO 18013-5 §8.3.2.1.2.2): the disclosed items and the issuer's signature over
//! their digests.

use aws_lc_rs::digest;

use crate::MdocError;
use crate::cbor::{self, Key};
use crate::cose::CoseSign1;
use crate::mso::MobileSecurityObject;
use crate::x509::Certificate;

/// One IssuerSignedItem as received.
#[derive(Debug, Clone)]
struct Item<'b> {
    namespace: &'b str,
    /// `#6.24(bstr)` exactly as received: what the digest covers.
    raw: &'b [u8],
    digest_id: u64,
    element: &'b str,
    value: &'b [u8],
}

/// An IssuerSigned structure, read but not yet verified.
#[derive(Debug, Clone)]
pub struct IssuerSigned<'b> {
    items: Vec<Item<'b>>,
    issuer_auth: &'b [u8],
}

/// A disclosed element, after its digest was checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DisclosedItem {
    /// Its namespace (`org.iso.18013.5.1`).
    pub namespace: String,
    /// Its element identifier (`family_name`).
    pub element: String,
    /// Its value, as JSON (byte strings base64url, dates as text).
    pub value: serde_json::Value,
}

/// What a verified IssuerSigned establishes.
#[derive(Debug, Clone)]
pub struct VerifiedIssuerSigned {
    /// The MSO the issuer signed.
    pub mso: MobileSecurityObject,
    /// The document signer's certificate.
    pub signer: Certificate,
    /// Every disclosed item, each matching its digest.
    pub items: Vec<DisclosedItem>,
}

impl<'b> IssuerSigned<'b> {
    /// Reads an IssuerSigned map (`nameSpaces` may be absent: nothing disclosed).
    pub fn parse(bytes: &'b [u8]) -> Result<Self, MdocError> {
        if bytes.len() > crate::MAX_INPUT_LEN {
            return Err(MdocError::Malformed("larger than any mdoc"));
        }
        let map = cbor::entries(bytes)?;
        cbor::only(&map, &["nameSpaces", "issuerAuth"])?;
        let issuer_auth =
            cbor::field(&map, "issuerAuth").ok_or(MdocError::Malformed("no issuerAuth"))?;
        let mut items = Vec::new();
        if let Some(namespaces) = cbor::field(&map, "nameSpaces") {
            for (namespace, list) in cbor::entries(namespaces)? {
                let Key::Text(namespace) = namespace else {
                    return Err(MdocError::Malformed("a namespace is not text"));
                };
                for raw in cbor::elements(list)? {
                    items.push(item(namespace, raw)?);
                }
            }
        }
        Ok(IssuerSigned { items, issuer_auth })
    }

    /// The MSO it carries, read but not verified: what a holder reads of its own mdoc (the
    /// document type, its device key, validity and status entry).
    pub fn mso(&self) -> Result<MobileSecurityObject, MdocError> {
        let payload = CoseSign1::parse(self.issuer_auth)?
            .payload
            .ok_or(MdocError::Malformed("issuerAuth has no payload"))?;
        MobileSecurityObject::parse(cbor::embedded(payload)?)
    }

    /// The document type its MSO names (read, not verified).
    pub fn doc_type(&self) -> Result<String, MdocError> {
        Ok(self.mso()?.doc_type)
    }

    /// Every item it holds, as `(namespace, element)`.
    pub fn elements(&self) -> impl Iterator<Item = (&'b str, &'b str)> + '_ {
        self.items.iter().map(|item| (item.namespace, item.element))
    }

    /// The items named `(namespace, element)`, exactly as received.
    pub(crate) fn items_named(&self, names: &[(&str, &str)]) -> Vec<(&'b str, &'b [u8])> {
        self.items
            .iter()
            .filter(|item| names.contains(&(item.namespace, item.element)))
            .map(|item| (item.namespace, item.raw))
            .collect()
    }

    /// issuerAuth exactly as received.
    pub(crate) fn issuer_auth(&self) -> &'b [u8] {
        self.issuer_auth
    }

    /// Verifies it at `now` (Unix seconds) under one of `roots`: the issuer's signature with the
    /// document signer's certificate from `x5chain`, that certificate's issuance by a root and
    /// its validity when the MSO was signed, every item's digest, then the MSO's validity.
    pub fn verify(
        &self,
        roots: &[Certificate],
        now: i64,
    ) -> Result<VerifiedIssuerSigned, MdocError> {
        let auth = CoseSign1::parse(self.issuer_auth)?;
        let signer = auth
            .x5chain
            .first()
            .ok_or(MdocError::UntrustedSigner(
                "issuerAuth carries no certificate",
            ))
            .and_then(|der| Certificate::from_der(der))?;
        let payload = auth
            .payload
            .ok_or(MdocError::Malformed("issuerAuth has no payload"))?;
        auth.verify(&signer.public_key, None)?;
        let mso = MobileSecurityObject::parse(cbor::embedded(payload)?)?;
        if !signer.is_document_signer {
            return Err(MdocError::UntrustedSigner(
                "the certificate is not a document signer's",
            ));
        }
        let root = roots
            .iter()
            .find(|root| root.is_ca && signer.verify_issued_by(root).is_ok())
            .ok_or(MdocError::UntrustedSigner(
                "no trusted root issued the certificate",
            ))?;
        if !signer.valid_at(mso.signed) || !root.valid_at(mso.signed) {
            return Err(MdocError::SignerNotValidAtSigning);
        }
        let mut items = Vec::with_capacity(self.items.len());
        for item in &self.items {
            let expected = mso
                .value_digests
                .get(item.namespace)
                .and_then(|digests| digests.get(&item.digest_id))
                .ok_or(MdocError::DigestMismatch)?;
            let actual = digest::digest(&digest::SHA256, item.raw);
            if actual.as_ref() != expected.as_slice() {
                return Err(MdocError::DigestMismatch);
            }
            items.push(DisclosedItem {
                namespace: item.namespace.to_owned(),
                element: item.element.to_owned(),
                value: cbor::to_json(item.value)?,
            });
        }
        if now < mso.valid_from {
            return Err(MdocError::NotYetValid);
        }
        if now > mso.valid_until {
            return Err(MdocError::Expired);
        }
        Ok(VerifiedIssuerSigned { mso, signer, items })
    }
}

fn item<'b>(namespace: &'b str, raw: &'b [u8]) -> Result<Item<'b>, MdocError> {
    let map = cbor::entries(cbor::embedded(raw)?)?;
    let need = |name| {
        cbor::field(&map, name).ok_or(MdocError::Malformed("an IssuerSignedItem field is missing"))
    };
    let digest_id = u64::try_from(cbor::int(need("digestID")?)?)
        .map_err(|_| MdocError::Malformed("a negative digestID"))?;
    need("random")?;
    Ok(Item {
        namespace,
        raw,
        digest_id,
        element: cbor::text(need("elementIdentifier")?)?,
        value: need("elementValue")?,
    })
}
