//! `dojang-issuer`: the service a ministry or city office runs to issue credentials to citizens
//! and to withdraw them.
//!
//! - **Issuers** are hosted by one service: each has a `did:dojang` registered on the registry,
//!   an ES256 key sealed at rest (and used through `dojang_core::Signer`), and accreditation
//!   for its credential types granted on the registry by the root authority. Issuance of a type
//!   the registry does not list for the issuer is refused.
//! - **Issuance** follows OpenID4VCI 1.0 with the pre-authorized code flow: an operator creates
//!   an offer (claims validated against the type's schema; shown as a QR code, with a
//!   transaction code given separately), the wallet exchanges the code for a token, fetches a
//!   `c_nonce`, and proves possession of its key to receive an SD-JWT VC bound to it.
//! - **Status**: every credential gets a random, unique index in a 2-bit Token Status List of
//!   at least 131,072 entries. Revoking, suspending and unsuspending publish a new signed
//!   version of the list to the registry, whose URL the credential carries; if the registry
//!   refuses it, nothing changes; if its answer is lost, the same entry is sent again, and a
//!   registry that is ahead is reconciled with (a revocation is never undone).
//! - **Operators** hold opaque bearer tokens (`dojang_…`, 256 bits, only a SHA-256 stored),
//!   scoped to one issuer and a set of types: an operator of one ministry cannot see, suspend
//!   or revoke another's credentials.
//! - **Data minimisation**: offers keep their claims sealed only until issued; a credential's
//!   record keeps its type, status index and a keyed hash of a subject reference — not its
//!   claims, unless configured to.
//! - **Audit**: every issuance and status change is recorded, and anchored in the registry as
//!   counts by action, type and reason — no personal data.
#![forbid(unsafe_code)]

pub mod batch;
pub mod db;
pub mod http;
pub mod ledger;
pub mod service;

pub use ledger::LedgerView;
pub use service::{IssuerConfig, IssuerService};
