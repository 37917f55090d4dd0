#!/usr/bin/env python3
"""The web UI's two figures: a list page of 50 records rendered by the server with a million
contacts in the tenant, and what a first visit transfers.

Usage: bench/ui.py [--scale 1.0] [--rounds 200] [--binary PATH] [--no-build] [--keep-db PATH]
                   [--reuse-db PATH]
       (builds `holdfast`, `holdfast-signer` and `examples/crm_seed` in release unless
       --no-build)

Starts `holdfast serve` on a fresh data directory, sets up tenant `acme` and seeds it with
`examples/crm_seed` (at scale 1: 1,000,000 contacts, 100,000 companies, 200,000 deals,
1,000,000 activities), signs its owner in, then:

With --reuse-db, acme starts from a database an earlier run kept (--keep-db) instead of being
seeded: the server is stopped, the file put in place, and the server started again, which
migrates it on open as an upgrade would.

1. asks for contacts pages of 50 one at a time on one keep-alive connection — sorted by last
   name, filtered by stage, newest first, and a last-name search, each query string new so
   that no kept answer serves it — against `GET /healthz` on the same connection, p50/p95;
   the same pages' JSON from the API alongside, to show what the HTML adds;
2. adds up what a browser fetches on a first visit, gzip-compressed as the server sends it:
   the sign-in page and its styles and icon, then the dashboard and the script.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from crm import keep, seed  # noqa: E402
from tenants import PASSWORD, ROOT, Client, ms, pct, serve, set_up_acme  # noqa: E402

# How many last names begin, in the case people type: searches that fill their page.
FRAGMENTS = ["b", "ba", "be", "ma", "mo", "sc", "wi", "ho"]


def get(conn, path, cookie, gzip=False):
    """GET on `conn`: (status, body bytes as sent, seconds)."""
    headers = {"Cookie": cookie}
    if gzip:
        headers["Accept-Encoding"] = "gzip"
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return response.status, body, time.perf_counter() - start


KINDS = [
    ("last name starts with", lambda: f"sort=last_name&q={random.choice(FRAGMENTS)}"),
    ("customers by last name", lambda: "sort=last_name&stage=customer"),
    ("newest first", lambda: "sort=-created_at"),
    ("leads, recently changed first", lambda: "sort=-updated_at&stage=lead"),
]


def pages(rounds):
    """`rounds` contacts pages of 50, the kinds of KINDS in turn: (kind, query string)."""
    return [(KINDS[i % len(KINDS)][0], KINDS[i % len(KINDS)][1]()) for i in range(rounds)]


@contextlib.contextmanager
def reused(binary, data_dir, port, server, path):
    """Stops `server`, puts the database at `path` in place of acme's, and serves the same
    data directory again on `port` until the block ends."""
    server.terminate()
    server.wait(timeout=30)
    tenants = os.path.join(data_dir, "tenants")
    (db,) = [f for f in os.listdir(tenants) if f.endswith(".db")]
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(tenants, db + suffix))
    shutil.copyfile(path, os.path.join(tenants, db))
    if os.path.exists(path + "-wal"):
        shutil.copyfile(path + "-wal", os.path.join(tenants, db + "-wal"))
    again = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir],
        stdout=subprocess.DEVNULL, env=dict(os.environ, HOLDFAST_LOG_LEVEL="warn"))
    try:
        for _ in range(300):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield
    finally:
        again.terminate()
        again.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/holdfast"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--keep-db", metavar="PATH",
                        help="copy acme's database here at the end, for EXPLAIN QUERY PLAN")
    parser.add_argument("--reuse-db", metavar="PATH",
                        help="start acme from a database kept by --keep-db instead of seeding")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bins",
                        "--example", "crm_seed"], check=True, cwd=ROOT)
    random.seed(7)
    with serve(args.binary) as (port, data_dir, server, token):
        set_up_acme(port, token)
        if args.reuse_db:
            with reused(args.binary, data_dir, port, server, args.reuse_db):
                measure(args, port, data_dir)
        else:
            seeded = seed(data_dir, args.scale)
            print(f"seeded: {json.dumps(seeded)}")
            measure(args, port, data_dir)


def measure(args, port, data_dir):
    """The list pages against /healthz, the API's JSON, and a first visit's weight."""
    owner = Client(port)
    status, body, _ = owner.call("POST", "/t/acme/api/v1/auth/login",
                                 {"email": "owner@acme.test", "password": PASSWORD})
    assert status == 200, (status, body)
    cookie = "; ".join(f"{k}={v}" for k, v in owner.cookies.items())

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    html, api, health, rows = [], [], [], []
    by_kind = {}
    # Pages are not kept in memory as the API's list answers are: each is read from the
    # database and rendered.
    for kind, query in pages(args.rounds):
        status, body, seconds = get(conn, f"/t/acme/contacts?{query}", cookie)
        assert status == 200, (status, body[:300])
        rows.append(body.count(b"<tr>") - 1)
        html.append(seconds)
        by_kind.setdefault(kind, []).append(seconds)
        status, _, seconds = get(conn, "/healthz", cookie)
        health.append(seconds)
    # The API's list, for comparison: the same 50-record page, kept answers defeated by
    # a different cursor-free query each time (white space in the JSON filters).
    for i in range(args.rounds):
        pad = "%20" * (i % 400)
        status, body, seconds = get(
            conn, f"/t/acme/api/v1/contacts?filters=%5B{pad}%5D&sort=last_name&limit=50",
            cookie)
        assert status == 200, (status, body[:300])
        api.append(seconds)

    print(f"list page of 50 (on average {sum(rows) / len(rows):.1f} rows), HTML, "
          f"{args.rounds} one at a time: "
          f"p50 {ms(pct(html, 0.5))}, p95 {ms(pct(html, 0.95))}")
    print(f"  /healthz on the same connection: p50 {ms(pct(health, 0.5))}, "
          f"p95 {ms(pct(health, 0.95))}; ratio of p95 {pct(html, 0.95) / pct(health, 0.95):.1f}x")
    for kind, times in by_kind.items():
        print(f"  {kind}: p50 {ms(pct(times, 0.5))}, p95 {ms(pct(times, 0.95))}")
    print(f"  the API's JSON of 50 (by last name): p50 {ms(pct(api, 0.5))}, "
          f"p95 {ms(pct(api, 0.95))}")

    first = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    total = 0
    # The tenant's brand (its stylesheet, and its logo: a redirect to Holdfast's icon when it
    # has none) comes with every page.
    for path, who in [("/t/acme/sign-in", ""), ("/assets/css/holdfast.css", ""),
                      ("/assets/css/app.css", ""), ("/t/acme/brand.css", ""),
                      ("/t/acme/brand/logo", ""), ("/assets/img/holdfast.svg", ""),
                      ("/t/acme/dashboard", cookie), ("/assets/js/app.js", cookie)]:
        status, body, _ = get(first, path, who, gzip=True)
        assert status in (200, 302), (path, status)
        total += len(body)
        print(f"  {path}: {len(body):,} bytes as sent")
    print(f"first visit (sign-in page, then the dashboard), gzip as sent: {total:,} bytes "
          f"= {total / 1024:.1f} KiB (target <= 150 KB)")
    if args.keep_db:
        keep(data_dir, args.keep_db)


if __name__ == "__main__":
    main()
