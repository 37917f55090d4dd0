#!/usr/bin/env bash
# A bounded fuzz run of the license key parser, for CI: installs cargo-fuzz if missing and
# fuzzes for FUZZ_SECONDS (default 60), starting from the test vectors as seeds.
#
# Only a stable toolchain is available here, so the nightly-only flags cargo-fuzz needs are
# enabled with RUSTC_BOOTSTRAP, and the address sanitizer is off (safe Rust: the fuzzer looks
# for panics, not memory errors).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

mkdir -p corpus/license_key
cp seeds/*.key corpus/license_key/

RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none license_key corpus/license_key -- \
  -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 2>&1 | tee fuzz.log | tail -n 25
grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' fuzz.log || true
