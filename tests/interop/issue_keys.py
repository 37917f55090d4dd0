#!/usr/bin/env python3
"""A second, independent implementation of Holdfast license keys, written from LICENSE-KEYS.md.

It shares no code with the Rust side. It reads the vendor's private key file as the document's
"The private key file" section says (PKCS#8 with Python's `cryptography` package, or the fixed DER
offsets for a PKCS#8 v2 file that package cannot read), encodes payloads as "Canonical
encoding" says, signs them as "Format" says, and reads trusted-keys files as "The
trusted-keys file" says.

    issue_keys.py issue KEY-FILE < requests.json > keys.json

  requests.json is a JSON array; each request is one of
      {"fields": {...}}    payload fields, encoded canonically
      {"payload": "..."}   exact payload text, signed as it is (keys the appliance refuses)
  and may add "key_id": "..." to write that key id instead of the signing key's own.
  The answer is a JSON array of {"key": "HF1....", "payload": "<the signed payload text>"}.

    issue_keys.py check TRUSTED-KEYS-FILE < keys.txt

  Verifies each key (one a line) against the trusted-keys file and checks that its payload is
  exactly the canonical encoding of its own fields. Prints a JSON array of
  {"key_id": "...", "fields": {...}}; exits 1 at the first key that fails.

Needs Python 3.8+ and `cryptography`.
"""

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

PREFIX = "HF1"
PUBLIC_KEY_TAG = "holdfast-ed25519"
# Member order of the canonical encoding.
FIELD_ORDER = ("v", "id", "c", "e", "iat", "nbf", "exp", "g", "u", "t", "f", "i")
# Omitted when absent (None); "f" is omitted when empty; every other member is always written.
OMITTED_WHEN_ABSENT = ("nbf", "exp", "i")
# The DER of an Ed25519 PKCS#8 file up to the 32-byte seed: v1 (no public key), v2 (with it).
PKCS8_V1_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
PKCS8_V2_PREFIX = bytes.fromhex("3051020101300506032b657004220420")
PKCS8_V2_PUBLIC_KEY_TAG = bytes.fromhex("812100")


def b64url(data):
    """base64url without padding (RFC 4648 section 5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """Decodes base64url without padding, refusing padding and non-canonical text."""
    if "=" in text or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise ValueError("not canonical base64url")
    return data


def key_id_of(public_key):
    """The first 4 bytes of SHA-256 of the raw 32-byte public key, as 8 lowercase hex digits."""
    return hashlib.sha256(public_key).digest()[:4].hex()


def raw_public(public_key):
    return public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def read_private_key(path):
    """An Ed25519 private key from a PKCS#8 PEM file, v1 or v2."""
    with open(path, "rb") as file:
        pem = file.read()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        key = None  # Some readers know only v1; fall back to the fixed offsets.
    if key is not None:
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    lines = pem.decode("ascii").splitlines()
    if lines[0] != "-----BEGIN PRIVATE KEY-----" or lines[-1] != "-----END PRIVATE KEY-----":
        raise ValueError(f"{path} is not a PKCS#8 PEM file")
    der = base64.b64decode("".join(lines[1:-1]))
    if len(der) == 48 and der[:16] == PKCS8_V1_PREFIX:
        return Ed25519PrivateKey.from_private_bytes(der[16:48])
    if len(der) == 83 and der[:16] == PKCS8_V2_PREFIX and der[48:51] == PKCS8_V2_PUBLIC_KEY_TAG:
        key = Ed25519PrivateKey.from_private_bytes(der[16:48])
        if raw_public(key.public_key()) != der[51:83]:
            raise ValueError(f"{path}: the public key does not belong to the private key")
        return key
    raise ValueError(f"{path} is not an Ed25519 PKCS#8 key")


def read_trusted_keys(path):
    """{key id: public key} from a trusted-keys file."""
    trusted = {}
    with open(path, "rb") as file:
        text = file.read().decode("utf-8")
    for number, line in enumerate(text.split("\n"), start=1):
        line = line[:-1] if line.endswith("\r") else line
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 3 or fields[0] != PUBLIC_KEY_TAG:
            raise ValueError(f"{path}:{number}: not a public key line")
        raw = b64url_decode(fields[2])
        if len(raw) != 32 or key_id_of(raw) != fields[1]:
            raise ValueError(f"{path}:{number}: the key id does not match the key")
        trusted[fields[1]] = Ed25519PublicKey.from_public_bytes(raw)
    return trusted


def json_string(text):
    """A JSON string: `"` and `\\` escaped, everything else as itself (UTF-8)."""
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text):
        raise ValueError(f"{text!r} holds a control character")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def json_integer(value):
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    return str(value)


def canonical_payload(fields):
    """The canonical payload bytes of `fields` (a dict of the document's member names)."""
    fields = dict(fields)
    fields.setdefault("v", 1)
    fields.setdefault("g", 14)
    unknown = set(fields) - set(FIELD_ORDER)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    members = []
    for name in FIELD_ORDER:
        value = fields.get(name)
        if value is None and name in OMITTED_WHEN_ABSENT:
            continue
        if name == "f":
            if not value:
                continue
            encoded = "[" + ",".join(json_string(f) for f in value) + "]"
        elif name in ("id", "c", "e", "i"):
            encoded = json_string(value)
        else:
            encoded = json_integer(value)
        members.append(json_string(name) + ":" + encoded)
    return ("{" + ",".join(members) + "}").encode("utf-8")


def sign(private_key, payload, key_id=None):
    """`HF1.<key-id>.<payload>.<signature>`: Ed25519 over the exact payload bytes."""
    own_id = key_id_of(raw_public(private_key.public_key()))
    signature = private_key.sign(payload)
    return ".".join([PREFIX, key_id or own_id, b64url(payload), b64url(signature)])


def issue(private_key, requests):
    answers = []
    for request in requests:
        if "fields" in request:
            payload = canonical_payload(request["fields"])
        else:
            payload = request["payload"].encode("utf-8")
        answers.append(
            {
                "key": sign(private_key, payload, request.get("key_id")),
                "payload": payload.decode("utf-8"),
            }
        )
    return answers


def check(trusted, text):
    """Verifies one key and that its payload is the canonical encoding of its fields."""
    key = "".join(text.split())
    prefix, key_id, payload_text, signature_text = key.split(".")
    if prefix != PREFIX:
        raise ValueError("not an HF1 key")
    if key_id not in trusted:
        raise ValueError(f"unknown key id {key_id}")
    payload = b64url_decode(payload_text)
    try:
        trusted[key_id].verify(b64url_decode(signature_text), payload)
    except InvalidSignature:
        raise ValueError("bad signature") from None
    fields = json.loads(payload)
    if canonical_payload(fields) != payload:
        raise ValueError(f"payload is not canonical: {payload!r}")
    return {"key_id": key_id, "fields": fields}


def main(argv):
    if len(argv) == 3 and argv[1] == "issue":
        private_key = read_private_key(argv[2])
        json.dump(issue(private_key, json.load(sys.stdin)), sys.stdout, ensure_ascii=False)
    elif len(argv) == 3 and argv[1] == "check":
        trusted = read_trusted_keys(argv[2])
        results = []
        for line in sys.stdin.read().splitlines():
            if line.strip():
                try:
                    results.append(check(trusted, line))
                except ValueError as err:
                    print(f"check failed: {err}: {line}", file=sys.stderr)
                    return 1
        json.dump(results, sys.stdout, ensure_ascii=False)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
