//! DeviceResponse (ISO 18013-5 §8.3.2.1.2.2) and the device's authentication over the
//! SessionTranscript: a signature with the MSO's device key, or an ISO session MAC.

use aws_lc_rs::digest;
use minicbor::Encoder;

use crate::MdocError;
use crate::cbor;
use crate::cose::{CoseMac0, CoseSign1};
use crate::issuer_signed::{IssuerSigned, VerifiedIssuerSigned};
use crate::x509::Certificate;

/// A DeviceResponse, read but not verified.
#[derive(Debug, Clone)]
pub struct DeviceResponse<'b> {
    /// Its documents.
    pub documents: Vec<Document<'b>>,
    /// Its status (0: OK).
    pub status: i64,
}

/// One document of a DeviceResponse.
#[derive(Debug, Clone)]
pub struct Document<'b> {
    /// Its document type.
    pub doc_type: &'b str,
    /// What the issuer signed.
    pub issuer_signed: IssuerSigned<'b>,
    /// `DeviceNameSpacesBytes` exactly as received.
    device_namespaces: &'b [u8],
    /// The device's signature or MAC.
    device_auth: DeviceAuth<'b>,
}

#[derive(Debug, Clone)]
enum DeviceAuth<'b> {
    Signature(&'b [u8]),
    Mac(&'b [u8]),
}

impl<'b> DeviceResponse<'b> {
    /// Reads a DeviceResponse.
    pub fn parse(bytes: &'b [u8]) -> Result<Self, MdocError> {
        if bytes.len() > crate::MAX_INPUT_LEN {
            return Err(MdocError::Malformed("larger than any mdoc"));
        }
        let map = cbor::entries(bytes)?;
        if cbor::field(&map, "version").map(cbor::text).transpose()? != Some("1.0") {
            return Err(MdocError::Malformed(
                "a DeviceResponse version other than 1.0",
            ));
        }
        let status = cbor::field(&map, "status")
            .ok_or(MdocError::Malformed("a DeviceResponse without status"))
            .and_then(cbor::int)?;
        let documents = match cbor::field(&map, "documents") {
            None => Vec::new(),
            Some(list) => cbor::elements(list)?
                .into_iter()
                .map(Document::parse)
                .collect::<Result<_, _>>()?,
        };
        Ok(DeviceResponse { documents, status })
    }
}

impl<'b> Document<'b> {
    fn parse(bytes: &'b [u8]) -> Result<Self, MdocError> {
        let map = cbor::entries(bytes)?;
        let need = |name| {
            cbor::field(&map, name).ok_or(MdocError::Malformed("a Document field is missing"))
        };
        let device_signed = cbor::entries(need("deviceSigned")?)?;
        let device_namespaces = cbor::field(&device_signed, "nameSpaces")
            .ok_or(MdocError::Malformed("deviceSigned without nameSpaces"))?;
        let auth = cbor::entries(
            cbor::field(&device_signed, "deviceAuth")
                .ok_or(MdocError::Malformed("deviceSigned without deviceAuth"))?,
        )?;
        let device_auth = match (
            cbor::field(&auth, "deviceSignature"),
            cbor::field(&auth, "deviceMac"),
        ) {
            (Some(signature), None) => DeviceAuth::Signature(signature),
            (None, Some(mac)) => DeviceAuth::Mac(mac),
            _ => {
                return Err(MdocError::Malformed(
                    "deviceAuth needs exactly one of signature or MAC",
                ));
            }
        };
        Ok(Document {
            doc_type: cbor::text(need("docType")?)?,
            issuer_signed: IssuerSigned::parse(need("issuerSigned")?)?,
            device_namespaces,
            device_auth,
        })
    }

    /// Verifies the document at `now` under `roots` (see [`IssuerSigned::verify`]), its type
    /// against the MSO's, and the device's authentication over `session_transcript` (the
    /// SessionTranscript's CBOR): a signature with the MSO's device key, or — for an ISO
    /// session — a MAC with `mac_key` (the session's EMacKey).
    pub fn verify(
        &self,
        roots: &[Certificate],
        now: i64,
        session_transcript: &[u8],
        mac_key: Option<&[u8]>,
    ) -> Result<VerifiedIssuerSigned, MdocError> {
        let verified = self.issuer_signed.verify(roots, now)?;
        if verified.mso.doc_type != self.doc_type {
            return Err(MdocError::DocTypeMismatch);
        }
        let signed =
            device_authentication_bytes(session_transcript, self.doc_type, self.device_namespaces)?;
        match self.device_auth {
            DeviceAuth::Signature(bytes) => CoseSign1::parse(bytes)?
                .verify(&verified.mso.device_key.point, Some(&signed))
                .map_err(|_| MdocError::DeviceAuthInvalid)?,
            DeviceAuth::Mac(bytes) => {
                let key = mac_key.ok_or(MdocError::DeviceAuthInvalid)?;
                CoseMac0::parse(bytes)?.verify(key, &signed)?;
            }
        }
        Ok(verified)
    }
}

/// `DeviceAuthenticationBytes`: `#6.24(bstr .cbor ["DeviceAuthentication", SessionTranscript,
/// DocType, DeviceNameSpacesBytes])`, with the transcript and namespaces as given.
pub fn device_authentication_bytes(
    session_transcript: &[u8],
    doc_type: &str,
    device_namespaces: &[u8],
) -> Result<Vec<u8>, MdocError> {
    let mut inner = Encoder::new(Vec::new());
    inner
        .array(4)
        .and_then(|e| e.str("DeviceAuthentication"))
        .map_err(|_| MdocError::Malformed("cannot encode DeviceAuthentication"))?;
    let mut inner = inner.into_writer();
    inner.extend_from_slice(session_transcript);
    let mut rest = Encoder::new(inner);
    rest.str(doc_type)
        .map_err(|_| MdocError::Malformed("cannot encode DeviceAuthentication"))?;
    let mut inner = rest.into_writer();
    inner.extend_from_slice(device_namespaces);
    embed(&inner)
}

/// The SessionTranscript OpenID4VP 1.0 defines for `mso_mdoc` answered by redirect or
/// `direct_post` (Appendix B.2.6.1): `[null, null, ["OpenID4VPHandover",
/// SHA-256(cbor([client_id, nonce, jwk_thumbprint / null, response_uri]))]]`, as CBOR.
pub fn session_transcript_openid4vp(
    client_id: &str,
    nonce: &str,
    jwk_thumbprint: Option<&[u8]>,
    response_uri: &str,
) -> Vec<u8> {
    // Writing to a Vec cannot fail: the encoders' results are ignored.
    let mut info = Encoder::new(Vec::new());
    let _ = info
        .array(4)
        .and_then(|e| e.str(client_id))
        .and_then(|e| e.str(nonce));
    let _ = match jwk_thumbprint {
        Some(t) => info.bytes(t),
        None => info.null(),
    };
    let _ = info.str(response_uri);
    let info_hash = digest::digest(&digest::SHA256, info.writer());
    let mut transcript = Encoder::new(Vec::new());
    let _ = transcript
        .array(3)
        .and_then(|e| e.null())
        .and_then(|e| e.null())
        .and_then(|e| e.array(2))
        .and_then(|e| e.str("OpenID4VPHandover"))
        .and_then(|e| e.bytes(info_hash.as_ref()));
    transcript.into_writer()
}

/// `#6.24(bstr .cbor item)`.
fn embed(item: &[u8]) -> Result<Vec<u8>, MdocError> {
    let mut e = Encoder::new(Vec::new());
    e.tag(minicbor::data::Tag::new(24))
        .and_then(|e| e.bytes(item))
        .map_err(|_| MdocError::Malformed("cannot embed an item"))?;
    Ok(e.into_writer())
}
