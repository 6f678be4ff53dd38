//! `dojang-core`: the domain types and cryptography every dojang role shares.
//!
//! This crate owns the formats that cross the wire between issuers, holders, verifiers and the
//! registry, so that each role can be built, tested and reasoned about without the others:
//!
//! - [`key`]: ES256 (P-256) and EdDSA (Ed25519) keys behind the [`Signer`] and [`Verifier`]
//!   traits, as JWK ([`jwk`]) and multibase ([`multikey`]). Secret material is zeroized.
//! - [`did`]: a parsed [`Did`] type, DID documents, and offline resolution of `did:key` and
//!   `did:jwk`.
//! - [`jws`]: compact JWS with a closed list of algorithms (`none`, HMAC and unknown algorithms
//!   are typed errors, never a code path).
//! - [`sd_jwt`]: SD-JWT issuance, presentation with a Key Binding JWT, and verification, plus the
//!   SD-JWT VC profile on top.
//! - [`compact`]: the compact offline credential (SD-CWT style, COSE/CBOR) and its holder-bound
//!   QR presentation (base45).
//! - [`credential`]: the W3C Verifiable Credentials Data Model 2.0 credential and presentation.
//! - [`oid4vci`], [`oid4vp`]: the OpenID4VCI and OpenID4VP messages issuers, wallets and
//!   verifiers exchange.
//! - [`status`]: W3C Bitstring Status List and IETF Token Status List, and random index
//!   allocation for herd privacy.
//! - [`verdict`]: the structured result of a verification, with stable reason codes.
//!
//! # Why no I/O here
//!
//! Everything in this crate is a pure function of its inputs, including the clock: functions
//! that care about time take `now` as a Unix timestamp. That keeps verification reproducible in
//! tests, usable offline by a verifier with nothing but a trust bundle, and cheap to benchmark.
//! Fetching (DID resolution over the network, status list downloads, databases) lives in the
//! service crates.
//!
//! # Why our own SD-JWT instead of `ssi`'s
//!
//! SpruceID's `ssi` does SD-JWT well, and our test suite proves interoperability with it in both
//! directions. But its verification path goes through generic claim machinery and pure-Rust
//! P-256, which costs about 210 µs per credential on the reference machine; the verifier's
//! budget for a whole presentation (two signatures) is 100 µs. This crate keeps parsing
//! single-pass and uses `aws-lc-rs` for signatures, with parsed public keys cached by callers.
#![forbid(unsafe_code)]

pub mod b64;
pub mod clock;
pub mod compact;
pub mod credential;
pub mod did;
pub mod i18n;
pub mod jwk;
pub mod jws;
pub mod key;
pub mod multikey;
pub mod oid4vci;
pub mod oid4vp;
#[cfg(feature = "qr")]
pub mod qr;
pub mod rate;
pub mod sd_jwt;
pub mod seal;
pub mod status;
pub mod verdict;

pub use did::{Did, DidDocument, DidUrl};
pub use i18n::Lang;
pub use jwk::Jwk;
pub use key::{Algorithm, PublicKey, SecretKey, Signer, Verifier};
pub use verdict::{Decision, ReasonCode, Verdict};

/// Largest input any parser in this crate accepts, in bytes (1 MiB).
///
/// Credentials, presentations and DID documents are a few kilobytes; anything near this size is
/// an attack or a mistake, and is refused before it is decoded or allocated further.
pub const MAX_INPUT_LEN: usize = 1 << 20;
