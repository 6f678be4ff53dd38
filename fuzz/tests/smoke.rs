//! Every fuzz target, briefly, on stable: its whole seed corpus (`fuzz/corpus/<target>/`, which
//! also keeps minimized findings), then deterministic mutations of it — bit flips, byte
//! overwrites, truncations, insertions, deletions, duplications and splices, from a seeded
//! xorshift — through the harness. A panic fails the test with the input saved under
//! `target/fuzz-smoke/`; an input that runs longer than [`HANG`] fails it too.
//!
//! Libfuzzer runs find new inputs; this test makes sure that what was found once stays fixed.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dojang_fuzz::{Harness, TARGETS};

/// Longest an input may run before the test calls it a hang (debug build, shared CI cores).
const HANG: Duration = Duration::from_secs(30);

/// Mutated inputs per target, by what one costs in a debug build (the whole test takes about
/// 15 s of CPU on a 2020s laptop core; tests run in parallel), times `DOJANG_FUZZ_SMOKE_SCALE`
/// (default 1; CI runs the test again at 4: the first inputs are the same, the rest new).
fn mutations(target: &str) -> usize {
    let scale = std::env::var("DOJANG_FUZZ_SMOKE_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    scale
        * match target {
            // Image decoding and QR detection: ~15 ms an input.
            "qr_image" => 400,
            // JSON-LD and RDF canonicalization (Data Integrity), images, every format.
            "verifier" => 1500,
            // Whole ledgers replayed: tens of signatures an input.
            "trust_bundle" | "ledger" | "openid" => 3000,
            _ => 5000,
        }
}

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A byte that is often one parsers care about.
    fn byte(&mut self) -> u8 {
        const INTERESTING: &[u8] = b"\x00\x01\x7f\x80\xff{}[]\":,~.$#\n 0123456789-+eE/=_%\\";
        match self.below(3) {
            0 => INTERESTING[self.below(INTERESTING.len())],
            _ => self.next() as u8,
        }
    }
}

/// One to four mutations of `input`, some splicing in part of `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        let at = rng.below(len + 1);
        match rng.below(8) {
            0 if len > 0 => {
                let bit = rng.below(8);
                out[at.min(len - 1)] ^= 1 << bit;
            }
            1 if len > 0 => {
                let byte = rng.byte();
                out[at.min(len - 1)] = byte;
            }
            2 => out.truncate(at),
            3 => {
                let count = 1 + rng.below(8);
                for _ in 0..count {
                    let byte = rng.byte();
                    out.insert(at, byte);
                }
            }
            4 if at < len => {
                let end = (at + 1 + rng.below(32)).min(len);
                out.drain(at..end);
            }
            5 if at < len => {
                let end = (at + 1 + rng.below(64)).min(len);
                let chunk = out[at..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, chunk);
            }
            6 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                // Overwrite a run with one repeated byte (lengths, counts, padding).
                let byte = rng.byte();
                let end = (at + rng.below(8)).min(len);
                out[at..end].fill(byte);
            }
        }
    }
    out
}

/// Runs `inputs` through `harness` on a worker thread, failing on a panic or a hang.
fn run(target: &'static str, harness: Harness, inputs: Vec<(String, Vec<u8>)>) -> Duration {
    let (done, progress) = mpsc::channel::<Result<(), (String, Vec<u8>)>>();
    let count = inputs.len();
    let started = Instant::now();
    let worker = std::thread::Builder::new()
        .name(format!("smoke-{target}"))
        .spawn(move || {
            for (name, input) in inputs {
                let input = std::panic::AssertUnwindSafe(input);
                let outcome = std::panic::catch_unwind(|| harness(&input));
                let report = outcome.map_err(|_| (name, input.0.clone()));
                let failed = report.is_err();
                if done.send(report).is_err() || failed {
                    return;
                }
            }
        })
        .unwrap();
    for _ in 0..count {
        match progress.recv_timeout(HANG) {
            Ok(Ok(())) => {}
            Ok(Err((name, input))) => {
                let path = save(target, &input);
                panic!(
                    "{target} panicked on {name} (saved to {}; replay it with the fuzz target)",
                    path.display()
                );
            }
            Err(_) => panic!("{target} ran longer than {HANG:?} on one input (or died)"),
        }
    }
    worker.join().unwrap();
    started.elapsed()
}

fn save(target: &str, input: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/fuzz-smoke")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("crash-{:016x}", fnv(input)));
    std::fs::write(&path, input).unwrap();
    path
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn smoke(target: &'static str) {
    let harness = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, harness)| *harness)
        .unwrap();
    let seeds = corpus(target);
    let mut rng = Rng(fnv(target.as_bytes()) | 1);
    let mut inputs = seeds.clone();
    for i in 0..mutations(target) {
        let (name, seed) = &seeds[rng.below(seeds.len())];
        let (_, other) = &seeds[rng.below(seeds.len())];
        inputs.push((
            format!("mutation {i} of {name}"),
            mutate(&mut rng, seed, other),
        ));
    }
    let count = inputs.len();
    let elapsed = run(target, harness, inputs);
    println!("{target}: {count} inputs in {elapsed:.1?}");
}

macro_rules! smoke_tests {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                smoke(stringify!($target));
            }
        )*

        #[test]
        fn every_target_has_a_smoke_test() {
            let covered = [$(stringify!($target)),*];
            for (target, _) in TARGETS {
                assert!(covered.contains(&target), "no smoke test for {target}");
            }
        }
    };
}

smoke_tests!(
    qr_text,
    cbor,
    cose_sign1,
    sd_jwt,
    jose,
    status_list,
    openid,
    note_checkpoint,
    trust_bundle,
    ledger,
    qr_image,
    verifier,
    mdoc,
);

/// Two inputs on which `ssi`'s dependencies panic (an `xsd-types` date with a one-digit
/// year; an issuer id percent-encoding invalid UTF-8): `verifier::di` must keep containing
/// them, so they come back as an error and the verifier rejects them.
#[test]
fn data_integrity_panics_stay_contained() {
    let seeds = corpus("verifier");
    for name in [
        "di-panic-xsd-date.json",
        "di-panic-percent-encoded-issuer.json",
    ] {
        let (_, seed) = seeds
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("seed {name} is missing"));
        let text = std::str::from_utf8(seed).unwrap();
        match dojang_verifier::di::verify(text) {
            Err(dojang_verifier::di::DiError::Malformed(reason)) => assert!(
                reason.contains("internal error"),
                "{name} no longer panics inside ssi ({reason}): containment needs a new input"
            ),
            other => panic!("{name}: expected the contained panic, got {other:?}"),
        }
        dojang_fuzz::verifier(seed);
    }
}
