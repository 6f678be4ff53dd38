//! Secrets at rest: a key derived from a passphrase with Argon2id, and XChaCha20-Poly1305
//! sealing under it.
//!
//! Issuer and registry signing keys, and every blob in a wallet, are stored [`Sealed`]. The
//! derivation is deliberately slow (Argon2id, 19 MiB, 2 passes — OWASP's baseline), so it is
//! done once per unlock: [`SealKey::derive`] then [`SealKey::seal`] / [`SealKey::open`] as often
//! as needed. Each sealed value gets a fresh random 192-bit nonce (safe to pick at random, unlike
//! 96-bit nonces), and the caller's associated data binds it to its purpose, so a sealed
//! wallet credential cannot be swapped in for a sealed signing key.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::b64;

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Authentication failed: the passphrase is wrong, or the data or its purpose differ from
    /// what was sealed.
    #[error("wrong passphrase, or the sealed data was altered")]
    WrongKeyOrCorrupted,
    /// The sealed record is not well formed.
    #[error("malformed sealed data: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The key derivation parameters are out of the accepted range.
    #[error("unacceptable key derivation parameters")]
    BadParameters,
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    pub const DEFAULT: KdfParams = KdfParams {
        m: 19 * 1024,
        t: 2,
        p: 1,
    };

    /// Cheap parameters for tests only.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams { m: 64, t: 1, p: 1 };

    fn check(self) -> Result<argon2::Params, SealError> {
        // Bounded so a hostile file cannot ask for gigabytes or hours.
        if self.m > 1024 * 1024 || self.t > 16 || self.p > 8 {
            return Err(SealError::BadParameters);
        }
        argon2::Params::new(self.m, self.t, self.p, Some(32)).map_err(|_| SealError::BadParameters)
    }
}

/// The salt and parameters a [`SealKey`] was derived with: stored next to sealed data so the
/// same key can be derived again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDerivation {
    /// base64url salt (16 bytes).
    pub salt: String,
    /// Argon2id parameters.
    #[serde(flatten)]
    pub params: KdfParams,
}

impl KeyDerivation {
    /// A fresh random salt with `params`.
    pub fn new(params: KdfParams) -> Result<Self, SealError> {
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|_| SealError::Rng)?;
        Ok(KeyDerivation {
            salt: b64::encode(salt),
            params,
        })
    }
}

/// A symmetric key derived from a passphrase.
pub struct SealKey {
    cipher: XChaCha20Poly1305,
}

impl SealKey {
    /// Derives the key for `passphrase` under `derivation`.
    pub fn derive(passphrase: &[u8], derivation: &KeyDerivation) -> Result<Self, SealError> {
        let salt =
            b64::decode(&derivation.salt).map_err(|_| SealError::Malformed { reason: "salt" })?;
        let argon = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            derivation.params.check()?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase, &salt, key.as_mut())
            .map_err(|_| SealError::BadParameters)?;
        Ok(Self::from_bytes(&key))
    }

    /// A key from 32 random bytes (for keys wrapped by another key, not by a passphrase).
    pub fn from_bytes(key: &[u8; 32]) -> Self {
        SealKey {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// Encrypts `plaintext`, bound to `purpose` (associated data).
    pub fn seal(&self, plaintext: &[u8], purpose: &str) -> Result<Sealed, SealError> {
        let mut nonce = [0u8; 24];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealError::Rng)?;
        let mut buffer = plaintext.to_vec();
        self.cipher
            .encrypt_in_place(&XNonce::from(nonce), purpose.as_bytes(), &mut buffer)
            .map_err(|_| SealError::Malformed {
                reason: "plaintext too long",
            })?;
        Ok(Sealed {
            nonce: b64::encode(nonce),
            ciphertext: b64::encode(buffer),
        })
    }

    /// Decrypts `sealed`, which must have been sealed for `purpose` under this key.
    pub fn open(&self, sealed: &Sealed, purpose: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let nonce: [u8; 24] =
            b64::decode_array(&sealed.nonce).ok_or(SealError::Malformed { reason: "nonce" })?;
        let mut buffer =
            Zeroizing::new(
                b64::decode(&sealed.ciphertext).map_err(|_| SealError::Malformed {
                    reason: "ciphertext",
                })?,
            );
        self.cipher
            .decrypt_in_place(&XNonce::from(nonce), purpose.as_bytes(), &mut *buffer)
            .map_err(|_| SealError::WrongKeyOrCorrupted)?;
        Ok(buffer)
    }
}

/// An encrypted value: nonce and ciphertext (with tag), base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// 24-byte XChaCha20 nonce.
    pub nonce: String,
    /// Ciphertext followed by the 16-byte Poly1305 tag.
    pub ciphertext: String,
}

/// A value sealed under a passphrase, with everything needed to open it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassphraseSealed {
    /// Format version (1).
    pub v: u32,
    /// How the key was derived.
    pub kdf: KeyDerivation,
    /// The sealed value.
    #[serde(flatten)]
    pub sealed: Sealed,
}

impl PassphraseSealed {
    /// Seals `plaintext` for `purpose` under a fresh key derived from `passphrase`.
    pub fn seal(
        plaintext: &[u8],
        passphrase: &[u8],
        purpose: &str,
        params: KdfParams,
    ) -> Result<Self, SealError> {
        let kdf = KeyDerivation::new(params)?;
        let sealed = SealKey::derive(passphrase, &kdf)?.seal(plaintext, purpose)?;
        Ok(PassphraseSealed { v: 1, kdf, sealed })
    }

    /// Opens it with `passphrase`.
    pub fn open(&self, passphrase: &[u8], purpose: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if self.v != 1 {
            return Err(SealError::Malformed {
                reason: "unknown version",
            });
        }
        SealKey::derive(passphrase, &self.kdf)?.open(&self.sealed, purpose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams::INSECURE_FOR_TESTS;

    #[test]
    fn seal_and_open() {
        let sealed = PassphraseSealed::seal(
            b"issuer signing key",
            b"correct horse",
            "registry-key",
            FAST,
        )
        .unwrap();
        assert_eq!(
            sealed
                .open(b"correct horse", "registry-key")
                .unwrap()
                .as_slice(),
            b"issuer signing key"
        );
        let json = serde_json::to_string(&sealed).unwrap();
        let back: PassphraseSealed = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.open(b"correct horse", "registry-key")
                .unwrap()
                .as_slice(),
            b"issuer signing key"
        );
    }

    #[test]
    fn wrong_passphrase_purpose_or_bytes_fail_cleanly() {
        let sealed = PassphraseSealed::seal(b"secret", b"pass", "a", FAST).unwrap();
        assert_eq!(
            sealed.open(b"Pass", "a").unwrap_err(),
            SealError::WrongKeyOrCorrupted
        );
        assert_eq!(
            sealed.open(b"pass", "b").unwrap_err(),
            SealError::WrongKeyOrCorrupted
        );
        let mut flipped = sealed.clone();
        let mut bytes = b64::decode(&flipped.sealed.ciphertext).unwrap();
        bytes[0] ^= 1;
        flipped.sealed.ciphertext = b64::encode(bytes);
        assert_eq!(
            flipped.open(b"pass", "a").unwrap_err(),
            SealError::WrongKeyOrCorrupted
        );
        let mut truncated = sealed.clone();
        truncated.sealed.nonce = "AAAA".into();
        assert!(matches!(
            truncated.open(b"pass", "a"),
            Err(SealError::Malformed { .. })
        ));
        let mut greedy = sealed;
        greedy.kdf.params.m = u32::MAX;
        assert_eq!(
            greedy.open(b"pass", "a").unwrap_err(),
            SealError::BadParameters
        );
    }

    #[test]
    fn nonces_are_fresh() {
        let key = SealKey::from_bytes(&[9; 32]);
        let a = key.seal(b"x", "p").unwrap();
        let b = key.seal(b"x", "p").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }
}
