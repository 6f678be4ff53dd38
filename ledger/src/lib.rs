//! `dojang-ledger`: the minimal verifiable ledger as data — what the registry writes, and what
//! issuers and verifiers (on a server or a phone) read and check, with no storage or network.
//!
//! - [`merkle`]: an append-only Merkle log with RFC 9162 hashing, inclusion and consistency
//!   proofs;
//! - [`note`] and [`checkpoint`]: checkpoints in C2SP `tlog-checkpoint` form, signed as
//!   `signed-note`, with witness cosignatures;
//! - [`did`]: the `did:dojang` method — identifiers and the documents entries carry;
//! - [`entry`]: the signed operations — `did:dojang` DID operations with key history,
//!   accreditation of issuers for credential types, status list publications, audit events;
//! - [`state`]: what those entries define, applied by the same code in the registry and every
//!   verifier;
//! - [`lists`]: issuers' roots over their status lists, and the patches deltas carry;
//! - [`bundle`]: the signed trust bundle verifiers carry offline, and its deltas;
//! - [`api`]: the registry's API as types, and the [`api::Ledger`] trait issuers and verifiers
//!   reach it through; with feature `client`, `client::RegistryClient` speaks it over HTTP.
//!
//! The registry (`dojang-registry`) stores and serves this ledger.
#![forbid(unsafe_code)]

pub mod api;
pub mod bundle;
pub mod checkpoint;
#[cfg(feature = "client")]
pub mod client;
pub mod did;
pub mod entry;
pub mod lists;
pub mod merkle;
pub mod note;
pub mod state;
