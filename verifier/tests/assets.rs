//! The pages' QR decoder is npm's `jsqr`, vendored into `src/page/assets/` (so the pages work
//! with no CDN and, once loaded, no network): the copy must be the locked package's file, byte
//! for byte. `npm run vendor` in `tests/browser` refreshes it.
//!
//! Needs `npm ci` in `tests/browser` (`.ci/run` does it); without it the test says it skipped —
//! except under `CI`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn the_vendored_qr_decoder_is_the_locked_npm_package() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser = root.join("tests/browser");
    let npm = browser.join("node_modules/jsqr/dist/jsQR.js");
    if !npm.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must check the vendored decoder: run `npm ci` in {}",
            browser.display()
        );
        println!(
            "skipped: npm packages not installed in {}",
            browser.display()
        );
        return;
    }
    let vendored = std::fs::read(root.join("src/page/assets/jsQR.js")).unwrap();
    assert!(
        vendored == std::fs::read(&npm).unwrap(),
        "src/page/assets/jsQR.js differs from the npm package: run `npm run vendor` in {}",
        browser.display()
    );
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(browser.join("package-lock.json")).unwrap()).unwrap();
    let locked = &lock["packages"]["node_modules/jsqr"];
    assert!(
        locked["integrity"]
            .as_str()
            .is_some_and(|i| i.starts_with("sha512-")),
        "{locked}"
    );
    let package: serde_json::Value = serde_json::from_slice(
        &std::fs::read(browser.join("node_modules/jsqr/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(package["version"], locked["version"]);
}
