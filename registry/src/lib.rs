//! `dojang-registry`: the minimal verifiable ledger.
//!
//! It will own an append-only Merkle log with RFC 9162 hashing, checkpoints in C2SP
//! `tlog-checkpoint` form signed as `signed-note`, witness cosignatures, and the entries that
//! give offline verification its trust: `did:dojang` DID operations with key history,
//! accreditation of issuers for credential types, status list publications and audit events.
//! It exports the signed trust bundle verifiers carry offline, and stores its log with sqlx on
//! SQLite (embedded) or PostgreSQL.
//!
//! Verifiers and issuers depend only on this crate's *types* (proofs, checkpoints, bundles),
//! never on its storage.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod checkpoint;
pub mod entry;
pub mod merkle;
pub mod note;
pub mod rate;
pub mod state;

#[cfg(feature = "server")]
pub mod admission;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod witness;
