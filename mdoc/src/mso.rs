//! The MobileSecurityObject (ISO 18013-5 §9.1.2.4): what the issuer signs — the digests of every
//! item, the device key, the validity window and, here, the status list entry.

use std::collections::HashMap;

use dojang_core::status::StatusListReference;

use crate::MdocError;
use crate::cbor;

/// The device key the mdoc is bound to (COSE_Key, EC2 P-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceKey {
    /// The uncompressed SEC1 point (`04 ‖ x ‖ y`).
    pub point: Vec<u8>,
}

/// A parsed MSO.
#[derive(Debug, Clone)]
pub struct MobileSecurityObject {
    /// The document type (`org.iso.18013.5.1.mDL`).
    pub doc_type: String,
    /// Digest per namespace and digest ID.
    pub value_digests: HashMap<String, HashMap<u64, Vec<u8>>>,
    /// The device key.
    pub device_key: DeviceKey,
    /// When it was signed (Unix seconds).
    pub signed: i64,
    /// Valid from (Unix seconds).
    pub valid_from: i64,
    /// Valid until (Unix seconds).
    pub valid_until: i64,
    /// The status list entry (`status.status_list`, the Token Status List reference), when
    /// the issuer gave one.
    pub status: Option<StatusListReference>,
}

impl MobileSecurityObject {
    /// Reads an MSO (the contents of issuerAuth's tag-24 payload).
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let map = cbor::entries(bytes)?;
        let need = |name: &'static str| {
            cbor::field(&map, name).ok_or(MdocError::Malformed("an MSO field is missing"))
        };
        if cbor::text(need("digestAlgorithm")?)? != "SHA-256" {
            return Err(MdocError::UnsupportedAlgorithm(
                "a digest other than SHA-256",
            ));
        }
        let mut value_digests = HashMap::new();
        for (namespace, digests) in cbor::entries(need("valueDigests")?)? {
            let cbor::Key::Text(namespace) = namespace else {
                return Err(MdocError::Malformed("a namespace is not text"));
            };
            let mut by_id = HashMap::new();
            for (id, digest) in cbor::entries(digests)? {
                let cbor::Key::Int(id) = id else {
                    return Err(MdocError::Malformed("a digest ID is not an integer"));
                };
                let id =
                    u64::try_from(id).map_err(|_| MdocError::Malformed("a negative digest ID"))?;
                by_id.insert(id, cbor::byte_string(digest)?.to_vec());
            }
            value_digests.insert(namespace.to_owned(), by_id);
        }
        let device_key_info = cbor::entries(need("deviceKeyInfo")?)?;
        let device_key = cbor::field(&device_key_info, "deviceKey")
            .ok_or(MdocError::Malformed("no deviceKey"))?;
        let validity = cbor::entries(need("validityInfo")?)?;
        let date = |name: &'static str| {
            cbor::field(&validity, name)
                .ok_or(MdocError::Malformed("a validityInfo date is missing"))
                .and_then(cbor::tdate)
        };
        let status = cbor::field(&map, "status")
            .map(status_reference)
            .transpose()?;
        Ok(MobileSecurityObject {
            doc_type: cbor::text(need("docType")?)?.to_owned(),
            value_digests,
            device_key: cose_key(device_key)?,
            signed: date("signed")?,
            valid_from: date("validFrom")?,
            valid_until: date("validUntil")?,
            status,
        })
    }
}

/// An EC2 P-256 COSE_Key (kty 2, crv 1) as its point.
pub(crate) fn cose_key(bytes: &[u8]) -> Result<DeviceKey, MdocError> {
    let key = cbor::entries(bytes)?;
    let int = |label| cbor::label(&key, label).map(cbor::int).transpose();
    if int(1)? != Some(2) || int(-1)? != Some(1) {
        return Err(MdocError::UnsupportedAlgorithm(
            "a device key other than EC2 P-256",
        ));
    }
    let coordinate = |label| {
        cbor::label(&key, label)
            .ok_or(MdocError::Malformed("a device key coordinate is missing"))
            .and_then(cbor::byte_string)
            .and_then(|c| {
                if c.len() == 32 {
                    Ok(c)
                } else {
                    Err(MdocError::Malformed("a P-256 coordinate is 32 bytes"))
                }
            })
    };
    let mut point = vec![0x04];
    point.extend_from_slice(coordinate(-2)?);
    point.extend_from_slice(coordinate(-3)?);
    Ok(DeviceKey { point })
}

fn status_reference(bytes: &[u8]) -> Result<StatusListReference, MdocError> {
    let status = cbor::entries(bytes)?;
    let list = cbor::field(&status, "status_list")
        .ok_or(MdocError::Malformed("a status without status_list"))?;
    let list = cbor::entries(list)?;
    let idx = cbor::field(&list, "idx").ok_or(MdocError::Malformed("a status list without idx"))?;
    let uri = cbor::field(&list, "uri").ok_or(MdocError::Malformed("a status list without uri"))?;
    Ok(StatusListReference {
        idx: u64::try_from(cbor::int(idx)?).map_err(|_| MdocError::Malformed("a negative idx"))?,
        uri: cbor::text(uri)?.to_owned(),
    })
}
