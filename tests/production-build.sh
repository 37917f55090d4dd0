#!/usr/bin/env bash
# Checks the production build path of LICENSE-KEYS.md for real: a build made with
# HOLDFAST_TRUSTED_KEYS trusts exactly the keys in that file and not the demo key.
# Uses the test vectors: other-vendor.pub stands in for a vendor's production key.
set -euo pipefail
cd "$(dirname "$0")/.."
# The same target directory as the tests: only Holdfast itself is rebuilt (its build script
# reruns when HOLDFAST_TRUSTED_KEYS changes), and the next plain build rebuilds it back.
HOLDFAST_TRUSTED_KEYS="$PWD/tests/vectors/other-vendor.pub" cargo build --quiet --locked --bin holdfast
bin="${CARGO_TARGET_DIR:-target}/debug/holdfast"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT

version="$("$bin" version)"
echo "$version"
grep -q "trusted vendor keys: 7875bfcc" <<< "$version"
if grep -q "DEMO" <<< "$version"; then
  echo "FAIL: a production build must not trust the demo key" >&2
  exit 1
fi
if "$bin" license install --data-dir "$data" "$(cat tests/vectors/valid.key)" 2> "$data/err"; then
  echo "FAIL: a demo-signed key was accepted by a production build" >&2
  exit 1
fi
grep -q "unknown_key" "$data/err"
"$bin" license install --data-dir "$data" "$(cat tests/vectors/foreign-vendor.key)"
"$bin" license status --json --data-dir "$data" | grep -q '"demo_key_trusted": false'
echo "production build check: 2 passed, 0 failed"
