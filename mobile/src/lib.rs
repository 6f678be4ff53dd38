//! `dojang-mobile`: the dojang SDK for phone apps, exported with UniFFI to Kotlin, Swift and
//! Python (`mobile/generate.sh`; docs/mobile.md).
//!
//! A thin layer over the libraries: [`DojangWallet`] is `dojang-wallet` (receive over
//! OpenID4VCI, list and show with labels in Korean and English, present as QR or over
//! OpenID4VP, status, history, backup), with holder keys in the phone's secure hardware through
//! a [`KeyVault`] the app implements; [`OfflineVerifier`] is `dojang-verifier` without its
//! server (a trust bundle from bytes, deltas, verdicts). Nothing here decides anything about a
//! credential; it converts between the libraries' types and records every language can carry.
//!
//! Calls that do I/O are `async` (Kotlin `suspend`, Swift `async`, Python coroutines) and run on
//! the SDK's own small tokio runtime, so the app's threads only wait. Verification is CPU work
//! with no I/O: it is synchronous, for the app to call off its main thread. Errors are one
//! exception type, [`DojangError`], whose variants carry a stable `code` and a message in
//! Korean and English.

uniffi::setup_scaffolding!();

mod display;
mod error;
mod vault;
mod verifier;
mod wallet;

pub use display::{ClaimView, ValueKind};
pub use error::DojangError;
pub use vault::{KeyVault, VaultError, VaultKey};
pub use verifier::{
    Challenge, Decision, FreshnessRecord, OfflineVerifier, ReasonRecord, VerdictRecord,
    native_verify_loop,
};
pub use wallet::{
    CredentialRecord, DisclosurePreview, DojangWallet, HistoryRecord, QrPresentation,
    create_wallet, open_wallet,
};

use std::future::Future;
use std::sync::LazyLock;

/// The SDK's runtime: two worker threads for the wallet's database and network work.
static RUNTIME: LazyLock<Result<tokio::runtime::Runtime, String>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("dojang-sdk")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
});

/// Runs `work` on the SDK's runtime and waits for it: the caller's thread (a coroutine, a Swift
/// task, Python's event loop) awaits without needing a tokio reactor of its own.
async fn on_runtime<T, F>(work: F) -> Result<T, DojangError>
where
    F: Future<Output = Result<T, DojangError>> + Send + 'static,
    T: Send + 'static,
{
    let runtime = RUNTIME
        .as_ref()
        .map_err(|e| DojangError::internal(format!("the SDK's runtime did not start: {e}")))?;
    runtime
        .spawn(work)
        .await
        .map_err(|e| DojangError::internal(format!("an SDK task failed: {e}")))?
}
