#!/usr/bin/env python3
"""Makes tests/vectors/vectors.json: license keys, each with the result LICENSE-KEYS.md says
the appliance gives it. Keys are signed with the committed demo vendor key by the independent
implementation in tests/interop/issue_keys.py; Ed25519 signatures are deterministic, so the
output is the same on every run.

    generate.py          writes vectors.json
    generate.py --check  exits 1 if vectors.json is not exactly what this script makes

Needs Python 3.8+ and `cryptography`.
"""

import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.dont_write_bytecode = True  # no __pycache__ beside issue_keys.py in the repository
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
import issue_keys as ik  # noqa: E402

OUTPUT = os.path.join(HERE, "vectors.json")
DAY = 86400
T0 = 1767225600  # 2026-01-01T00:00:00Z: issued-at of most vectors
NOW = 1798761600  # 2027-01-01T00:00:00Z: when the install checks are judged
INSTANCE = "8f3ab0c4d2e1f5a69b7c"  # the instance id of the appliance installing them
MIN_TIME = -377705116800  # -9999-01-01T00:00:00Z
MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z
KNOWN_FEATURES = ["sso", "branding", "api_tokens", "audit_export"]

DEMO = ik.read_private_key(os.path.join(ROOT, "keys", "demo-vendor.key"))
# A vendor key that no build trusts, from a fixed seed so that its keys are reproducible.
UNTRUSTED = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"holdfast test vectors: an untrusted vendor key").digest()
)

BASE = {"id": "vector-min", "c": "Vector Test Co", "e": "standard", "iat": T0, "u": 10, "t": 1}
BASE_JSON = '"v":1,"id":"vector-min","c":"Vector Test Co","e":"standard","iat":%d,"u":10,"t":1' % T0

VECTORS = []


def decoded(fields):
    """Every member as the appliance reads it: defaults applied, absent optional ones null."""
    out = {"v": 1, "nbf": None, "exp": None, "g": 14, "f": [], "i": None}
    out.update({k: v for k, v in fields.items() if k in ik.FIELD_ORDER})
    return {name: out[name] for name in ik.FIELD_ORDER}


def signed(payload, signer=DEMO, key_id=None):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return ik.sign(signer, payload, key_id)


def canonical(fields, **extra):
    return signed(ik.canonical_payload({**BASE, **fields, **extra}))


def raw(members):
    """A payload of the base members plus `members` (JSON text), as written."""
    return signed("{" + BASE_JSON + members + "}")


def add(name, rule, why, key=None, file=None, expect="ok", fields=None, trusted="demo",
        install=None, states=None, quirk=False):
    vector = {"name": name, "rule": rule, "why": why}
    if file is not None:
        vector["file"] = file
        with open(os.path.join(HERE, file), encoding="utf-8") as f:
            key = f.read()
    else:
        vector["key"] = key
    if trusted != "demo":
        vector["trusted"] = trusted
    vector["expect"] = expect
    if quirk:
        vector["quirk"] = True
    if expect == "ok":
        payload = decoded({**BASE, **(fields or {})})
        vector["payload"] = payload
        features = payload["f"]
        vector["granted"] = [f for f in KNOWN_FEATURES if f in features]
        vector["unknown_features"] = sorted(set(f for f in features if f not in KNOWN_FEATURES))
        text = "".join(key.split()).split(".")[2]
        present = {k: v for k, v in payload.items() if v is not None}
        vector["canonical"] = ik.canonical_payload(present) == ik.b64url_decode(text)
        vector["install"] = install or "ok"
        if states:
            vector["states"] = states
    else:
        assert fields is None and install is None and states is None, name
    VECTORS.append(vector)


def parts(key):
    return key.split(".")


def with_part(key, index, value):
    p = parts(key)
    p[index] = value
    return ".".join(p)


def bump_last(text):
    """The same base64url text with a non-zero bit where only zero bits may be."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:-1] + alphabet[alphabet.index(text[-1]) + 1]


def sized(length):
    """A key of exactly `length` characters: the base payload padded with an unknown member."""
    for pad in range(2000):
        key = raw(',"pad":"%s"' % ("x" * pad))
        if len(key) == length:
            return key
    raise ValueError(f"no key of {length} characters")


def generate():
    VECTORS.clear()
    minimal = canonical({})
    full_fields = {"id": "vector-full", "c": "Vector \"Full\" Co \\ Zürich", "e": "enterprise",
                   "nbf": T0 + DAY, "exp": T0 + 400 * DAY, "g": 30, "u": 250, "t": 12,
                   "f": ["sso", "branding", "api_tokens", "audit_export"], "i": INSTANCE}
    full = canonical(full_fields)

    # --- the committed files
    add("file-valid", "files", "tests/vectors/valid.key: perpetual, 25 seats, 3 tenants",
        file="valid.key",
        fields={"id": "vector-valid", "e": "enterprise", "iat": 1795358992, "u": 25, "t": 3,
                "f": ["sso", "branding"]})
    add("file-bound-to-instance", "files", "bound to instance 00112233445566778899, not this one",
        file="bound-to-instance.key",
        fields={"id": "vector-bound", "iat": 1795358992, "exp": 2110718992,
                "i": "00112233445566778899"},
        install="wrong_instance")
    add("file-expired", "files", "expired 2021-01-01, grace ended 2021-01-15",
        file="expired.key",
        fields={"id": "vector-expired", "iat": 1795358992, "nbf": 1577836800, "exp": 1609459200},
        install="license_expired",
        states=[[1609459199, "valid"], [1609459200, "grace"], [1610668799, "grace"],
                [1610668800, "expired"]])
    add("file-tampered", "files", "one payload character of valid.key changed",
        file="tampered.key", expect="bad_signature")
    add("file-foreign-vendor", "files", "signed by other-vendor.pub (7875bfcc), not trusted",
        file="foreign-vendor.key", expect="unknown_key")
    add("file-foreign-vendor-trusted", "files", "the same key against other-vendor.pub",
        file="foreign-vendor.key", trusted="other",
        fields={"id": "vector-foreign", "e": "enterprise", "iat": 1795358992, "u": 25, "t": 3})
    add("file-malformed", "files", "not base64url at all", file="malformed.key",
        expect="malformed")

    # --- format: HF1.<key-id>.<payload>.<signature>
    add("minimal", "format", "only the required members, as the signer writes them (g included)",
        key=minimal)
    add("full", "format", "every member, as the signer writes them", key=full,
        fields=full_fields, install="ok",
        states=[[T0 + DAY - 1, "not_yet_valid"], [T0 + DAY, "valid"]])
    add("prefix-lowercase", "format", "the prefix is HF1 exactly", key="hf1" + minimal[3:],
        expect="malformed")
    add("prefix-hf2", "format", "another format version", key="HF2" + minimal[3:],
        expect="malformed")
    add("three-parts", "format", "no signature part",
        key=".".join(parts(minimal)[:3]), expect="malformed")
    add("five-parts", "format", "a fifth part", key=minimal + ".AAAA", expect="malformed")
    add("key-id-uppercase", "format", "the key id is lowercase hex",
        key=with_part(minimal, 1, parts(minimal)[1].upper()), expect="malformed")
    add("key-id-seven-digits", "format", "the key id is 8 hex digits",
        key=with_part(minimal, 1, parts(minimal)[1][:7]), expect="malformed")
    pay = parts(minimal)[2]
    assert len(pay) % 4, "the minimal payload needs padding to show it refused"
    add("payload-padded", "format", "base64url without padding: '=' is refused",
        key=with_part(minimal, 2, pay + "=" * (-len(pay) % 4)), expect="malformed")
    add("signature-padded", "format", "base64url without padding: '=' is refused",
        key=with_part(minimal, 3, parts(minimal)[3] + "=="), expect="malformed")
    add("signature-trailing-bits", "format",
        "the unused low bits of the last character must be zero",
        key=with_part(minimal, 3, bump_last(parts(minimal)[3])), expect="malformed")
    if len(pay) % 4 in (2, 3):
        add("payload-trailing-bits", "format",
            "the unused low bits of the last character must be zero",
            key=with_part(minimal, 2, bump_last(pay)), expect="malformed")
    standard = full.replace("-", "+").replace("_", "/")
    assert standard != full
    add("standard-alphabet", "format", "'+' and '/' are not base64url", key=standard,
        expect="malformed")
    sig = ik.b64url_decode(parts(minimal)[3])
    add("signature-63-bytes", "format", "the signature is 64 bytes",
        key=with_part(minimal, 3, ik.b64url(sig[:63])), expect="malformed")
    add("non-ascii", "format", "a zero-width space (U+200B) is not whitespace and not ASCII",
        key=minimal[:20] + "\u200b" + minimal[20:], expect="malformed")
    add("byte-order-mark", "format", "U+FEFF before the key is not whitespace",
        key="\ufeff" + minimal, expect="malformed")
    add("empty", "format", "nothing", key="", expect="malformed")
    add("only-whitespace", "format", "nothing after whitespace is removed", key=" \r\n\t ",
        expect="malformed")

    # --- whitespace and lengths
    wrapped = "\r\n    ".join(minimal[i:i + 60] for i in range(0, len(minimal), 60))
    add("wrapped-email", "whitespace-and-length", "wrapped and indented with CRLF, tabs, spaces",
        key="\n\t" + wrapped + "  \r\n")
    add("unicode-whitespace", "whitespace-and-length",
        "U+00A0, U+0085, U+2028, U+3000, VT and FF are whitespace too and removed",
        key=minimal[:10] + "\u00a0" + minimal[10:20] + "\u0085" + minimal[20:30] + "\u2028"
        + minimal[30:40] + "\u3000" + minimal[40:50] + "\x0b\x0c" + minimal[50:])
    add("length-2048", "whitespace-and-length", "2048 characters (padded by an unknown member)",
        key=sized(2048))
    add("length-2050", "whitespace-and-length", "2050 characters, correctly signed",
        key=sized(2050), expect="malformed")
    add("input-8192-bytes", "whitespace-and-length", "8192 bytes of input, mostly spaces",
        key=minimal + " " * (8192 - len(minimal)))
    add("input-8193-bytes", "whitespace-and-length", "8193 bytes of input, mostly spaces",
        key=minimal + " " * (8193 - len(minimal)), expect="malformed")
    nbsp = (8193 - len(minimal)) // 2 + 1
    add("input-over-8192-bytes-in-fewer-characters", "whitespace-and-length",
        "over 8192 UTF-8 bytes in under 8192 characters (U+00A0 is 2 bytes)",
        key=minimal + "\u00a0" * nbsp, expect="malformed")

    # --- key id and signature
    add("key-id-not-trusted", "key-id-and-signature",
        "a good demo signature under a key id no build trusts",
        key=with_part(minimal, 1, "00000000"), expect="unknown_key")
    add("untrusted-vendor", "key-id-and-signature", "signed by another vendor key, its own id",
        key=signed(ik.canonical_payload(BASE), UNTRUSTED), expect="unknown_key")
    add("untrusted-vendor-demo-id", "key-id-and-signature",
        "signed by another vendor key, written with the demo key id",
        key=signed(ik.canonical_payload(BASE), UNTRUSTED, "e4d7b523"), expect="bad_signature")
    more_seats = canonical({"u": 99})
    add("payload-swapped", "key-id-and-signature",
        "another payload under the minimal key's signature",
        key=with_part(minimal, 2, parts(more_seats)[2]), expect="bad_signature")
    add("payload-empty", "key-id-and-signature", "an empty payload part, another's signature",
        key=with_part(minimal, 2, ""), expect="bad_signature")

    # --- the order of refusal reasons: syntax, key id, signature, fields, state
    array = '[1,"vector-min","Vector Test Co","standard",%d,null,null,14,10,1,[],null]' % T0
    add("order-syntax-before-key-id", "order", "prefix HF2 and an untrusted key id: malformed",
        key="HF2" + with_part(minimal, 1, "00000000")[3:], expect="malformed")
    add("order-key-id-before-signature", "order",
        "an untrusted key id and a signature that fits no key: unknown_key",
        key=with_part(with_part(minimal, 1, "00000000"), 2, parts(more_seats)[2]),
        expect="unknown_key")
    add("order-key-id-before-fields", "order",
        "an untrusted key id on a positional array payload: unknown_key",
        key=signed(array, DEMO, "00000000"), expect="unknown_key")
    add("order-signature-before-fields", "order",
        "a positional array payload under a signature that does not fit: bad_signature",
        key=signed(array, UNTRUSTED, "e4d7b523"), expect="bad_signature")
    add("order-instance-first", "order",
        "bound elsewhere, issued in the future and past grace: wrong_instance",
        key=canonical({"iat": NOW + 10 * DAY, "nbf": T0, "exp": T0 + DAY, "i": "elsewhere"}),
        fields={"iat": NOW + 10 * DAY, "nbf": T0, "exp": T0 + DAY, "i": "elsewhere"},
        install="wrong_instance")
    add("order-future-before-expired", "order",
        "issued in the future and past grace: issued_in_future",
        key=canonical({"iat": NOW + 10 * DAY, "nbf": T0, "exp": T0 + DAY}),
        fields={"iat": NOW + 10 * DAY, "nbf": T0, "exp": T0 + DAY}, install="issued_in_future")

    # --- JSON: what is accepted
    add("members-reversed", "json", "members in any order",
        key=signed('{"t":1,"u":10,"iat":%d,"e":"standard","c":"Vector Test Co",'
                   '"id":"vector-min","v":1}' % T0))
    add("whitespace-between-tokens", "json", "JSON whitespace (space, tab, CR, LF) anywhere",
        key=signed(' \t\r\n{ "v" : 1 ,\n\t"id" : "vector-min", "c":"Vector Test Co",'
                   '"e":"standard","iat":%d,"u":10,"t":1 }\r\n ' % T0))
    add("string-escapes", "json", "escapes: \\u00fc, a surrogate pair, \\/, \\\", \\\\",
        key=signed("{" + BASE_JSON.replace('"Vector Test Co"',
                                           '"Z\\u00fcrich \\ud83d\\ude00 A\\/B \\"Q\\" \\\\"')
                   + "}"),
        fields={"c": "Zürich \U0001F600 A/B \"Q\" \\"})
    add("escaped-member-name", "json", "a member name may be escaped: \\u0076 is v",
        key=signed("{" + BASE_JSON.replace('"v":1', '"\\u0076":1') + "}"))
    add("unknown-members", "json", "unknown members of any type are ignored",
        key=raw(',"z":null,"zz":[1,{"a":2.5e-3,"b":[true,false]}],"V":"x",'
                '"big":123456789012345678901234567890'))
    add("null-optional-members", "json", "null for nbf, exp and i is the same as absent",
        key=raw(',"nbf":null,"exp":null,"i":null'))
    add("empty-features", "json", "an empty f is the same as absent", key=raw(',"f":[]'))
    add("byte-order-mark-in-payload", "json", "a UTF-8 byte order mark before the object",
        key=signed(b"\xef\xbb\xbf{" + BASE_JSON.encode() + b"}"), expect="malformed")
    add("duplicate-member", "json", "a member twice", key=raw(',"u":500'), expect="malformed")
    add("duplicate-unknown-member", "json", "an unknown member twice",
        key=raw(',"z":1,"z":2'), expect="malformed")
    add("duplicate-member-escaped", "json", "u and \\u0075 are the same name",
        key=raw(',"\\u0075":500'), expect="malformed")
    add("positional-array", "json", "the values as an array", key=signed(array),
        expect="malformed")
    add("not-an-object", "json", "a JSON string", key=signed('"vector-min"'),
        expect="malformed")
    add("trailing-data", "json", "a second value after the object",
        key=signed("{" + BASE_JSON + "} {}"), expect="malformed")
    add("trailing-nul", "json", "a NUL byte after the object",
        key=signed("{" + BASE_JSON + "}\x00"), expect="malformed")
    add("null-grace", "json", "g may not be null", key=raw(',"g":null'), expect="malformed")
    add("null-features", "json", "f may not be null", key=raw(',"f":null'), expect="malformed")
    add("null-required", "json", "a required member may not be null",
        key=signed("{" + BASE_JSON.replace('"u":10', '"u":null') + "}"), expect="malformed")
    add("missing-v", "json", "v is required",
        key=signed("{" + BASE_JSON.replace('"v":1,', "") + "}"), expect="malformed")
    add("missing-u", "json", "u is required",
        key=signed("{" + BASE_JSON.replace('"u":10,', "") + "}"), expect="malformed")
    add("member-name-case", "json", "names are case-sensitive: V is not v",
        key=signed("{" + BASE_JSON.replace('"v":1', '"V":1') + "}"), expect="malformed")
    add("raw-control-in-string", "json", "a raw tab inside a string is not JSON",
        key=signed("{" + BASE_JSON.replace("Vector Test", "Vector\tTest") + "}"),
        expect="malformed")
    add("invalid-utf8-in-string", "json", "a byte that is not UTF-8 in c",
        key=signed(("{" + BASE_JSON + "}").encode().replace(b"Vector Test", b"Vector \xffTest")),
        expect="malformed")
    add("lone-surrogate-in-string", "json", "an unpaired surrogate escape in c",
        key=signed("{" + BASE_JSON.replace("Vector Test", "Vector \\ud83d Test") + "}"),
        expect="malformed")
    add("invalid-utf8-in-unknown-member", "json",
        "an unknown member must be valid JSON text too: bytes that are not UTF-8",
        key=signed(b"{" + BASE_JSON.encode() + b',"z":"\xff"}'), expect="malformed")
    add("lone-surrogate-in-unknown-member", "json",
        "an unknown member must be valid JSON text too: an unpaired surrogate",
        key=raw(',"z":"\\ud83d"'), expect="malformed")

    # --- numbers
    for name, number, why in [
        ("number-fraction", "1.0", "1.0 is not an integer"),
        ("number-exponent", "1e0", "1e0 is not an integer"),
        ("number-negative-zero", "-0", "-0 is read as a fraction"),
        ("number-leading-zero", "01", "a leading zero is not JSON"),
        ("number-as-string", '"1"', "a string is not a number"),
    ]:
        add(name, "numbers", why, key=signed("{" + BASE_JSON.replace('"v":1', '"v":' + number)
                                             + "}"), expect="malformed")
    add("v-2", "numbers", "v must be 1", key=canonical({"v": 2}), expect="malformed")
    add("v-0", "numbers", "v must be 1", key=canonical({"v": 0}), expect="malformed")
    add("v-257", "numbers", "v must be 1 (and fit a byte)", key=canonical({"v": 257}),
        expect="malformed")
    add("seats-tenants-zero", "numbers", "u and t may be 0", key=canonical({"u": 0, "t": 0}),
        fields={"u": 0, "t": 0})
    add("seats-tenants-max", "numbers", "u and t up to 4294967295",
        key=canonical({"u": 4294967295, "t": 4294967295}),
        fields={"u": 4294967295, "t": 4294967295})
    add("seats-over-u32", "numbers", "u above 4294967295",
        key=canonical({"u": 4294967296}), expect="malformed")
    add("tenants-negative", "numbers", "t below 0", key=canonical({"t": -1}), expect="malformed")

    # --- times
    add("time-min", "times", "iat at -9999-01-01T00:00:00Z", key=canonical({"iat": MIN_TIME}),
        fields={"iat": MIN_TIME})
    add("time-max", "times", "iat at 9999-12-31T23:59:59Z", key=canonical({"iat": MAX_TIME}),
        fields={"iat": MAX_TIME}, install="issued_in_future")
    add("time-below-min", "times", "iat a second before -9999-01-01",
        key=canonical({"iat": MIN_TIME - 1}), expect="malformed")
    add("time-above-max", "times", "iat a second after 9999-12-31T23:59:59Z",
        key=canonical({"iat": MAX_TIME + 1}), expect="malformed")
    add("time-i64-max", "times", "iat at the largest i64",
        key=canonical({"iat": 9223372036854775807}), expect="malformed")
    add("time-over-i64", "times", "iat beyond i64",
        key=canonical({"iat": 9223372036854775808}), expect="malformed")
    add("nbf-out-of-range", "times", "nbf after 9999-12-31T23:59:59Z",
        key=canonical({"nbf": MAX_TIME + 1}), expect="malformed")
    add("exp-grace-at-max", "times", "exp + 14 days is exactly 9999-12-31T23:59:59Z",
        key=canonical({"exp": MAX_TIME - 14 * DAY}), fields={"exp": MAX_TIME - 14 * DAY})
    add("exp-grace-over-max", "times", "exp + 14 days is one second beyond the range",
        key=canonical({"exp": MAX_TIME - 14 * DAY + 1}), expect="malformed")
    add("exp-max-no-grace", "times", "exp at the end of the range with g 0",
        key=canonical({"exp": MAX_TIME, "g": 0}), fields={"exp": MAX_TIME, "g": 0})
    add("exp-equals-iat", "times", "exp must be after iat (no nbf)",
        key=canonical({"exp": T0}), expect="malformed")
    add("exp-before-iat", "times", "exp before iat (no nbf)",
        key=canonical({"exp": T0 - DAY}), expect="malformed")
    add("exp-one-second-after-iat", "times", "exp one second after iat",
        key=canonical({"exp": T0 + 1}), fields={"exp": T0 + 1}, install="license_expired")
    add("exp-equals-nbf", "times", "exp must be after nbf",
        key=canonical({"nbf": T0 + DAY, "exp": T0 + DAY}), expect="malformed")
    add("exp-before-nbf", "times", "exp before nbf",
        key=canonical({"nbf": T0 + 2 * DAY, "exp": T0 + DAY}), expect="malformed")
    add("exp-before-iat-after-nbf", "times",
        "with nbf, exp is compared with nbf only: exp before iat is accepted",
        key=canonical({"nbf": T0 - 2 * DAY, "exp": T0 - DAY}),
        fields={"nbf": T0 - 2 * DAY, "exp": T0 - DAY}, install="license_expired")
    add("nbf-before-iat", "times", "nbf may be before iat",
        key=canonical({"nbf": T0 - DAY}), fields={"nbf": T0 - DAY})

    # --- grace and the states it bounds (judged at the given seconds)
    exp = T0 + 365 * DAY
    add("grace-default", "grace", "g absent: 14 days; expired from exp + 14 x 86400",
        key=signed("{" + BASE_JSON + ',"exp":%d}' % exp), fields={"exp": exp},
        states=[[T0, "valid"], [exp - 1, "valid"], [exp, "grace"],
                [exp + 14 * DAY - 1, "grace"], [exp + 14 * DAY, "expired"]])
    add("grace-zero", "grace", "g 0: expired at exp", key=canonical({"exp": exp, "g": 0}),
        fields={"exp": exp, "g": 0}, install="license_expired",
        states=[[exp - 1, "valid"], [exp, "expired"]])
    add("grace-365", "grace", "g 365 is the most",
        key=canonical({"exp": exp, "g": 365}), fields={"exp": exp, "g": 365},
        states=[[exp + 365 * DAY - 1, "grace"], [exp + 365 * DAY, "expired"]])
    add("grace-366", "grace", "g above 365", key=canonical({"exp": exp, "g": 366}),
        expect="malformed")
    add("grace-negative", "grace", "g below 0", key=canonical({"g": -1}), expect="malformed")
    add("perpetual", "grace", "no exp: valid for ever", key=minimal,
        states=[[T0 - 1, "valid"], [MAX_TIME, "valid"]])
    add("install-grace-ends-now", "install", "grace ends at the install time: refused",
        key=canonical({"iat": NOW - 30 * DAY, "exp": NOW - 14 * DAY}),
        fields={"iat": NOW - 30 * DAY, "exp": NOW - 14 * DAY}, install="license_expired")
    add("install-in-last-second-of-grace", "install",
        "grace ends a second after the install time: accepted",
        key=canonical({"iat": NOW - 30 * DAY, "exp": NOW - 14 * DAY + 1}),
        fields={"iat": NOW - 30 * DAY, "exp": NOW - 14 * DAY + 1})
    add("install-issued-5-minutes-ahead", "install", "iat 300 s after the install time: accepted",
        key=canonical({"iat": NOW + 300}), fields={"iat": NOW + 300})
    add("install-issued-over-5-minutes-ahead", "install", "iat 301 s after the install time",
        key=canonical({"iat": NOW + 301}), fields={"iat": NOW + 301},
        install="issued_in_future")

    # --- text members: 1 to 200 Unicode scalar values, not all whitespace, no control characters
    add("text-200-scalars", "text-fields", "200 four-byte characters in c, 200 e-acute in id",
        key=canonical({"c": "\U0001F600" * 200, "id": "\u00e9" * 200}),
        fields={"c": "\U0001F600" * 200, "id": "\u00e9" * 200})
    add("text-201-scalars", "text-fields", "201 characters in id",
        key=canonical({"id": "\u00e9" * 201}), expect="malformed")
    add("edition-201", "text-fields", "201 characters in e", key=canonical({"e": "a" * 201}),
        expect="malformed")
    add("instance-201", "text-fields", "201 characters in i", key=canonical({"i": "a" * 201}),
        expect="malformed")
    add("edition-free-text", "text-fields", "any edition name", key=canonical({"e": "Platinum Plus"}),
        fields={"e": "Platinum Plus"})
    add("customer-empty", "text-fields", "c empty", key=canonical({"c": ""}), expect="malformed")
    add("instance-empty", "text-fields", "i empty", key=canonical({"i": ""}), expect="malformed")
    add("customer-only-spaces", "text-fields", "c only spaces", key=canonical({"c": "   "}),
        expect="malformed")
    add("customer-only-nbsp", "text-fields", "c only U+00A0 (whitespace)",
        key=canonical({"c": "\u00a0"}), expect="malformed")
    add("license-id-tab", "text-fields", "a tab (\\t escape) in id",
        key=signed("{" + BASE_JSON.replace('"vector-min"', '"vector\\tmin"') + "}"),
        expect="malformed")
    add("customer-del", "text-fields", "U+007F in c",
        key=signed("{" + BASE_JSON.replace("Vector Test", "Vector\\u007fTest") + "}"),
        expect="malformed")
    add("customer-c1-control", "text-fields", "U+0085 (a C1 control) in c",
        key=signed("{" + BASE_JSON.replace("Vector Test", "Vector\\u0085Test") + "}"),
        expect="malformed")
    add("edition-newline", "text-fields", "a newline in e",
        key=signed("{" + BASE_JSON.replace('"standard"', '"stan\\ndard"') + "}"),
        expect="malformed")
    add("customer-spaces-kept", "text-fields", "leading and trailing spaces are kept",
        key=canonical({"c": "  Acme  "}), fields={"c": "  Acme  "})
    add("customer-format-characters", "text-fields",
        "format characters are not control characters: U+202E, U+200B, U+00A0 inside",
        key=canonical({"c": "Acme\u202eoC\u200b\u00a0Ltd"}), fields={"c": "Acme\u202eoC\u200b\u00a0Ltd"})
    add("customer-only-zero-width-space", "text-fields", "U+200B is not whitespace",
        key=canonical({"c": "\u200b"}), fields={"c": "\u200b"})

    # --- features
    grammar = ["sso", "SSO", "crm.v2", "s3-export", "oauth2_sync", "9lives", "sso"]
    add("features-grammar", "features",
        "letters, digits, _ - . starting with a letter or digit; case-sensitive; duplicates kept",
        key=canonical({"f": grammar}), fields={"f": grammar})
    sixty_four = ["f%d" % n for n in range(63)] + ["branding"]
    add("features-64", "features", "64 names", key=canonical({"f": sixty_four}),
        fields={"f": sixty_four})
    add("features-65", "features", "65 names", key=canonical({"f": sixty_four + ["x"]}),
        expect="malformed")
    add("features-65-duplicates", "features", "65 names, all the same: counted as 65",
        key=canonical({"f": ["sso"] * 65}), expect="malformed")
    add("feature-64-characters", "features", "a name of 64 characters",
        key=canonical({"f": ["a" * 64]}), fields={"f": ["a" * 64]})
    for name, feature, why in [
        ("feature-65-characters", "a" * 65, "a name of 65 characters"),
        ("feature-empty", "", "an empty name"),
        ("feature-leading-underscore", "_sso", "the first character is a letter or digit"),
        ("feature-leading-dot", ".sso", "the first character is a letter or digit"),
        ("feature-space", "single sign-on", "a space"),
        ("feature-slash", "a/b", "a slash"),
        ("feature-non-ascii", "\u00e9", "a letter that is not ASCII"),
    ]:
        add(name, "features", why, key=canonical({"f": [feature]}), expect="malformed")
    add("features-not-a-list", "features", "f is a list",
        key=raw(',"f":"sso"'), expect="malformed")
    add("features-not-strings", "features", "f holds strings", key=raw(',"f":[1]'),
        expect="malformed")

    # --- instance binding
    add("instance-this", "instance", "bound to the installing appliance",
        key=canonical({"i": INSTANCE}), fields={"i": INSTANCE})
    add("instance-uppercase", "instance", "compared exactly: uppercase is another id",
        key=canonical({"i": INSTANCE.upper()}), fields={"i": INSTANCE.upper()},
        install="wrong_instance")
    add("instance-trailing-space", "instance", "compared exactly: nothing is trimmed",
        key=canonical({"i": INSTANCE + " "}), fields={"i": INSTANCE + " "},
        install="wrong_instance")

    return {
        "about": "License key test vectors: see tests/vectors/README.md and LICENSE-KEYS.md. "
                 "Generated by tests/vectors/generate.py.",
        "format": 1,
        "trusted": {"demo": "keys/demo-vendor.pub", "other": "tests/vectors/other-vendor.pub"},
        "install": {"now": NOW, "instance_id": INSTANCE},
        "vectors": VECTORS,
    }


def render():
    return json.dumps(generate(), indent=1, ensure_ascii=True) + "\n"


def main(argv):
    text = render()
    if argv[1:] == ["--check"]:
        with open(OUTPUT, encoding="utf-8") as f:
            if f.read() != text:
                print(f"{OUTPUT} is not what {argv[0]} makes: run it and commit the result",
                      file=sys.stderr)
                return 1
        print(f"{OUTPUT}: {len(VECTORS)} vectors, as generated")
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {len(VECTORS)} vectors to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
