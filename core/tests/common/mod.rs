//! Locating the shared public test vectors.

use std::path::PathBuf;

/// `$DOJANG_VECTORS_DIR`, or `../shared/vectors` beside the repository. `None` (after saying
/// so) when absent, so a test can skip; CI always has them.
pub(crate) fn vectors_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("DOJANG_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "{test}: skipped, no test vectors at {} (set DOJANG_VECTORS_DIR)",
            dir.display()
        );
        None
    }
}
