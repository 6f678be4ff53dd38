//! `dojang-fuzz`: one harness per entry point where bytes from strangers enter dojang.
//!
//! Each harness is `pub fn <name>(data: &[u8])`: it feeds the bytes to dojang's parsers and
//! verifiers, must never panic or hang on any input, and asserts what must hold whatever the
//! input (encodings round trip, what verifies once verifies again, a refused entry changes
//! nothing). Two drivers call them:
//!
//! - `fuzz/libfuzzer/` (cargo-fuzz, nightly, not a workspace member): one libFuzzer target per
//!   harness, seeded from `fuzz/corpus/<name>/`;
//! - `fuzz/tests/smoke.rs` (stable, part of `cargo test --workspace`): every seed, then a few
//!   thousand deterministic mutations of them, through every harness.
//!
//! # Why the harnesses sign what they fuzz
//!
//! Nearly every input dojang reads is signed, and a fuzzer cannot forge signatures: mutated
//! bytes stop at the first signature check, and everything behind it goes untested. So where a
//! signature would stop the fuzzer at the door, the harness treats the fuzzed bytes as what is
//! *inside* the signature — claims, disclosures, protected headers, entries, bundle documents
//! — and signs them with the fixed keys of a small fixed [`world`] (a ledger, its trust
//! bundle, issuers and holders), then hands the signed whole to the verifier. [`craft`] holds
//! the conventions (separators, `$n` digest markers, spliced CBOR).
//!
//! # Why a library
//!
//! libFuzzer needs nightly; the harnesses do not. Keeping them in a stable workspace crate
//! keeps them compiling and clippy-clean with the code they test, lets the smoke test replay
//! the corpus on every `cargo test`, and leaves the cargo-fuzz project a thin shell.
#![forbid(unsafe_code)]

pub mod craft;
pub mod world;

mod compact;
mod jose;
mod mdoc;
mod openid;
mod registry;
mod sd_jwt;
mod status;
mod verifier;

pub use compact::{cbor, cose_sign1, qr_text};
pub use jose::jose;
pub use mdoc::mdoc;
pub use openid::openid;
pub use registry::{ledger, note_checkpoint, trust_bundle};
pub use sd_jwt::sd_jwt;
pub use status::status_list;
pub use verifier::{qr_image, verifier, with_contained_panics};

/// A harness.
pub type Harness = fn(&[u8]);

/// Every harness by name (its corpus is `fuzz/corpus/<name>/`, its libFuzzer target
/// `fuzz/libfuzzer/fuzz_targets/<name>.rs`).
pub const TARGETS: [(&str, Harness); 13] = [
    ("qr_text", qr_text),
    ("cbor", cbor),
    ("cose_sign1", cose_sign1),
    ("sd_jwt", sd_jwt),
    ("jose", jose),
    ("status_list", status_list),
    ("openid", openid),
    ("note_checkpoint", note_checkpoint),
    ("trust_bundle", trust_bundle),
    ("ledger", ledger),
    ("qr_image", qr_image),
    ("verifier", verifier),
    ("mdoc", mdoc),
];

/// The seeds of `target`, by file name, for the harnesses' own tests: what dojang made, not
/// the findings kept beside them (`finding-*`, inputs that once crashed, replayed by the smoke
/// test).
#[cfg(test)]
pub(crate) fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(path).unwrap())
        })
        .filter(|(name, _)| !name.starts_with("finding-"))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds for {target}");
    seeds
}
