//! IETF Token Status List (`draft-ietf-oauth-status-list`): a list of 1, 2, 4 or 8-bit statuses,
//! least significant bits first, ZLIB-compressed, published as a signed `statuslist+jwt`.

use std::io::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::packed::{BitOrder, Packed, inflate};
use super::{MAX_LIST_BYTES, MIN_ENTRIES, StatusListError};
use crate::b64;
use crate::jws::{self, Jws, JwsHeader};
use crate::key::{PublicKey, SignError, Signer};

/// The `typ` of a status list token JWT.
pub const JWT_TYP: &str = "statuslist+jwt";

/// A status value (draft §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenStatus {
    /// `0x00`: valid.
    Valid,
    /// `0x01`: invalid — revoked, for good.
    Invalid,
    /// `0x02`: suspended, may become valid again.
    Suspended,
    /// Any other value: application-specific.
    Other(u8),
}

impl TokenStatus {
    /// The value stored in the list.
    pub fn value(self) -> u8 {
        match self {
            TokenStatus::Valid => 0,
            TokenStatus::Invalid => 1,
            TokenStatus::Suspended => 2,
            TokenStatus::Other(v) => v,
        }
    }

    /// The status for a stored value.
    pub fn from_value(value: u8) -> Self {
        match value {
            0 => TokenStatus::Valid,
            1 => TokenStatus::Invalid,
            2 => TokenStatus::Suspended,
            v => TokenStatus::Other(v),
        }
    }
}

/// A Token Status List.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenStatusList {
    packed: Packed,
}

/// The JSON form `{"bits": 1, "lst": "<base64url(zlib)>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedList {
    /// Entry width.
    pub bits: u32,
    /// base64url of the ZLIB-compressed bytes.
    pub lst: String,
}

impl TokenStatusList {
    /// A list of at least `entries` valid statuses (and at least [`MIN_ENTRIES`]).
    pub fn new(bits: u32, entries: usize) -> Result<Self, StatusListError> {
        if entries < MIN_ENTRIES {
            return Err(StatusListError::TooSmall {
                len: entries,
                min: MIN_ENTRIES,
            });
        }
        Ok(TokenStatusList {
            packed: Packed::zeroed(bits, BitOrder::LsbFirst, entries)?,
        })
    }

    /// A list over raw (uncompressed) bytes.
    pub fn from_bytes(bits: u32, bytes: Vec<u8>) -> Result<Self, StatusListError> {
        Ok(TokenStatusList {
            packed: Packed::from_bytes(bits, BitOrder::LsbFirst, bytes)?,
        })
    }

    /// Entry width in bits.
    pub fn bits(&self) -> u32 {
        self.packed.bits()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.packed.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.packed.bytes()
    }

    /// The status at `index`.
    pub fn status(&self, index: usize) -> Result<TokenStatus, StatusListError> {
        self.packed.get(index).map(TokenStatus::from_value)
    }

    /// Sets the status at `index`.
    pub fn set(&mut self, index: usize, status: TokenStatus) -> Result<(), StatusListError> {
        self.packed.set(index, status.value())
    }

    /// ZLIB-compressed bytes at the best compression level.
    pub fn compress(&self) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        #[allow(clippy::expect_used)]
        encoder
            .write_all(self.as_bytes())
            .and_then(|()| encoder.finish())
            .expect("in-memory compression")
    }

    /// Decompresses a ZLIB-compressed list.
    pub fn decompress(bits: u32, compressed: &[u8]) -> Result<Self, StatusListError> {
        Self::decompress_within(bits, compressed, MAX_LIST_BYTES)
    }

    /// Decompresses a ZLIB-compressed list of at most `max` bytes, inflating no further.
    pub fn decompress_within(
        bits: u32,
        compressed: &[u8],
        max: usize,
    ) -> Result<Self, StatusListError> {
        Packed::check_width(bits)?;
        let bytes = inflate(flate2::read::ZlibDecoder::new(compressed), max)?;
        Self::from_bytes(bits, bytes)
    }

    /// The JSON encoding.
    pub fn encode(&self) -> EncodedList {
        EncodedList {
            bits: self.bits(),
            lst: b64::encode(self.compress()),
        }
    }

    /// Decodes the JSON encoding.
    pub fn decode(encoded: &EncodedList) -> Result<Self, StatusListError> {
        Self::decode_within(encoded, MAX_LIST_BYTES)
    }

    /// Decodes the JSON encoding of a list of at most `max` bytes (`max` below
    /// [`MAX_LIST_BYTES`]), refusing a larger one after inflating `max + 1` bytes of it.
    pub fn decode_within(encoded: &EncodedList, max: usize) -> Result<Self, StatusListError> {
        let compressed = b64::decode(&encoded.lst).map_err(|_| StatusListError::Encoding {
            encoding: "base64url",
        })?;
        Self::decompress_within(encoded.bits, &compressed, max.min(MAX_LIST_BYTES))
    }

    /// The CBOR encoding `{"bits": n, "lst": h'…'}`.
    pub fn to_cbor(&self) -> Vec<u8> {
        let map = ciborium::Value::Map(vec![
            ("bits".into(), self.bits().into()),
            ("lst".into(), ciborium::Value::Bytes(self.compress())),
        ]);
        let mut out = Vec::new();
        // Serializing a CBOR value into a Vec cannot fail.
        #[allow(clippy::expect_used)]
        ciborium::into_writer(&map, &mut out).expect("in-memory CBOR");
        out
    }

    /// Decodes the CBOR encoding.
    pub fn from_cbor(cbor: &[u8]) -> Result<Self, StatusListError> {
        let malformed = |reason| StatusListError::Malformed { reason };
        if cbor.len() > super::MAX_LIST_BYTES {
            return Err(StatusListError::TooLarge {
                max: super::MAX_LIST_BYTES,
            });
        }
        let value: ciborium::Value =
            ciborium::from_reader(cbor).map_err(|_| malformed("not CBOR"))?;
        let map = value.into_map().map_err(|_| malformed("not a CBOR map"))?;
        let mut bits = None;
        let mut lst = None;
        for (key, value) in map {
            match key.as_text() {
                Some("bits") => bits = value.as_integer().and_then(|i| u32::try_from(i).ok()),
                Some("lst") => lst = value.into_bytes().ok(),
                _ => {}
            }
        }
        let bits = bits.ok_or(malformed("`bits` missing or not an integer"))?;
        let lst = lst.ok_or(malformed("`lst` missing or not a byte string"))?;
        Self::decompress(bits, &lst)
    }
}

/// The claims of a status list token (draft §5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusListTokenClaims {
    /// The list's URI; credentials reference it in `status.status_list.uri`.
    pub sub: String,
    /// Issuance time.
    pub iat: i64,
    /// Expiry time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Seconds a verifier may cache the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// The list.
    pub status_list: EncodedList,
    /// Other claims (e.g. `iss`).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// Signs a status list token JWT.
pub fn sign_token(
    claims: &StatusListTokenClaims,
    kid: Option<&str>,
    signer: &dyn Signer,
) -> Result<String, SignError> {
    // Serializing strings and numbers cannot fail.
    #[allow(clippy::expect_used)]
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    jws::sign(JwsHeader::new(Some(JWT_TYP), kid), &payload, signer)
}

/// Verifies a status list token with the issuer's `key`, checks it is for `uri` and unexpired at
/// `now`, and returns its claims and decoded list.
pub fn verify_token(
    token: &str,
    key: &PublicKey,
    uri: &str,
    now: i64,
) -> Result<(StatusListTokenClaims, TokenStatusList), StatusListError> {
    verify_token_within(token, key, uri, now, super::MAX_LIST_BYTES)
}

/// [`verify_token`], inflating the list to at most `max` bytes.
pub fn verify_token_within(
    token: &str,
    key: &PublicKey,
    uri: &str,
    now: i64,
    max: usize,
) -> Result<(StatusListTokenClaims, TokenStatusList), StatusListError> {
    let jws = Jws::parse(token)?;
    jws.expect_type(JWT_TYP, &[])?;
    jws.verify(key)?;
    let claims: StatusListTokenClaims = jws.payload_json()?;
    if claims.sub != uri {
        return Err(StatusListError::SubjectMismatch {
            expected: uri.to_owned(),
            found: claims.sub,
        });
    }
    if let Some(exp) = claims.exp
        && now >= exp
    {
        return Err(StatusListError::Expired { exp });
    }
    let list = TokenStatusList::decode_within(&claims.status_list, max)?;
    Ok((claims, list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Algorithm, SecretKey};

    #[test]
    fn new_lists_meet_the_herd_size_and_round_trip() {
        assert!(matches!(
            TokenStatusList::new(1, 100),
            Err(StatusListError::TooSmall { .. })
        ));
        let mut list = TokenStatusList::new(2, MIN_ENTRIES).unwrap();
        assert_eq!(list.len(), MIN_ENTRIES);
        list.set(0, TokenStatus::Invalid).unwrap();
        list.set(77_777, TokenStatus::Suspended).unwrap();
        list.set(MIN_ENTRIES - 1, TokenStatus::Other(3)).unwrap();
        for back in [
            TokenStatusList::decode(&list.encode()).unwrap(),
            TokenStatusList::from_cbor(&list.to_cbor()).unwrap(),
        ] {
            assert_eq!(back, list);
            assert_eq!(back.status(0).unwrap(), TokenStatus::Invalid);
            assert_eq!(back.status(1).unwrap(), TokenStatus::Valid);
            assert_eq!(back.status(77_777).unwrap(), TokenStatus::Suspended);
            assert_eq!(back.status(MIN_ENTRIES - 1).unwrap(), TokenStatus::Other(3));
        }
        list.set(77_777, TokenStatus::Valid).unwrap();
        assert_eq!(list.status(77_777).unwrap(), TokenStatus::Valid);
    }

    #[test]
    fn zip_bombs_and_garbage_are_refused() {
        let zeros =
            TokenStatusList::from_bytes(8, vec![0; super::super::MAX_LIST_BYTES + 1]).unwrap();
        let bomb = zeros.encode();
        assert!(bomb.lst.len() < 100_000);
        assert_eq!(
            TokenStatusList::decode(&bomb),
            Err(StatusListError::TooLarge {
                max: super::super::MAX_LIST_BYTES
            })
        );
        // A caller's tighter bound is the bound; a looser one is not.
        let small = TokenStatusList::new(1, MIN_ENTRIES).unwrap().encode();
        assert_eq!(
            TokenStatusList::decode_within(&small, MIN_ENTRIES / 8 - 1),
            Err(StatusListError::TooLarge {
                max: MIN_ENTRIES / 8 - 1
            })
        );
        assert!(TokenStatusList::decode_within(&small, MIN_ENTRIES / 8).is_ok());
        assert_eq!(
            TokenStatusList::decode_within(&bomb, usize::MAX),
            Err(StatusListError::TooLarge {
                max: super::super::MAX_LIST_BYTES
            })
        );
        assert_eq!(
            TokenStatusList::decode(&EncodedList {
                bits: 1,
                lst: "eNo=".into()
            }),
            Err(StatusListError::Encoding {
                encoding: "base64url"
            })
        );
        assert_eq!(
            TokenStatusList::decode(&EncodedList {
                bits: 1,
                lst: "AAAA".into()
            }),
            Err(StatusListError::Compression)
        );
        assert!(matches!(
            TokenStatusList::from_cbor(b"\xa1\x64bits\x01"),
            Err(StatusListError::Malformed { .. })
        ));
        assert!(matches!(
            TokenStatusList::from_cbor(b"\xff\x00"),
            Err(StatusListError::Malformed { .. })
        ));
    }

    #[test]
    fn signed_token_round_trip_and_rejections() {
        let key = SecretKey::generate(Algorithm::Es256).unwrap();
        let mut list = TokenStatusList::new(2, MIN_ENTRIES).unwrap();
        list.set(5, TokenStatus::Invalid).unwrap();
        let claims = StatusListTokenClaims {
            sub: "https://issuer.example/status/1".into(),
            iat: 1_000,
            exp: Some(2_000),
            ttl: Some(300),
            status_list: list.encode(),
            extra: Default::default(),
        };
        let token = sign_token(&claims, Some("k"), &key).unwrap();
        let (back, decoded) = verify_token(&token, key.public_key(), &claims.sub, 1_500).unwrap();
        assert_eq!(back, claims);
        assert_eq!(decoded.status(5).unwrap(), TokenStatus::Invalid);
        assert!(matches!(
            verify_token(&token, key.public_key(), "https://other", 1_500),
            Err(StatusListError::SubjectMismatch { .. })
        ));
        assert_eq!(
            verify_token(&token, key.public_key(), &claims.sub, 2_000).unwrap_err(),
            StatusListError::Expired { exp: 2_000 }
        );
        let other = SecretKey::generate(Algorithm::Es256).unwrap();
        assert_eq!(
            verify_token(&token, other.public_key(), &claims.sub, 1_500).unwrap_err(),
            StatusListError::Jws(crate::jws::JwsError::SignatureInvalid)
        );
    }
}
