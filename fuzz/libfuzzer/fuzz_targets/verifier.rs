//! libFuzzer target for `dojang_fuzz::verifier`. The panics `verifier::di` contains stay
//! contained (libFuzzer's hook would abort on them); any other panic is a crash.
#![no_main]

libfuzzer_sys::fuzz_target!(
    // The fixed world is built before fuzzing, so its coverage is not the target's.
    init: {
        dojang_fuzz::world::world();
    },
    |data: &[u8]| dojang_fuzz::with_contained_panics(dojang_fuzz::verifier, data)
);
