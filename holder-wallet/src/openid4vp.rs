//! Answering OpenID4VP requests.
