#!/usr/bin/env bash
# Builds dojang-mobile and regenerates its Kotlin, Swift and Python bindings from the built
# library (UniFFI library mode) into the packages under mobile/. CI runs it and fails when the
# committed sources differ (`git diff --exit-code mobile/`).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build -q -p dojang-mobile -p uniffi-bindgen
lib="$target/debug/libdojang_mobile.so"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for language in kotlin swift python; do
  "$target/debug/uniffi-bindgen" generate --no-format --language "$language" \
    --out-dir "$out/$language" "$lib"
done
install -D -m 644 "$out/kotlin/kr/dojang/sdk/dojang_mobile.kt" \
  mobile/kotlin/src/main/kotlin/kr/dojang/sdk/dojang_mobile.kt
install -D -m 644 "$out/python/dojang_mobile.py" mobile/python/dojang_mobile/dojang_mobile.py
install -D -m 644 "$out/swift/DojangMobile.swift" mobile/swift/Sources/DojangMobile/DojangMobile.swift
install -D -m 644 "$out/swift/DojangMobileFFI.h" mobile/swift/Sources/DojangMobileFFI/include/DojangMobileFFI.h
install -D -m 644 "$out/swift/DojangMobileFFI.modulemap" \
  mobile/swift/Sources/DojangMobileFFI/include/module.modulemap
echo "generate: bindings regenerated from $lib"
