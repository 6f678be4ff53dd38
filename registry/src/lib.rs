//! `dojang-registry`: the server of the minimal verifiable ledger ([`dojang_ledger`]). It
//! stores the log with sqlx on SQLite (embedded) or PostgreSQL ([`store`]), sequences entries
//! and signs checkpoints ([`service`]), rations open appends ([`admission`]), serves the HTTP
//! API and trust bundles ([`http`]), and runs witnesses ([`witness`]).
//!
//! Verifiers and issuers depend on the ledger's types, never on this crate.
#![forbid(unsafe_code)]

pub mod admission;
pub mod http;
pub mod service;
pub mod store;
pub mod witness;
