//! Credential status: W3C Bitstring Status List v1.0 ([`bitstring`]) and IETF Token Status List
//! ([`token`]), plus random index allocation ([`IndexAllocator`]).
//!
//! Both formats are a compressed array of fixed-width entries, one per credential; a verifier
//! holding the list learns a credential's status without telling the issuer which credential
//! it is checking. The two differ in the details that matter for interop:
//!
//! | | W3C Bitstring | IETF Token Status List |
//! |---|---|---|
//! | bit order in a byte | index 0 is the **most** significant bit | index 0 is the **least** significant bits |
//! | entry width | `statusSize` bits, 1 by default | `bits` ∈ {1, 2, 4, 8} |
//! | compression | GZIP, then multibase base64url (`u…`) | ZLIB (DEFLATE), then base64url |
//! | values | one list per purpose (`revocation`, `suspension`) | one list: 0 valid, 1 invalid, 2 suspended |
//!
//! Lists hold at least [`MIN_ENTRIES`] entries and indices are drawn at random, so the position
//! of one credential says nothing about when it was issued or to whom (herd privacy).

pub mod bitstring;
pub mod token;

mod alloc;
mod packed;

pub use alloc::IndexAllocator;
pub use packed::BitOrder;

use serde::{Deserialize, Serialize};

/// The smallest list dojang creates: 131,072 entries (16 KiB at one bit each), the herd size
/// the W3C specification requires.
pub const MIN_ENTRIES: usize = 131_072;

/// Largest decompressed list accepted, in bytes (16 MiB: 134 million one-bit entries).
pub const MAX_LIST_BYTES: usize = 16 << 20;

/// Why a status list could not be built, decoded or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    /// Entry width not supported by the format.
    #[error("unsupported entry width of {bits} bits")]
    UnsupportedWidth {
        /// The width given.
        bits: u32,
    },
    /// The index is past the end of the list.
    #[error("index {index} is outside the list of {len} entries")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// Entries in the list.
        len: usize,
    },
    /// The value does not fit in an entry.
    #[error("value {value} does not fit in {bits} bits")]
    ValueTooLarge {
        /// The value.
        value: u8,
        /// The entry width.
        bits: u32,
    },
    /// The encoded list is not valid base64url / multibase.
    #[error("status list is not valid {encoding}")]
    Encoding {
        /// The expected encoding.
        encoding: &'static str,
    },
    /// The compressed list does not decompress.
    #[error("status list does not decompress")]
    Compression,
    /// The decompressed list is larger than [`MAX_LIST_BYTES`].
    #[error("status list decompresses to more than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The list is smaller than the minimum herd size.
    #[error("status list has {len} entries, fewer than the {min} required")]
    TooSmall {
        /// Entries in the list.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// The status list token's signature or structure was rejected.
    #[error("status list token: {0}")]
    Jws(#[from] crate::jws::JwsError),
    /// The status list token is for another list than the one referenced.
    #[error("status list token is for `{found}`, expected `{expected}`")]
    SubjectMismatch {
        /// The URI the credential references.
        expected: String,
        /// The token's `sub`.
        found: String,
    },
    /// The status list token has expired.
    #[error("status list token expired at {exp}")]
    Expired {
        /// The token's `exp`.
        exp: i64,
    },
    /// The document around the list (JSON, CBOR, JWT claims) is malformed.
    #[error("malformed status list document: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
}

/// The `status_list` reference a credential carries (IETF Token Status List §6.1):
/// `"status": {"status_list": {"idx": 7, "uri": "https://…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusListReference {
    /// The credential's index in the list.
    pub idx: u64,
    /// Where the status list token is published.
    pub uri: String,
}

/// The `status` claim wrapper around a [`StatusListReference`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusClaim {
    /// The Token Status List reference.
    pub status_list: StatusListReference,
}
