#!/usr/bin/env bash
# Builds target/packaging/holdfast-<version>-<arch>-linux.tar.gz: the release binary, the
# systemd unit, a commented config, the man page, the README and install.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin holdfast
version=$(target/release/holdfast version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
name="holdfast-$version-$(uname -m)-linux"
stage="target/packaging/$name"
rm -rf "$stage" && mkdir -p "$stage"
cp target/release/holdfast systemd/holdfast.service packaging/holdfast.toml packaging/holdfast.1 \
   packaging/install.sh README.md "$stage/"
strip "$stage/holdfast"
tar -C target/packaging --owner=0 --group=0 --numeric-owner -czf "target/packaging/$name.tar.gz" "$name"
echo "target/packaging/$name.tar.gz"
