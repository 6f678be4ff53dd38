//! `dojang-registry`: the server of the minimal verifiable ledger ([`dojang_ledger`]). It
//! stores the log with sqlx on SQLite (embedded) or PostgreSQL ([`store`]), sequences entries
//! and signs checkpoints ([`service`], with its one appending task in `sequencer`), rations
//! open appends ([`admission`]), serves the HTTP API and trust bundles ([`http`]), runs
//! witnesses ([`witness`]) and collects their cosignatures (`cosign`). In the same process as
//! an issuer, a [`Registry`](service::Registry) is the issuer's
//! [`Ledger`](dojang_ledger::api::Ledger) (`local`), with no HTTP between them.
//!
//! Verifiers and issuers depend on the ledger's types, never on this crate.
#![forbid(unsafe_code)]

pub mod admission;
mod cosign;
pub mod http;
mod lists;
mod local;
mod sequencer;
pub mod service;
pub mod store;
pub mod witness;
