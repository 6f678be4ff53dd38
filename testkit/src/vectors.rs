//! Locating the shared public test vectors (`../shared/vectors` beside the repository).

use std::path::PathBuf;

/// `$DOJANG_VECTORS_DIR`, or `../shared/vectors` beside the repository. `None` (after saying
/// the test `test` skipped) when absent, so a test can skip — except under `CI`, which always
/// has them.
pub fn vectors_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("DOJANG_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: CI must have the test vectors at {}",
        dir.display()
    );
    println!(
        "{test}: skipped, no test vectors at {} (set DOJANG_VECTORS_DIR)",
        dir.display()
    );
    None
}
