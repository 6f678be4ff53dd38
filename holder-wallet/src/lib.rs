//! `dojang-wallet`: the holder's library a mobile wallet embeds (to be built in the wallet issue).
//!
//! It will own an encrypted credential store (Argon2id-derived key, XChaCha20-Poly1305), holder
//! keys with one key per credential by default, an OpenID4VCI client, selective-disclosure
//! presentations (online SD-JWT VC with key binding, offline compact QR), and encrypted
//! backup and restore. It depends on `dojang-core` only: a wallet works without any server of
//! ours.
#![forbid(unsafe_code)]
