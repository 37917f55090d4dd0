#!/usr/bin/env bash
# Checks the production build path of LICENSE-KEYS.md and RELEASES.md for real: a build made
# with HOLDFAST_TRUSTED_KEYS and HOLDFAST_RELEASE_KEYS trusts exactly the keys in those files
# and not the demo keys. Uses the test vectors: other-vendor.pub stands in for a vendor's
# production keys (one file may serve both sets here; a vendor keeps two key pairs).
set -euo pipefail
cd "$(dirname "$0")/.."
# The same target directory as the tests: only Holdfast itself is rebuilt (its build script
# reruns when the key variables change), and the next plain build rebuilds it back.
cargo build --quiet --locked --bin holdfast-signer
HOLDFAST_TRUSTED_KEYS="$PWD/tests/vectors/other-vendor.pub" \
HOLDFAST_RELEASE_KEYS="$PWD/tests/vectors/other-vendor.pub" \
  cargo build --quiet --locked --bin holdfast
bin="${CARGO_TARGET_DIR:-target}/debug/holdfast"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT

version="$("$bin" version)"
echo "$version"
grep -q "trusted vendor keys: 7875bfcc" <<< "$version"
grep -q "trusted release keys: 7875bfcc" <<< "$version"
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

# An update bundle signed with the demo release key is refused, and nothing changes.
signer="${CARGO_TARGET_DIR:-target}/debug/holdfast-signer"
printf '#!/bin/sh\nexit 0\n' > "$data/program"
"$signer" sign-release --key keys/demo-release.key --binary "$data/program" \
  --release-version 99.0.0 --out "$data" > /dev/null
if "$bin" update check --file "$data"/holdfast-99.0.0-*.tar.gz 2> "$data/err"; then
  echo "FAIL: a bundle signed with the demo release key was accepted by a production build" >&2
  exit 1
fi
grep -q "bundle_bad_signature" "$data/err"
echo "production build check: 3 passed, 0 failed"
