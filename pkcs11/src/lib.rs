//! `dojang-pkcs11`: signing keys that stay in a hardware security module (DESIGN §12).
//!
//! A key is named by a PKCS#11 URI (RFC 7512, [`KeyUri`]) and used through
//! [`Pkcs11Signer`], a [`dojang_core::key::Signer`] like a sealed software key: ES256 is
//! `CKM_ECDSA` over the SHA-256 digest (the token returns r‖s, the JOSE/COSE form), EdDSA is
//! `CKM_EDDSA` where the token has it. Keys it generates are `CKA_SENSITIVE` and not
//! `CKA_EXTRACTABLE`; the PIN comes from a file or the environment, never from a URI or argv.

mod signer;
mod uri;

pub use signer::{Pkcs11Error, Pkcs11Signer, slots};
pub use uri::{KeyUri, UriError};
