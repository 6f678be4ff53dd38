//! libFuzzer target for `dojang_fuzz::mdoc`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    // The fixed world is built before fuzzing, so its coverage is not the target's.
    init: {
        dojang_fuzz::world::world();
    },
    |data: &[u8]| dojang_fuzz::mdoc(data)
);
