//! `dojang-issuer`: the service a ministry or city office runs (to be built in the issuer issue).
//!
//! It will own issuance of the credential types in `dojang-schemas` over OpenID4VCI
//! (pre-authorized code flow), batch issuance, revocation and suspension through status lists
//! published to the registry, operator accounts and scoped API tokens, an audit trail, and
//! issuer keys encrypted at rest behind `dojang_core::Signer`. It keeps only what revocation
//! needs, not citizens' claim sets.
#![forbid(unsafe_code)]
