#!/usr/bin/env bash
# Verifies a Holdfast license key's Ed25519 signature with OpenSSL alone, as LICENSE-KEYS.md
# describes. Usage: verify-with-openssl.sh KEY PUBLIC-KEY-FILE
# Writes payload.bin, signature.bin, pub.der and pub.pem in the current directory.
set -euo pipefail
key="$1"
pub_file="$2"

b64url_decode() {
  local s="$1"
  s="${s//-/+}"
  s="${s//_//}"
  while (( ${#s} % 4 )); do s="$s="; done
  printf '%s' "$s" | base64 -d
}

IFS=. read -r prefix kid payload sig <<< "$key"
[ "$prefix" = "HF1" ] || { echo "not an HF1 key" >&2; exit 1; }
b64url_decode "$payload" > payload.bin
b64url_decode "$sig" > signature.bin
pub=$(awk -v id="$kid" '$1 == "holdfast-ed25519" && $2 == id { print $3 }' "$pub_file")
[ -n "$pub" ] || { echo "no public key with id $kid in $pub_file" >&2; exit 1; }
# An Ed25519 SubjectPublicKeyInfo is a fixed 12-byte DER prefix followed by the raw key.
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; b64url_decode "$pub"; } > pub.der
openssl pkey -pubin -inform DER -in pub.der -out pub.pem
echo "payload: $(cat payload.bin)"
openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in payload.bin -sigfile signature.bin
