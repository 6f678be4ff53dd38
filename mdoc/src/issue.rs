//! Making mdocs: the issuer's IssuerSigned (items with random salts, the MSO with their digests,
//! the device key, validity and status, signed with the document signer's key and certificate)
//! and the holder's DeviceResponse (the items chosen, signed by the device key over the
//! SessionTranscript).

use aws_lc_rs::digest;
use dojang_core::key::{Algorithm, PublicKey, Signer};
use minicbor::Encoder;
use minicbor::data::Tag;

use crate::MdocError;
use crate::device::device_authentication_bytes;
use crate::issuer_signed::IssuerSigned;
use dojang_core::status::StatusListReference;

/// A value as an mdoc element carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementValue {
    /// Text.
    Text(String),
    /// A boolean (`age_over_19`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A calendar date, `YYYY-MM-DD` (CBOR tag 1004, `full-date`).
    FullDate(String),
    /// Bytes (a portrait, a digest).
    Bytes(Vec<u8>),
}

/// One element to issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Its namespace.
    pub namespace: String,
    /// Its identifier.
    pub identifier: String,
    /// Its value.
    pub value: ElementValue,
}

/// An item's digest ID and its `IssuerSignedItemBytes`.
type SignedItem = (u64, Vec<u8>);

/// What the issuer signs.
pub struct Issuance<'a> {
    /// The document type.
    pub doc_type: &'a str,
    /// The elements, in namespaces.
    pub elements: &'a [Element],
    /// The holder's device key (P-256).
    pub device_key: &'a PublicKey,
    /// When signed, valid from, valid until (Unix seconds).
    pub signed: i64,
    /// Valid from.
    pub valid_from: i64,
    /// Valid until.
    pub valid_until: i64,
    /// The status list entry.
    pub status: Option<&'a StatusListReference>,
    /// The document signer's key.
    pub signer: &'a dyn Signer,
    /// The document signer's certificate (DER), carried in `x5chain`.
    pub certificate: &'a [u8],
}

/// A CBOR writer over a Vec: items, and raw bytes already encoded.
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn new() -> Self {
        Writer(Vec::new())
    }

    fn with(
        &mut self,
        write: impl FnOnce(
            &mut Encoder<&mut Vec<u8>>,
        ) -> Result<(), minicbor::encode::Error<std::convert::Infallible>>,
    ) -> &mut Self {
        // Writing to a Vec cannot fail.
        let _ = write(&mut Encoder::new(&mut self.0));
        self
    }

    pub(crate) fn map(&mut self, len: u64) -> &mut Self {
        self.with(|e| e.map(len).map(|_| ()))
    }

    fn array(&mut self, len: u64) -> &mut Self {
        self.with(|e| e.array(len).map(|_| ()))
    }

    pub(crate) fn str(&mut self, text: &str) -> &mut Self {
        self.with(|e| e.str(text).map(|_| ()))
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.with(|e| e.bytes(bytes).map(|_| ()))
    }

    pub(crate) fn int(&mut self, n: i64) -> &mut Self {
        self.with(|e| e.i64(n).map(|_| ()))
    }

    pub(crate) fn tag(&mut self, tag: u64) -> &mut Self {
        self.with(|e| e.tag(Tag::new(tag)).map(|_| ()))
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(bytes);
        self
    }

    fn value(&mut self, value: &ElementValue) -> &mut Self {
        match value {
            ElementValue::Text(text) => self.str(text),
            ElementValue::Bool(yes) => self.with(|e| e.bool(*yes).map(|_| ())),
            ElementValue::Int(n) => self.int(*n),
            ElementValue::FullDate(date) => self.tag(1004).str(date),
            ElementValue::Bytes(bytes) => self.bytes(bytes),
        }
    }

    pub(crate) fn done(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// `#6.24(bstr .cbor item)`.
fn embedded(item: &[u8]) -> Vec<u8> {
    Writer::new().tag(24).bytes(item).done()
}

/// The protected header `{1: -7}` (ES256).
fn es256_header() -> Vec<u8> {
    Writer::new().map(1).int(1).int(-7).done()
}

/// A COSE_Sign1 by `signer` (ES256, as mdoc requires) over `payload` with `unprotected`
/// (already encoded), the payload carried (`detached` false) or not.
fn sign1(
    signer: &dyn Signer,
    unprotected: &[u8],
    payload: &[u8],
    detached: bool,
) -> Result<Vec<u8>, MdocError> {
    if signer.algorithm() != Algorithm::Es256 {
        return Err(MdocError::UnsupportedAlgorithm(
            "mdoc keys are P-256 (ES256)",
        ));
    }
    sign1_with(signer, &es256_header(), unprotected, payload, detached)
}

/// A COSE_Sign1 by `signer` with the encoded headers `protected` and `unprotected`.
pub(crate) fn sign1_with(
    signer: &dyn Signer,
    protected: &[u8],
    unprotected: &[u8],
    payload: &[u8],
    detached: bool,
) -> Result<Vec<u8>, MdocError> {
    let tbs = Writer::new()
        .array(4)
        .str("Signature1")
        .bytes(protected)
        .bytes(&[])
        .bytes(payload)
        .done();
    let signature = signer.sign(&tbs).map_err(|_| MdocError::SignerFailed)?;
    let mut out = Writer::new();
    out.array(4).bytes(protected).raw(unprotected);
    if detached {
        out.with(|e| e.null().map(|_| ()));
    } else {
        out.bytes(payload);
    }
    Ok(out.bytes(&signature).done())
}

/// The IssuerSigned of `issuance`: what the issuer hands the wallet.
pub fn issue(issuance: &Issuance<'_>) -> Result<Vec<u8>, MdocError> {
    let point = issuance.device_key.as_bytes();
    if issuance.device_key.algorithm() != Algorithm::Es256 || point.len() != 65 {
        return Err(MdocError::UnsupportedAlgorithm("device keys are P-256"));
    }
    // Each namespace's items, each with a random digest ID and salt.
    let mut namespaces: Vec<(&str, Vec<SignedItem>)> = Vec::new();
    let mut used = std::collections::HashSet::new();
    for element in issuance.elements {
        let mut random = [0u8; 36];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| MdocError::Malformed("no randomness"))?;
        let mut id = u64::from(u32::from_be_bytes([
            random[32], random[33], random[34], random[35],
        ]));
        while !used.insert(id) {
            id = id.wrapping_add(1) & u64::from(u32::MAX);
        }
        let item = Writer::new()
            .map(4)
            .str("digestID")
            .int(i64::try_from(id).unwrap_or_default())
            .str("random")
            .bytes(&random[..32])
            .str("elementIdentifier")
            .str(&element.identifier)
            .str("elementValue")
            .value(&element.value)
            .done();
        let item = embedded(&item);
        match namespaces
            .iter_mut()
            .find(|(ns, _)| *ns == element.namespace)
        {
            Some((_, items)) => items.push((id, item)),
            None => namespaces.push((&element.namespace, vec![(id, item)])),
        }
    }
    let mso = mso(issuance, &namespaces, point)?;
    let payload = embedded(&mso);
    let unprotected = Writer::new()
        .map(1)
        .int(33)
        .bytes(issuance.certificate)
        .done();
    let issuer_auth = sign1(issuance.signer, &unprotected, &payload, false)?;
    let mut out = Writer::new();
    out.map(2).str("nameSpaces").map(namespaces.len() as u64);
    for (namespace, items) in &namespaces {
        out.str(namespace).array(items.len() as u64);
        for (_, item) in items {
            out.raw(item);
        }
    }
    Ok(out.str("issuerAuth").raw(&issuer_auth).done())
}

fn mso(
    issuance: &Issuance<'_>,
    namespaces: &[(&str, Vec<SignedItem>)],
    point: &[u8],
) -> Result<Vec<u8>, MdocError> {
    let mut out = Writer::new();
    out.map(6 + u64::from(issuance.status.is_some()))
        .str("version")
        .str("1.0")
        .str("digestAlgorithm")
        .str("SHA-256")
        .str("valueDigests")
        .map(namespaces.len() as u64);
    for (namespace, items) in namespaces {
        out.str(namespace).map(items.len() as u64);
        for (id, item) in items {
            out.int(i64::try_from(*id).unwrap_or_default())
                .bytes(digest::digest(&digest::SHA256, item).as_ref());
        }
    }
    out.str("deviceKeyInfo")
        .map(1)
        .str("deviceKey")
        .map(4)
        .int(1)
        .int(2)
        .int(-1)
        .int(1)
        .int(-2)
        .bytes(&point[1..33])
        .int(-3)
        .bytes(&point[33..]);
    out.str("docType").str(issuance.doc_type);
    out.str("validityInfo").map(3);
    for (name, at) in [
        ("signed", issuance.signed),
        ("validFrom", issuance.valid_from),
        ("validUntil", issuance.valid_until),
    ] {
        out.str(name).tag(0).str(&tdate(at)?);
    }
    if let Some(status) = issuance.status {
        out.str("status")
            .map(1)
            .str("status_list")
            .map(2)
            .str("idx")
            .int(i64::try_from(status.idx).map_err(|_| MdocError::Malformed("idx too large"))?)
            .str("uri")
            .str(&status.uri);
    }
    Ok(out.done())
}

fn tdate(at: i64) -> Result<String, MdocError> {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .ok_or(MdocError::Malformed("a date out of range"))
}

/// The holder's DeviceResponse: of `issuer_signed` (as the wallet holds it), only the items
/// `disclose` names (`(namespace, element)`), with the device's signature over the
/// `session_transcript` (CBOR) by `device`.
pub fn present(
    issuer_signed: &[u8],
    disclose: &[(&str, &str)],
    session_transcript: &[u8],
    device: &dyn Signer,
) -> Result<Vec<u8>, MdocError> {
    let held = IssuerSigned::parse(issuer_signed)?;
    let doc_type = held.doc_type()?;
    let kept = held.items_named(disclose);
    let mut namespaces: Vec<(&str, Vec<&[u8]>)> = Vec::new();
    for (namespace, raw) in kept {
        match namespaces.iter_mut().find(|(ns, _)| *ns == namespace) {
            Some((_, items)) => items.push(raw),
            None => namespaces.push((namespace, vec![raw])),
        }
    }
    let device_namespaces = embedded(&Writer::new().map(0).done());
    let signed = device_authentication_bytes(session_transcript, &doc_type, &device_namespaces)?;
    let device_signature = sign1(device, &Writer::new().map(0).done(), &signed, true)?;
    let mut out = Writer::new();
    out.map(3)
        .str("version")
        .str("1.0")
        .str("documents")
        .array(1)
        .map(3)
        .str("docType")
        .str(&doc_type)
        .str("issuerSigned")
        .map(2)
        .str("nameSpaces")
        .map(namespaces.len() as u64);
    for (namespace, items) in &namespaces {
        out.str(namespace).array(items.len() as u64);
        for item in items {
            out.raw(item);
        }
    }
    out.str("issuerAuth")
        .raw(held.issuer_auth())
        .str("deviceSigned")
        .map(2)
        .str("nameSpaces")
        .raw(&device_namespaces)
        .str("deviceAuth")
        .map(1)
        .str("deviceSignature")
        .raw(&device_signature);
    Ok(out.str("status").int(0).done())
}
