//! `uniffi-bindgen`: generates the Kotlin, Swift and Python bindings of `dojang-mobile` from
//! the built library (`mobile/generate.sh`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
