//! The verifier's HTTP face over [`VerifierService`]: the employer page, verification of
//! uploads, challenge QR codes, the trust bundle's freshness and refresh, an OpenID4VP verifier
//! endpoint, and the OpenAPI document of them all ([`ApiDoc`], served at `/openapi.json`).
//!
//! `app` is mounted at `/` by `dojang verifier serve` and nested under `/verifier` by
//! `dojang up`; the page uses relative URLs, so both work.
//!
//! Handlers only read the request, call the service and map its answer: a
//! [`ServiceError`](crate::service::ServiceError) becomes an [`ApiError`], `{"error": "<code>",
//! "message": "…"}` with the variant's status. What an extractor could not read is answered
//! with its status and what was expected, never with axum's own text (it quotes the request).
//!
//! Every answer for people is in the reader's language ([`lang`]): the page, verdicts (reason
//! messages from [`ReasonCode::message`](dojang_core::ReasonCode::message), the type's name and
//! claim labels from its Type Metadata) and error messages.

mod error;
pub mod lang;
mod routes;

pub use error::ApiError;
pub use routes::{ApiDoc, CSP, app, asset, page, type_metadata};
