//! W3C Bitstring Status List v1.0: one bit (or `statusSize` bits) per credential, most
//! significant bit first, GZIP-compressed and multibase base64url-encoded (`u…`), published in a
//! `BitstringStatusListCredential`.

use std::io::Write as _;

use serde::{Deserialize, Serialize};

use super::packed::{BitOrder, Packed, inflate};
use super::{MAX_LIST_BYTES, MIN_ENTRIES, StatusListError};
use crate::b64;

/// What a set bit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    /// Set: revoked, permanently.
    Revocation,
    /// Set: suspended, reversibly.
    Suspension,
}

impl StatusPurpose {
    /// The `statusPurpose` string.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }
}

/// A Bitstring Status List.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitstringStatusList {
    packed: Packed,
}

impl BitstringStatusList {
    /// A list of at least `entries` one-bit entries, all clear (and at least [`MIN_ENTRIES`]).
    pub fn new(entries: usize) -> Result<Self, StatusListError> {
        if entries < MIN_ENTRIES {
            return Err(StatusListError::TooSmall {
                len: entries,
                min: MIN_ENTRIES,
            });
        }
        Ok(BitstringStatusList {
            packed: Packed::zeroed(1, BitOrder::MsbFirst, entries)?,
        })
    }

    /// A list over raw (uncompressed) bytes with `status_size`-bit entries.
    pub fn from_bytes(status_size: u32, bytes: Vec<u8>) -> Result<Self, StatusListError> {
        Ok(BitstringStatusList {
            packed: Packed::from_bytes(status_size, BitOrder::MsbFirst, bytes)?,
        })
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

    /// The entry at `index` (for one-bit lists: 1 means the purpose applies).
    pub fn get(&self, index: usize) -> Result<u8, StatusListError> {
        self.packed.get(index)
    }

    /// Whether the entry at `index` is non-zero.
    pub fn is_set(&self, index: usize) -> Result<bool, StatusListError> {
        Ok(self.get(index)? != 0)
    }

    /// Sets the entry at `index`.
    pub fn set(&mut self, index: usize, value: u8) -> Result<(), StatusListError> {
        self.packed.set(index, value)
    }

    /// The `encodedList` value: `u` + base64url(GZIP(bytes)).
    pub fn encode(&self) -> String {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        #[allow(clippy::expect_used)]
        let compressed = encoder
            .write_all(self.as_bytes())
            .and_then(|()| encoder.finish())
            .expect("in-memory compression");
        format!("u{}", b64::encode(compressed))
    }

    /// Decodes an `encodedList` value with `status_size`-bit entries.
    pub fn decode(encoded: &str, status_size: u32) -> Result<Self, StatusListError> {
        Packed::check_width(status_size)?;
        let encoding = StatusListError::Encoding {
            encoding: "multibase base64url",
        };
        let body = encoded.strip_prefix('u').ok_or(encoding.clone())?;
        let compressed = b64::decode(body).map_err(|_| encoding)?;
        let bytes = inflate(
            flate2::read::GzDecoder::new(compressed.as_slice()),
            MAX_LIST_BYTES,
        )?;
        Self::from_bytes(status_size, bytes)
    }
}

/// A `credentialStatus` entry of type `BitstringStatusListEntry`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BitstringStatusListEntry {
    /// Optional id of this entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Always `BitstringStatusListEntry`.
    #[serde(rename = "type")]
    pub type_: String,
    /// What a set bit means.
    pub status_purpose: StatusPurpose,
    /// The index, as a decimal string (as the specification requires).
    pub status_list_index: String,
    /// URL of the `BitstringStatusListCredential`.
    pub status_list_credential: String,
}

impl BitstringStatusListEntry {
    /// An entry for `index` in the list published at `credential_url`.
    pub fn new(purpose: StatusPurpose, index: usize, credential_url: &str) -> Self {
        BitstringStatusListEntry {
            id: Some(format!("{credential_url}#{index}")),
            type_: "BitstringStatusListEntry".to_owned(),
            status_purpose: purpose,
            status_list_index: index.to_string(),
            status_list_credential: credential_url.to_owned(),
        }
    }

    /// The index as a number.
    pub fn index(&self) -> Result<usize, StatusListError> {
        self.status_list_index
            .parse()
            .map_err(|_| StatusListError::Malformed {
                reason: "statusListIndex is not a decimal integer",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msb_first_and_round_trip() {
        let mut list = BitstringStatusList::new(MIN_ENTRIES).unwrap();
        assert_eq!(list.as_bytes().len(), 16 * 1024);
        list.set(0, 1).unwrap();
        list.set(9, 1).unwrap();
        assert_eq!(&list.as_bytes()[..2], [0b1000_0000, 0b0100_0000]);
        let encoded = list.encode();
        assert!(
            encoded.starts_with("uH4sI"),
            "multibase u + base64url of the gzip magic"
        );
        let back = BitstringStatusList::decode(&encoded, 1).unwrap();
        assert_eq!(back, list);
        assert!(back.is_set(9).unwrap());
        assert!(!back.is_set(10).unwrap());
        assert!(matches!(
            back.is_set(MIN_ENTRIES),
            Err(StatusListError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn spec_example_decodes() {
        // W3C Bitstring Status List v1.0, Example 2: an empty list of 131,072 entries.
        let list = BitstringStatusList::decode(
            "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
            1,
        )
        .unwrap();
        assert_eq!(list.len(), MIN_ENTRIES);
        assert!((0..list.len()).all(|i| !list.is_set(i).unwrap()));
    }

    #[test]
    fn bad_encodings_are_typed() {
        assert!(matches!(
            BitstringStatusList::decode("H4sI", 1),
            Err(StatusListError::Encoding { .. })
        ));
        assert!(matches!(
            BitstringStatusList::decode("uAAAA", 1),
            Err(StatusListError::Compression)
        ));
        assert_eq!(
            BitstringStatusListEntry::new(StatusPurpose::Suspension, 42, "https://x/1").index(),
            Ok(42)
        );
        let entry: BitstringStatusListEntry = serde_json::from_value(serde_json::json!({
            "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": "x", "statusListCredential": "https://x/1"
        }))
        .unwrap();
        assert!(matches!(
            entry.index(),
            Err(StatusListError::Malformed { .. })
        ));
    }
}
