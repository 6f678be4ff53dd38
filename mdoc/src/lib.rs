//! `dojang-mdoc`: ISO/IEC 18013-5 mdoc (`mso_mdoc`), as the mobile ID is also issued and
//! presented (DESIGN §11).
//!
//! Reading is over the bytes as they arrived: every digest and signature covers the original
//! encoding (CBOR allows several encodings of one value, and wallets use them), so nothing is
//! re-encoded before it is checked. [`IssuerSigned::verify`] checks `issuerAuth` (COSE_Sign1,
//! ES256) with the document signer's certificate from its `x5chain`, the chain to a trusted
//! issuing-authority root, the signer's validity at signing, the MSO's validity window and every
//! disclosed item's digest. [`DeviceResponse`] adds the device's authentication (a signature or
//! an ISO session MAC) over the `SessionTranscript` — for OpenID4VP 1.0,
//! [`session_transcript_openid4vp`].
//!
//! Failures are [`MdocError`]s, each mapped to the verdict's stable reason code
//! ([`MdocError::reason`]), so an mdoc's verdict reads like any other credential's.

mod cbor;
mod cose;
mod device;
mod error;
mod issue;
mod issuer_signed;
mod mso;
mod pki;
mod status;
mod x509;

pub use cose::{CoseMac0, CoseSign1};
pub use device::{
    DeviceResponse, Document, device_authentication_bytes, session_transcript_openid4vp,
};
pub use error::MdocError;
pub use issue::{Element, ElementValue, Issuance, issue, present};
pub use issuer_signed::{DisclosedItem, IssuerSigned, VerifiedIssuerSigned};
pub use mso::{DeviceKey, MobileSecurityObject};
pub use pki::{Authority, DocumentSigner, document_signer_certificate, iaca_certificate};
pub use status::{CWT_TYP, StatusListCwt, read_status_list_cwt, sign_status_list_cwt};
pub use x509::Certificate;

/// The largest mdoc structure read (a DeviceResponse with a portrait fits many times over).
pub const MAX_INPUT_LEN: usize = 1 << 20;
