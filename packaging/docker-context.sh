#!/usr/bin/env bash
# Without a Docker engine, checks what the Dockerfile's build stage can see: copies exactly
# the files its COPY lines name into an empty directory and checks that the binary builds
# there (`cargo check`, offline, its own target directory). A file the build needs but the
# Dockerfile forgets to copy fails here, not at a customer's `docker build`.
set -euo pipefail
cd "$(dirname "$0")/.."

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
# The build stage ends at the second FROM; its COPY lines name sources and a destination.
awk '/^FROM/ { stage++ } stage == 1 && /^COPY / && !/--from/ { print }' Dockerfile |
while read -r _ line; do
  read -ra words <<< "$line"
  dest="${words[-1]}"
  for source in "${words[@]:0:${#words[@]}-1}"; do
    for path in $source; do
      target="$context/$dest"
      [[ "$dest" == */ && -f "$path" ]] && target="$context/$dest$(basename "$path")"
      mkdir -p "$(dirname "$target")"
      cp -r "$path" "$target"
    done
  done
done
(cd "$context" && CARGO_TARGET_DIR="$context/target" cargo check --quiet --offline --locked --bin holdfast)
echo "docker build context: the binary builds from what the Dockerfile copies"
