//! Holder keys in the phone's secure hardware: the app implements [`KeyVault`] over Android
//! Keystore (StrongBox where present) or the iOS Secure Enclave, and the private key never
//! crosses into Rust. The wallet asks the vault for a new P-256 key per credential and for
//! signatures over the bytes a proof or presentation signs.

use std::sync::Arc;

use dojang_core::did::Did;
use dojang_core::key::{Algorithm, PublicKey, SignError, Signer, Verifier as _};
use dojang_wallet::{HolderKeyRef, WalletError};
use p256::pkcs8::DecodePublicKey as _;

/// A key the vault made: its handle (the vault's own name for it) and its public key.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VaultKey {
    /// What the vault calls the key (an Android Keystore alias, a Secure Enclave tag).
    pub handle: String,
    /// The public key as an X.509 SubjectPublicKeyInfo (what Java's `PublicKey.getEncoded()`
    /// and `SecKeyCopyExternalRepresentation` wrapped in SPKI give), or an uncompressed SEC1
    /// point (65 bytes).
    pub public_key: Vec<u8>,
}

/// Why the vault could not do what was asked.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum VaultError {
    /// No key under this handle (deleted, or the device was reset).
    #[error("no key `{handle}` in the vault")]
    KeyNotFound {
        /// The handle asked for.
        handle: String,
    },
    /// The vault refused or failed (user authentication cancelled, hardware error).
    #[error("the vault failed: {reason}")]
    Failed {
        /// What the platform said.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for VaultError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        VaultError::Failed { reason: e.reason }
    }
}

/// The app's key store: ECDSA P-256 keys that never leave it.
#[uniffi::export(with_foreign)]
pub trait KeyVault: Send + Sync {
    /// Makes a new P-256 key and returns its handle and public key.
    fn generate_key(&self) -> Result<VaultKey, VaultError>;
    /// Signs `message` with the key `handle`: ECDSA over SHA-256 of `message` (Java's
    /// `SHA256withECDSA`, `ecdsaSignatureMessageX962SHA256` on iOS), the signature DER-encoded
    /// as the platforms return it, or 64 bytes r‖s.
    fn sign(&self, handle: String, message: Vec<u8>) -> Result<Vec<u8>, VaultError>;
}

/// The app's vault as the wallet library's [`dojang_wallet::KeyVault`].
pub(crate) struct AppVault(pub(crate) Arc<dyn KeyVault>);

impl dojang_wallet::KeyVault for AppVault {
    fn create(&self, alg: Algorithm) -> Result<HolderKeyRef, WalletError> {
        if alg != Algorithm::Es256 {
            return Err(vault_failed(
                "a phone's key vault holds P-256 keys (ES256) only",
            ));
        }
        let made = self.0.generate_key().map_err(vault_error)?;
        let public = public_key(&made.public_key)?;
        Ok(HolderKeyRef::Vault {
            handle: made.handle,
            did: Did::jwk(&public).to_string(),
        })
    }

    fn signer(&self, handle: &str, did: &str) -> Result<Box<dyn Signer>, WalletError> {
        let did = Did::parse(did).map_err(|_| vault_failed("the key's did:jwk is unreadable"))?;
        let public = dojang_core::did::resolve_offline(&did)
            .ok()
            .and_then(|doc| {
                doc.key_for(dojang_core::did::Relationship::Authentication, None)
                    .ok()
            })
            .ok_or_else(|| vault_failed("the key's did:jwk names no key"))?;
        Ok(Box::new(VaultSigner {
            vault: self.0.clone(),
            handle: handle.to_owned(),
            public,
        }))
    }
}

/// Signs through the app's vault, checking each signature against the key recorded for it:
/// a vault that signed with another key is caught here, not by a verifier later.
struct VaultSigner {
    vault: Arc<dyn KeyVault>,
    handle: String,
    public: PublicKey,
}

impl Signer for VaultSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let signed = self
            .vault
            .sign(self.handle.clone(), message.to_vec())
            .map_err(|e| SignError::Backend(Box::new(e)))?;
        let fixed = fixed_signature(&signed).ok_or_else(|| {
            SignError::Backend("the vault's signature is neither DER nor r‖s".into())
        })?;
        self.public
            .verify(message, &fixed)
            .map_err(|_| SignError::Backend("the vault signed with another key".into()))?;
        Ok(fixed)
    }
}

/// A P-256 public key from an SPKI or an uncompressed SEC1 point.
fn public_key(bytes: &[u8]) -> Result<PublicKey, WalletError> {
    let point = match p256::PublicKey::from_public_key_der(bytes) {
        Ok(key) => key.to_sec1_bytes().into_vec(),
        Err(_) => bytes.to_vec(),
    };
    PublicKey::p256_from_sec1(&point).map_err(|_| {
        vault_failed("the vault's public key is neither a P-256 SubjectPublicKeyInfo nor a point")
    })
}

/// An ECDSA signature as the JOSE/COSE r‖s the formats carry.
fn fixed_signature(signature: &[u8]) -> Option<Vec<u8>> {
    if signature.len() == 64 {
        return Some(signature.to_vec());
    }
    let parsed = p256::ecdsa::Signature::from_der(signature).ok()?;
    Some(parsed.to_bytes().to_vec())
}

fn vault_error(e: VaultError) -> WalletError {
    WalletError::Sign(SignError::Backend(Box::new(e)))
}

fn vault_failed(reason: &str) -> WalletError {
    WalletError::Sign(SignError::Backend(reason.to_owned().into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use dojang_core::key::SecretKey;
    use p256::ecdsa::signature::Signer as _;

    use super::*;

    #[test]
    fn der_and_fixed_signatures_are_read_and_anything_else_is_not() {
        let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let signature: p256::ecdsa::Signature = key.sign(b"hello");
        let der = signature.to_der();
        assert_eq!(
            fixed_signature(der.as_bytes()).unwrap(),
            signature.to_bytes().to_vec()
        );
        assert_eq!(
            fixed_signature(&signature.to_bytes()).unwrap(),
            signature.to_bytes().to_vec()
        );
        assert!(fixed_signature(b"not a signature").is_none());
    }

    #[test]
    fn public_keys_come_as_spki_or_points() {
        let secret = SecretKey::generate(Algorithm::Es256).unwrap();
        let point = secret.public_key().as_bytes().to_vec();
        let spki = p256::PublicKey::from_sec1_bytes(&point).unwrap();
        let der = p256::pkcs8::EncodePublicKey::to_public_key_der(&spki).unwrap();
        assert_eq!(public_key(der.as_bytes()).unwrap(), *secret.public_key());
        assert_eq!(public_key(&point).unwrap(), *secret.public_key());
        assert!(public_key(b"junk").is_err());
    }
}
