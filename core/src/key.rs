//! Signing keys, public keys, and the [`Signer`] / [`Verifier`] traits.
//!
//! dojang signs with exactly two algorithms: ES256 (ECDSA P-256 with SHA-256, fixed-size `r‖s`
//! signatures as JOSE and COSE use them) and EdDSA over Ed25519. Both go through `aws-lc-rs`,
//! which verifies P-256 about four times faster than pure-Rust `p256`; verification is the
//! verifier's hot path, so a [`PublicKey`] holds its key already parsed.
//!
//! Secret scalars and seeds live in [`zeroize::Zeroizing`] buffers; the `aws-lc-rs` key pairs
//! built from them are freed through AWS-LC's `OPENSSL_free`, which cleanses memory before
//! releasing it. `Debug` output of a [`SecretKey`] never shows secret material.
//!
//! [`Signer`] is the seam where an HSM (PKCS#11) or a phone's secure element stands in for an
//! in-memory [`SecretKey`]: everything that signs in dojang takes `&dyn Signer`.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::signature::{self as lc, KeyPair as _};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A signature algorithm dojang signs and verifies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (JOSE `ES256`, COSE -7).
    #[serde(rename = "ES256")]
    Es256,
    /// EdDSA on Ed25519 (JOSE `EdDSA`, COSE -8).
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl Algorithm {
    /// Both algorithms, in a stable order.
    pub const ALL: [Algorithm; 2] = [Algorithm::Es256, Algorithm::EdDsa];

    /// The JOSE `alg` name.
    pub fn jose_name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// The COSE algorithm identifier (RFC 9053).
    pub fn cose_id(self) -> i64 {
        match self {
            Algorithm::Es256 => -7,
            Algorithm::EdDsa => -8,
        }
    }

    /// Looks up a COSE algorithm identifier.
    pub fn from_cose_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.cose_id() == id)
    }

    /// Length of a signature in bytes (64 for both: P-256 `r‖s`, Ed25519 `R‖S`).
    pub fn signature_len(self) -> usize {
        64
    }

    fn verification(self) -> &'static dyn lc::VerificationAlgorithm {
        match self {
            Algorithm::Es256 => &lc::ECDSA_P256_SHA256_FIXED,
            Algorithm::EdDsa => &lc::ED25519,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jose_name())
    }
}

impl FromStr for Algorithm {
    type Err = KeyError;

    /// Parses a JOSE `alg` name, exactly as JOSE spells it.
    fn from_str(name: &str) -> Result<Self, KeyError> {
        match name {
            "ES256" => Ok(Algorithm::Es256),
            "EdDSA" => Ok(Algorithm::EdDsa),
            _ => Err(KeyError::UnsupportedAlgorithm {
                name: name.to_owned(),
            }),
        }
    }
}

/// Why a key could not be built, parsed or encoded. The messages repeat no value of the key's
/// description (algorithm, key type, curve): those come from whoever sent the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The algorithm is not one dojang uses (only ES256 and EdDSA are).
    #[error("unsupported algorithm: dojang uses ES256 and EdDSA")]
    UnsupportedAlgorithm {
        /// The name as given.
        name: String,
    },
    /// The key type or curve is not P-256 or Ed25519.
    #[error("unsupported key type or curve: dojang uses EC P-256 and OKP Ed25519")]
    UnsupportedKeyType {
        /// JWK `kty`, or a description of the key encoding.
        kty: String,
        /// JWK `crv`, or empty.
        crv: String,
    },
    /// The bytes are not a valid key for the algorithm (wrong length, point not on the curve,
    /// scalar out of range).
    #[error("invalid {alg} key: {reason}")]
    InvalidKey {
        /// The algorithm the key was meant for.
        alg: Algorithm,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A required JWK member is missing.
    #[error("JWK member `{member}` is missing")]
    MissingJwkMember {
        /// The member name.
        member: &'static str,
    },
    /// A JWK member is not valid base64url of the right length.
    #[error("JWK member `{member}` is not valid")]
    InvalidJwkMember {
        /// The member name.
        member: &'static str,
    },
    /// The JWK names an `alg` that does not fit its key type.
    #[error("the JWK's `alg` does not fit its key type")]
    JwkAlgorithmMismatch {
        /// The `alg` member as given.
        alg: String,
    },
    /// The public part of a key pair does not belong to the secret part.
    #[error("public key does not match the secret key")]
    InconsistentKeyPair,
    /// A multibase string is not base58btc (`z…`) or does not decode.
    #[error("invalid multibase key encoding")]
    InvalidMultibase,
    /// The multicodec prefix names a key type dojang does not use.
    #[error("unsupported multicodec key type 0x{code:x}")]
    UnsupportedMulticodec {
        /// The multicodec code.
        code: u64,
    },
    /// A secret key was expected but only public material was given.
    #[error("not a secret key: the private member `d` is missing")]
    NotASecretKey,
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature claims another algorithm than the key's (algorithm confusion).
    #[error("signature algorithm {signature} does not match the {key} key")]
    AlgorithmMismatch {
        /// The key's algorithm.
        key: Algorithm,
        /// The algorithm the signature was declared with.
        signature: Algorithm,
    },
    /// The signature is not valid for this message and key.
    #[error("signature does not verify")]
    Invalid,
}

/// Why a [`Signer`] could not sign.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key backend (HSM, secure element, remote signer) failed.
    #[error("signing backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Something that signs with one key: an in-memory [`SecretKey`], an HSM, a secure element.
pub trait Signer: Send + Sync {
    /// The public key matching the signatures this signer makes.
    fn public_key(&self) -> &PublicKey;

    /// Signs `message`, returning a fixed-size JOSE/COSE signature.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;

    /// The signing algorithm.
    fn algorithm(&self) -> Algorithm {
        self.public_key().algorithm()
    }
}

/// A boxed signer signs as what it holds (an issuer's key, sealed or in an HSM, chosen at start).
impl<S: Signer + ?Sized> Signer for Box<S> {
    fn public_key(&self) -> &PublicKey {
        (**self).public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        (**self).sign(message)
    }

    fn algorithm(&self) -> Algorithm {
        (**self).algorithm()
    }
}

/// Something that checks signatures of one algorithm.
pub trait Verifier {
    /// The algorithm this verifier checks.
    fn algorithm(&self) -> Algorithm;

    /// Checks `signature` over `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError>;

    /// Checks a signature declared as `alg`, refusing algorithm confusion before any math.
    fn verify_as(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if alg != self.algorithm() {
            return Err(SignatureError::AlgorithmMismatch {
                key: self.algorithm(),
                signature: alg,
            });
        }
        self.verify(message, signature)
    }
}

/// The DER of a P-256 SubjectPublicKeyInfo up to its 65-byte uncompressed point: SEQUENCE,
/// AlgorithmIdentifier (id-ecPublicKey, prime256v1), BIT STRING header (RFC 5480).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A public key, parsed once and ready to verify.
///
/// [`PublicKey::as_bytes`] gives a P-256 key as the uncompressed SEC1 point (`0x04 ‖ x ‖ y`), an
/// Ed25519 key as its 32 bytes. Cloning one copies those bytes once (the parsed key is shared).
#[derive(Clone)]
pub struct PublicKey {
    alg: Algorithm,
    /// Parsed from the Ed25519 key's bytes, or from the P-256 point inside its SPKI; it keeps
    /// those bytes, so the key is not kept twice.
    parsed: lc::ParsedPublicKey,
}

impl PublicKey {
    /// Builds a P-256 key from a SEC1 point, compressed (33 bytes) or uncompressed (65 bytes).
    pub fn p256_from_sec1(point: &[u8]) -> Result<Self, KeyError> {
        const INVALID: KeyError = KeyError::InvalidKey {
            alg: Algorithm::Es256,
            reason: "not a point on P-256",
        };
        match point {
            [0x04, rest @ ..] if rest.len() == 64 => Self::new(Algorithm::Es256, point),
            [0x02 | 0x03, rest @ ..] if rest.len() == 32 => {
                let key = p256::PublicKey::from_sec1_bytes(point).map_err(|_| INVALID)?;
                let uncompressed = key.to_encoded_point(false);
                Self::new(Algorithm::Es256, uncompressed.as_bytes())
            }
            _ => Err(INVALID),
        }
    }

    /// Builds an Ed25519 key from its 32 bytes.
    pub fn ed25519(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != 32 {
            return Err(KeyError::InvalidKey {
                alg: Algorithm::EdDsa,
                reason: "an Ed25519 public key is 32 bytes",
            });
        }
        Self::new(Algorithm::EdDsa, bytes)
    }

    fn new(alg: Algorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        // A P-256 point goes to aws-lc-rs inside its SubjectPublicKeyInfo (RFC 5480): given the
        // bare point, aws-lc-rs 1.19 checks it on the curve three times, given the SPKI twice —
        // a ninth less for a holder key read on every verification (`dojang bench`).
        let mut spki = [0u8; P256_SPKI_PREFIX.len() + 65];
        let input: &[u8] = match (alg, bytes.len()) {
            (Algorithm::Es256, 65) => {
                let (prefix, point) = spki.split_at_mut(P256_SPKI_PREFIX.len());
                prefix.copy_from_slice(&P256_SPKI_PREFIX);
                point.copy_from_slice(bytes);
                &spki
            }
            _ => bytes,
        };
        let parsed = lc::ParsedPublicKey::new(alg.verification(), input).map_err(|_| {
            KeyError::InvalidKey {
                alg,
                reason: "rejected by the key parser",
            }
        })?;
        Ok(PublicKey { alg, parsed })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The raw key: uncompressed SEC1 point for P-256, 32 bytes for Ed25519.
    pub fn as_bytes(&self) -> &[u8] {
        let parsed = self.parsed.as_ref();
        match self.alg {
            Algorithm::Es256 => &parsed[P256_SPKI_PREFIX.len()..],
            Algorithm::EdDsa => parsed,
        }
    }

    /// The compact form: the 33-byte compressed SEC1 point for P-256, 32 bytes for Ed25519.
    pub fn to_compact_bytes(&self) -> Vec<u8> {
        match self.alg {
            Algorithm::EdDsa => self.as_bytes().to_vec(),
            Algorithm::Es256 => {
                let (x, y) = self.as_bytes()[1..].split_at(32);
                let mut out = Vec::with_capacity(33);
                out.push(0x02 | (y[31] & 1));
                out.extend_from_slice(x);
                out
            }
        }
    }

    /// Builds a key from its compact form (see [`PublicKey::to_compact_bytes`]).
    pub fn from_compact_bytes(alg: Algorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        match alg {
            Algorithm::Es256 => Self::p256_from_sec1(bytes),
            Algorithm::EdDsa => Self::ed25519(bytes),
        }
    }
}

impl Verifier for PublicKey {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        if signature.len() != self.alg.signature_len() {
            return Err(SignatureError::Invalid);
        }
        self.parsed
            .verify_sig(message, signature)
            .map_err(|_| SignatureError::Invalid)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.alg == other.alg && self.as_bytes() == other.as_bytes()
    }
}

impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.alg.hash(state);
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({} {})",
            self.alg,
            crate::multikey::encode(self)
        )
    }
}

/// An in-memory signing key.
pub struct SecretKey {
    public: PublicKey,
    secret: Zeroizing<[u8; 32]>,
    pair: KeyPair,
}

enum KeyPair {
    Es256(lc::EcdsaKeyPair),
    EdDsa(lc::Ed25519KeyPair),
}

impl SecretKey {
    /// Generates a new key from the system's secure random source.
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        loop {
            let mut secret = Zeroizing::new([0u8; 32]);
            aws_lc_rs::rand::fill(secret.as_mut()).map_err(|_| KeyError::Rng)?;
            match Self::from_bytes(alg, secret.as_ref()) {
                // A P-256 scalar ≥ n (probability ~2^-32) or zero: draw again.
                Err(KeyError::InvalidKey { .. }) => continue,
                result => return result,
            }
        }
    }

    /// Builds a key from its 32 secret bytes: the big-endian P-256 scalar, or the Ed25519 seed.
    pub fn from_bytes(alg: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let secret: Zeroizing<[u8; 32]> =
            Zeroizing::new(secret.try_into().map_err(|_| KeyError::InvalidKey {
                alg,
                reason: "a secret key is 32 bytes",
            })?);
        let invalid = KeyError::InvalidKey {
            alg,
            reason: "not a valid secret key",
        };
        let (pair, public) = match alg {
            Algorithm::Es256 => {
                let scalar =
                    p256::SecretKey::from_slice(secret.as_ref()).map_err(|_| invalid.clone())?;
                let point = scalar.public_key().to_encoded_point(false);
                let pair = lc::EcdsaKeyPair::from_private_key_and_public_key(
                    &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
                    secret.as_ref(),
                    point.as_bytes(),
                )
                .map_err(|_| invalid)?;
                let public = PublicKey::p256_from_sec1(point.as_bytes())?;
                (KeyPair::Es256(pair), public)
            }
            Algorithm::EdDsa => {
                let pair = lc::Ed25519KeyPair::from_seed_unchecked(secret.as_ref())
                    .map_err(|_| invalid)?;
                let public = PublicKey::ed25519(pair.public_key().as_ref())?;
                (KeyPair::EdDsa(pair), public)
            }
        };
        Ok(SecretKey {
            public,
            secret,
            pair,
        })
    }

    /// The 32 secret bytes. Handle with care: the buffer is zeroized when dropped.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.secret.clone()
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.public.alg
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl Signer for SecretKey {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.pair {
            KeyPair::EdDsa(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            KeyPair::Es256(pair) => pair
                .sign(&aws_lc_rs::rand::SystemRandom::new(), message)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|e| SignError::Backend(Box::new(e))),
        }
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        // Rebuilding from the same validated bytes cannot fail.
        #[allow(clippy::expect_used)]
        Self::from_bytes(self.algorithm(), self.secret.as_ref()).expect("key bytes were valid")
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.public)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_both_algorithms() {
        for alg in Algorithm::ALL {
            let key = SecretKey::generate(alg).unwrap();
            let sig = key.sign(b"hello").unwrap();
            assert_eq!(sig.len(), 64);
            let public = key.public_key();
            public.verify_as(alg, b"hello", &sig).unwrap();
            assert_eq!(public.verify(b"hellp", &sig), Err(SignatureError::Invalid));
            let mut bad = sig.clone();
            bad[10] ^= 1;
            assert_eq!(public.verify(b"hello", &bad), Err(SignatureError::Invalid));
            assert_eq!(
                public.verify(b"hello", &sig[..63]),
                Err(SignatureError::Invalid)
            );
        }
    }

    #[test]
    fn algorithm_confusion_is_refused_before_verifying() {
        let key = SecretKey::generate(Algorithm::Es256).unwrap();
        let sig = key.sign(b"m").unwrap();
        assert_eq!(
            key.public_key().verify_as(Algorithm::EdDsa, b"m", &sig),
            Err(SignatureError::AlgorithmMismatch {
                key: Algorithm::Es256,
                signature: Algorithm::EdDsa
            })
        );
    }

    #[test]
    fn secret_round_trip_and_compact_points() {
        for alg in Algorithm::ALL {
            let key = SecretKey::generate(alg).unwrap();
            let again = SecretKey::from_bytes(alg, key.secret_bytes().as_ref()).unwrap();
            assert_eq!(key.public_key(), again.public_key());
            let compact = key.public_key().to_compact_bytes();
            let back = PublicKey::from_compact_bytes(alg, &compact).unwrap();
            assert_eq!(&back, key.public_key());
        }
    }

    #[test]
    fn invalid_keys_are_typed_errors() {
        assert!(matches!(
            SecretKey::from_bytes(Algorithm::Es256, &[0u8; 32]),
            Err(KeyError::InvalidKey { .. })
        ));
        assert!(matches!(
            SecretKey::from_bytes(Algorithm::Es256, &[0xffu8; 32]),
            Err(KeyError::InvalidKey { .. })
        ));
        assert!(matches!(
            SecretKey::from_bytes(Algorithm::EdDsa, &[1u8; 31]),
            Err(KeyError::InvalidKey { .. })
        ));
        let mut not_on_curve = [0u8; 65];
        not_on_curve[0] = 4;
        not_on_curve[64] = 7;
        assert!(matches!(
            PublicKey::p256_from_sec1(&not_on_curve),
            Err(KeyError::InvalidKey { .. })
        ));
        assert!(PublicKey::p256_from_sec1(&[2u8; 12]).is_err());
        assert_eq!(
            "HS256".parse::<Algorithm>(),
            Err(KeyError::UnsupportedAlgorithm {
                name: "HS256".into()
            })
        );
    }

    #[test]
    fn p256_points_are_parsed_inside_their_spki_and_kept_as_points() {
        let secret = SecretKey::generate(Algorithm::Es256).unwrap();
        let point = secret.public_key().as_bytes().to_vec();
        let key = PublicKey::p256_from_sec1(&point).unwrap();
        assert_eq!(
            key.as_bytes(),
            point,
            "the point, not the SPKI it was parsed in"
        );
        let signature = secret.sign(b"message").unwrap();
        key.verify(b"message", &signature).unwrap();
        assert!(key.verify(b"other", &signature).is_err());
        let mut off_curve = point.clone();
        off_curve[64] ^= 1;
        assert_eq!(
            PublicKey::p256_from_sec1(&off_curve).err(),
            Some(KeyError::InvalidKey {
                alg: Algorithm::Es256,
                reason: "rejected by the key parser"
            })
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = SecretKey::from_bytes(Algorithm::EdDsa, &[7u8; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains("7, 7, 7"));
    }
}
