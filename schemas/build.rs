// A build script reports problems by panicking.
#![allow(clippy::expect_used)]

//! Embeds every credential type folder under `types/` (each with `schema.json`,
//! `descriptor.json`, `example.json` and `metadata.json`), so adding a type is adding a folder.

use std::fmt::Write as _;
use std::path::Path;

const FILES: [&str; 4] = [
    "descriptor.json",
    "schema.json",
    "example.json",
    "metadata.json",
];

fn main() {
    // Read when the script runs, not when it was compiled: one compiled script serves every
    // checkout sharing a target directory.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("types");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .expect("schemas/types exists")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("descriptor.json").is_file())
        .map(|entry| {
            entry
                .file_name()
                .into_string()
                .expect("type folder names are UTF-8")
        })
        .collect();
    names.sort();
    let mut out = String::from("/// (folder, its files) of each built-in type.\n");
    out.push_str("pub(crate) const BUILTIN: &[(&str, TypeFiles<'static>)] = &[\n");
    for name in &names {
        let dir = root.join(name);
        for file in FILES {
            println!("cargo:rerun-if-changed={}", dir.join(file).display());
        }
        let [descriptor, schema, example, metadata] = FILES.map(|f| dir.join(f));
        writeln!(
            out,
            "    ({name:?}, TypeFiles {{ descriptor: include_str!({descriptor:?}), schema: \
             include_str!({schema:?}), example: include_str!({example:?}), metadata: \
             include_str!({metadata:?}) }}),",
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin.rs");
    std::fs::write(dest, out).expect("write builtin.rs");
}
