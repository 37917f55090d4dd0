#!/usr/bin/env bash
# Builds target/debian/holdfast_<version>_<arch>.deb: the release binary, the systemd unit,
# a commented /etc/holdfast/holdfast.toml, the man page and the README. Needs cargo-deb.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin holdfast
mkdir -p target/packaging
gzip -9n -c packaging/holdfast.1 > target/packaging/holdfast.1.gz
cargo deb --no-build "$@"
