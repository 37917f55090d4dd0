#!/usr/bin/env bash
# The packages' gate (run by CI): the .deb passes lintian with no errors or warnings, the
# tarball installs into an empty root and its binary runs, and the systemd unit's exposure
# rating stays at or below 1.2, and the Dockerfile copies everything its build needs. Installs
# cargo-deb and lintian if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deb > /dev/null || cargo install cargo-deb --locked --version 3.8.0
command -v lintian > /dev/null || { apt-get update -qq && apt-get install -y -qq lintian; }

packaging/build-deb.sh
deb=$(ls target/debian/holdfast_*.deb)
lintian --fail-on error,warning "$deb"
echo "lintian: $deb has no errors or warnings"

tarball=$(packaging/build-tarball.sh | tail -1)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tar -C "$scratch" -xzf "$tarball"
DESTDIR="$scratch/root" "$scratch"/holdfast-*/install.sh
"$scratch/root/usr/bin/holdfast" version > /dev/null
echo "tarball: $tarball installs and runs"

rating=$(systemd-analyze security --offline=yes systemd/holdfast.service 2>/dev/null \
    | sed -n 's/.*Overall exposure level for holdfast.service: \([0-9.]*\).*/\1/p')
python3 -c "import sys; r = float('$rating'); print(f'systemd unit exposure: {r}'); sys.exit(r > 1.2)"

packaging/docker-context.sh
