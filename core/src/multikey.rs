//! Keys as multibase strings (`z` + base58btc of a multicodec-prefixed key), the encoding of
//! `did:key` and of `publicKeyMultibase` / `secretKeyMultibase` in Multikey documents.
//!
//! | key | multicodec | varint prefix | key bytes |
//! |---|---|---|---|
//! | Ed25519 public | `0xed` | `ed 01` | 32 |
//! | P-256 public | `0x1200` | `80 24` | 33, compressed point |
//! | Ed25519 secret | `0x1300` | `80 26` | 32, seed |
//! | P-256 secret | `0x1306` | `86 26` | 32, scalar |

use zeroize::Zeroizing;

use crate::key::{Algorithm, KeyError, PublicKey, SecretKey};

const ED25519_PUB: u64 = 0xed;
const P256_PUB: u64 = 0x1200;
const ED25519_PRIV: u64 = 0x1300;
const P256_PRIV: u64 = 0x1306;

/// Longest multibase key accepted (a P-256 key is 48 characters; P-521 would be 98).
const MAX_LEN: usize = 128;

/// Encodes a public key as a multibase Multikey (`z6Mk…` for Ed25519, `zDn…` for P-256).
pub fn encode(key: &PublicKey) -> String {
    let code = match key.algorithm() {
        Algorithm::Es256 => P256_PUB,
        Algorithm::EdDsa => ED25519_PUB,
    };
    encode_with(code, &key.to_compact_bytes())
}

/// Encodes a secret key as a multibase secret Multikey.
pub fn encode_secret(key: &SecretKey) -> Zeroizing<String> {
    let code = match key.algorithm() {
        Algorithm::Es256 => P256_PRIV,
        Algorithm::EdDsa => ED25519_PRIV,
    };
    Zeroizing::new(encode_with(code, key.secret_bytes().as_ref()))
}

/// Decodes a multibase public Multikey.
pub fn decode(text: &str) -> Result<PublicKey, KeyError> {
    let (code, bytes) = decode_with(text)?;
    match code {
        ED25519_PUB => PublicKey::ed25519(&bytes),
        P256_PUB => PublicKey::p256_from_sec1(&bytes),
        code => Err(KeyError::UnsupportedMulticodec { code }),
    }
}

/// Decodes a multibase secret Multikey.
pub fn decode_secret(text: &str) -> Result<SecretKey, KeyError> {
    let (code, bytes) = decode_with(text)?;
    let bytes = Zeroizing::new(bytes);
    match code {
        ED25519_PRIV => SecretKey::from_bytes(Algorithm::EdDsa, &bytes),
        P256_PRIV => SecretKey::from_bytes(Algorithm::Es256, &bytes),
        code => Err(KeyError::UnsupportedMulticodec { code }),
    }
}

fn encode_with(code: u64, key: &[u8]) -> String {
    let mut bytes = Zeroizing::new(Vec::with_capacity(key.len() + 3));
    let mut code = code;
    loop {
        let byte = (code & 0x7f) as u8;
        code >>= 7;
        if code == 0 {
            bytes.push(byte);
            break;
        }
        bytes.push(byte | 0x80);
    }
    bytes.extend_from_slice(key);
    format!("z{}", bs58::encode(bytes.as_slice()).into_string())
}

fn decode_with(text: &str) -> Result<(u64, Vec<u8>), KeyError> {
    let body = text.strip_prefix('z').ok_or(KeyError::InvalidMultibase)?;
    if body.len() > MAX_LEN {
        return Err(KeyError::InvalidMultibase);
    }
    let bytes = bs58::decode(body)
        .into_vec()
        .map_err(|_| KeyError::InvalidMultibase)?;
    // Unsigned LEB128 varint, at most 9 bytes (multiformats caps codes at 2^63).
    let mut code = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(9) {
        code |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((code, bytes[i + 1..].to_vec()));
        }
    }
    Err(KeyError::InvalidMultibase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_prefixes() {
        let ed = SecretKey::generate(Algorithm::EdDsa).unwrap();
        let p = SecretKey::generate(Algorithm::Es256).unwrap();
        assert!(encode(ed.public_key()).starts_with("z6Mk"));
        assert!(encode(p.public_key()).starts_with("zDn"));
        for key in [ed, p] {
            assert_eq!(
                &decode(&encode(key.public_key())).unwrap(),
                key.public_key()
            );
            let secret = encode_secret(&key);
            assert_eq!(
                decode_secret(&secret).unwrap().public_key(),
                key.public_key()
            );
            assert!(matches!(
                decode(&secret),
                Err(KeyError::UnsupportedMulticodec { .. })
            ));
        }
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(decode("6MkhaXg"), Err(KeyError::InvalidMultibase));
        assert_eq!(decode("z0OIl"), Err(KeyError::InvalidMultibase));
        assert_eq!(decode(&"z".repeat(400)), Err(KeyError::InvalidMultibase));
        // A P-384 key (multicodec 0x1201) is well formed but not a type dojang uses.
        assert_eq!(
            decode("z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9"),
            Err(KeyError::UnsupportedMulticodec { code: 0x1201 })
        );
    }
}
