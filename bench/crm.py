#!/usr/bin/env python3
"""The CRM at a million contacts: list pages, search, the pipeline board, record creation
in one tenant and in two at once, and seeding, each against a baseline from the same run.

Usage: bench/crm.py [--scale 1.0] [--seconds 10] [--queries 200] [--binary PATH] [--no-build]
                    [--keep-db PATH] [--reuse-db PATH]
       (needs `wrk`; builds `holdfast`, `holdfast-signer` and `examples/crm_seed` in release
       unless --no-build; with --reuse-db, acme is served from a database kept earlier and
       only search and the board, 2 and 3 below, are measured)

Starts `holdfast serve` on a fresh data directory with a license issued with the demo vendor
key (so run it on a development build), sets up tenant `acme` and a second tenant `beta`
(through the operator API, its owner's invitation accepted), then seeds acme with
`examples/crm_seed` (at scale 1: 100,000 companies, 1,000,000 contacts, 200,000 deals of which
about 10,000 open in the Sales pipeline, 1,000,000 activities) while the server runs (WAL lets
it), and measures:

1. `wrk -t2 -c64` on a 20-record list page (customers sorted by last name), with the owner's
   session cookie, against `GET /healthz` on the same server: the same page again and again
   (answered from memory while nothing is written), and the same page under a query string
   the server has not seen (read from the database each time);
2. search, sequentially: type-ahead prefixes (2-3 letters) and two-term queries ("ada lov")
   taken from the seeded names, p50/p95/p99, against `GET /healthz` on the same connection;
   each set twice: first as the machine's memory left the database's pages (a kernel that
   pages out what has not been read for a while sends the first pass to the disk), then the
   same queries again, with those pages in memory (the server keeps no search answers);
3. the Sales pipeline's board, p50/p95, against `GET /healthz` on the same connection;
4. `POST /contacts` under wrk with the session cookie and CSRF header (a Lua script): acme
   alone at 64 connections, beta alone at 64, then both at once, 32 connections each;
5. seeding through `crm::records::create` against plain INSERTs of the same rows (measured
   by the seeder, same run).
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

from tenants import PASSWORD, ROOT, Client, ms, pct, serve, set_up_acme

API = "/t/{slug}/api/v1"
LIST_FILTERS = [{"field": "lifecycle_stage", "op": "eq", "value": "customer"}]
LIST_PATH = (API.format(slug="acme") + "/contacts?filters="
             + urllib.parse.quote(json.dumps(LIST_FILTERS)) + "&sort=last_name&limit=20")

# The same list page, its filters written with a different amount of white space each time
# (JSON ignores it): the same work for the database, but a different query string, so the
# server's memory of answers (256 of them, least recently used first out) never has it.
LIST_MISS_LUA = r"""
local n = 0
request = function()
  n = n + 1
  local pad = string.rep("%20", n % 600)
  local path = string.format(
    '%s/contacts?filters=%%5B%s%%7B%%22field%%22%%3A%%22lifecycle_stage%%22%%2C%%22op%%22%%3A' ..
    '%%22eq%%22%%2C%%22value%%22%%3A%%22customer%%22%%7D%%5D&sort=last_name&limit=20',
    "/t/acme/api/v1", pad)
  return wrk.format("GET", path)
end
"""

# Each request makes a different contact; wrk adds the cookie and CSRF headers given with -H.
CREATE_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
local stages = {"lead", "qualified", "customer", "other"}
request = function()
  n = n + 1
  local body = string.format(
    '{"first_name":"Bench%d","last_name":"Writer%d","emails":["w%d.%d@bench.example"],' ..
    '"phones":["+1 555 %04d"],"title":"Buyer","lifecycle_stage":"%s","source":"wrk"}',
    n, math.random(1000000), n, math.random(1000000000), n % 10000, stages[n % 4 + 1])
  return wrk.format(nil, nil, nil, body)
end
"""


def license_key(binary):
    signer = os.path.join(os.path.dirname(binary), "holdfast-signer")
    return subprocess.run(
        [signer, "issue", "--key", os.path.join(ROOT, "keys/demo-vendor.key"),
         "--customer", "Benchmark", "--edition", "enterprise", "--users", "20",
         "--tenants", "5", "--days", "30"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def sign_in(port, slug):
    client = Client(port)
    status, body, _ = client.call("POST", f"{API.format(slug=slug)}/auth/login",
                                  {"email": f"owner@{slug}.test", "password": PASSWORD})
    assert status == 200, (status, body)
    return client


def set_up_beta(port, key):
    """Installs the license (the community edition has one tenant) and makes tenant beta
    through the operator API, its owner's invitation accepted with PASSWORD."""
    op = Client(port)
    status, body, _ = op.call("POST", "/api/v1/admin/auth/login",
                              {"email": "op@example.com", "password": PASSWORD})
    assert status == 200, (status, body)
    status, body, _ = op.call("PUT", "/api/v1/admin/license", {"key": key})
    assert status == 200, (status, body)
    status, body, _ = op.call("POST", "/api/v1/admin/tenants", {
        "slug": "beta", "name": "Beta", "owner_email": "owner@beta.test"})
    assert status == 201, (status, body)
    invite = body["owner_invite_link"].split("#token=")[1]
    status, body, _ = Client(port).call("POST", f"{API.format(slug='beta')}/auth/accept-invite",
                                        {"token": invite, "password": PASSWORD})
    assert status == 200, (status, body)


def headers(client):
    return ["Cookie: " + "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
            f"X-CSRF-Token: {client.csrf}"]


def wrk_args(port, path, seconds, threads, connections, extra=(), script=None):
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "--timeout", "30s"]
    for header in extra:
        args += ["-H", header]
    if script:
        args += ["-s", script]
    return args + [f"http://127.0.0.1:{port}{path}"]


def wrk_result(out):
    """Requests/s, p99 latency (seconds) and refusals (non-2xx answers and timeouts)."""
    found = re.findall(r"Non-2xx or 3xx responses: (\d+)|timeout (\d+)", out)
    refused = sum(int(n) for pair in found for n in pair if n)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    return rate, float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit], refused


def wrk(port, path, seconds, threads=2, connections=64, extra=(), script=None):
    out = subprocess.run(wrk_args(port, path, seconds, threads, connections, extra, script),
                         check=True, capture_output=True, text=True).stdout
    return wrk_result(out)


def timed(client, path, rounds, baseline="/healthz"):
    """Times GET `path` and GET `baseline` alternately on one connection; answers the times
    of successful requests and the baseline's, and counts failed ones."""
    times, base, failed = [], [], 0
    for _ in range(rounds):
        status, _, elapsed = client.call("GET", path)
        if status == 200:
            times.append(elapsed)
        else:
            failed += 1
        base.append(client.call("GET", baseline)[2])
    return times, base, failed


def drain(client, path, seconds=120):
    """Waits until the server answers `path` again after a flood (queued requests finish
    after wrk has gone)."""
    deadline = time.time() + seconds
    while client.call("GET", path)[0] != 200 and time.time() < deadline:
        time.sleep(1)


def search_queries(client, count, seed=7):
    """Type-ahead prefixes and two-term queries made from the seeded contacts' names."""
    names, cursor = [], None
    while len(names) < 400:
        path = f"{API.format(slug='acme')}/contacts?sort=-updated_at&limit=100"
        if cursor:
            path += "&cursor=" + urllib.parse.quote(cursor)
        status, body, _ = client.call("GET", path)
        assert status == 200, (status, body)
        names += [(r["first_name"], r["last_name"]) for r in body["records"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    rng = random.Random(seed)
    prefix, two = [], []
    for _ in range(count):
        first, last = rng.choice(names)
        word = rng.choice([first, last])
        prefix.append(word[:rng.choice([2, 3])].lower())
        two.append(f"{first[:rng.randint(2, len(first))]} {last[:rng.randint(3, len(last))]}".lower())
    return prefix, two


def search(client, queries):
    times, base, hits, failed = [], [], [], 0
    for q in queries:
        path = f"{API.format(slug='acme')}/search?q={urllib.parse.quote(q)}&limit=10"
        status, body, elapsed = client.call("GET", path)
        if status == 200:
            times.append(elapsed)
            hits.append(sum(len(body[k]) for k in ("contacts", "companies", "deals", "activities")))
        else:
            failed += 1
        base.append(client.call("GET", "/healthz")[2])
    return times, base, failed, sum(hits) / max(1, len(hits))


def creation(port, owners, seconds, script):
    """POST /contacts under wrk: each tenant alone at 64 connections, then all at once
    with 32 connections each."""
    alone = {}
    for slug, client in owners.items():
        alone[slug] = wrk(port, f"{API.format(slug=slug)}/contacts", seconds,
                          extra=headers(client), script=script)
    running = {
        slug: subprocess.Popen(
            wrk_args(port, f"{API.format(slug=slug)}/contacts", seconds, 1, 32,
                     headers(client), script),
            stdout=subprocess.PIPE, text=True)
        for slug, client in owners.items()
    }
    together = {slug: wrk_result(p.communicate()[0]) for slug, p in running.items()}
    return alone, together


def seed(data_dir, scale):
    seeder = os.path.join(ROOT, "target/release/examples/crm_seed")
    start = time.perf_counter()
    out = subprocess.run([seeder, data_dir, "acme", "--scale", str(scale)],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    figures["wall_seconds"] = time.perf_counter() - start
    return figures


def keep(data_dir, path):
    """Copies the seeded tenant's database (it is acme's: the larger file) and its WAL."""
    tenants = os.path.join(data_dir, "tenants")
    db = max((f for f in os.listdir(tenants) if f.endswith(".db")),
             key=lambda f: os.path.getsize(os.path.join(tenants, f)))
    for suffix in ("", "-wal"):
        if os.path.exists(os.path.join(tenants, db + suffix)):
            shutil.copyfile(os.path.join(tenants, db + suffix), path + suffix)


def report_seed(s):
    order = ("companies", "contacts", "deals", "activities")
    print(f"seeding acme at scale {s['scale']}: " + ", ".join(
        f"{s['records'][kind]:,} {kind}" for kind in order)
        + f"; {s['batch']:,} records to a transaction")
    h, r = s["holdfast"], s["raw"]
    print(f"  crm::records::create   {h['records_per_s']:10,.0f} records/s  "
          f"({h['seconds']:.0f} s; " + ", ".join(
              f"{k} {h['by_kind'][k]:,.0f}/s" for k in order) + ")")
    print(f"  plain INSERT (baseline){r['records_per_s']:10,.0f} records/s  ({r['seconds']:.1f} s)")
    print(f"  ratio                  {s['ratio']:10.3f}  "
          f"(database {s['db_bytes'] / 2**20:,.0f} MiB; seeder ran {s['wall_seconds']:.0f} s)")
    print("  " + json.dumps(s), flush=True)


def lat(name, times, base, failed, qs=(0.5, 0.95, 0.99)):
    if not times:
        print(f"  {name:36} every request failed")
        return
    parts = "  ".join(f"p{round(q * 100)} {ms(pct(times, q))}" for q in qs)
    ratio = pct(times, 0.95) / pct(base, 0.95)
    print(f"  {name:36} {parts}   (healthz p95 {ms(pct(base, 0.95))}; p95 ratio {ratio:.1f}x)"
          + (f"; {failed} failed" if failed else ""))


def reads(acme, args):
    """Search and the board: what is measured one request at a time."""
    prefix, two = search_queries(acme, args.queries)
    print(f"search ({args.queries} different queries of each kind, one at a time, limit 10 per kind)")
    for name, queries in (("prefix, 2-3 letters", prefix), ("two terms", two)):
        for when in ("first", "again"):
            times, base, failed, hits = search(acme, queries)
            lat(f"{name}, {when} ({hits:.0f} hits)", times, base, failed)

    status, body, _ = acme.call("GET", API.format(slug="acme") + "/pipelines")
    sales = next(p for p in body["pipelines"] if p["name"] == "Sales")
    board_path = f"{API.format(slug='acme')}/pipelines/{sales['id']}/board"
    status, board, _ = acme.call("GET", board_path)
    open_deals = sum(c["count"] for c in board["stages"] if c["stage"]["kind"] == "open")
    shown = sum(c["count"] for c in board["stages"])
    print(f"board of Sales: {open_deals:,} open deals, {shown:,} with those closed in 30 days")
    lat(f"GET …/board ({args.rounds})", *timed(acme, board_path, args.rounds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/holdfast"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=10, help="of each wrk run")
    parser.add_argument("--queries", type=int, default=100, help="of each kind of search")
    parser.add_argument("--rounds", type=int, default=30, help="of list and board, one at a time")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--keep-db", metavar="PATH",
                        help="copy acme's database here at the end, for EXPLAIN QUERY PLAN")
    parser.add_argument("--reuse-db", metavar="PATH",
                        help="serve acme from a database kept by --keep-db (or bench/ui.py) "
                             "instead of seeding, and measure search and the board only")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bins",
                        "--example", "crm_seed"], check=True, cwd=ROOT)
    if args.reuse_db:
        from ui import reused
        with serve(args.binary) as (port, data_dir, server, token):
            set_up_acme(port, token)
            with reused(args.binary, data_dir, port, server, args.reuse_db):
                reads(sign_in(port, "acme"), args)
        return
    key = license_key(args.binary)

    with serve(args.binary) as (port, data_dir, _server, token), \
            tempfile.TemporaryDirectory() as scratch:
        set_up_acme(port, token)
        set_up_beta(port, key)
        seeded = seed(data_dir, args.scale)
        owners = {slug: sign_in(port, slug) for slug in ("acme", "beta")}
        acme = owners["acme"]

        report_seed(seeded)

        status, body, _ = acme.call("GET", LIST_PATH)
        assert status == 200 and len(body["records"]) == 20, (status, body)
        script = os.path.join(scratch, "list_miss.lua")
        with open(script, "w") as f:
            f.write(LIST_MISS_LUA)
        health_rate, _, _ = wrk(port, "/healthz", args.seconds)
        list_rate, list_p99, refused = wrk(port, LIST_PATH, args.seconds, extra=headers(acme)[:1])
        miss_rate, miss_p99, miss_refused = wrk(port, LIST_PATH, args.seconds,
                                                extra=headers(acme)[:1], script=script)
        print(f"list page: GET {urllib.parse.unquote(LIST_PATH)}")
        print(f"  wrk -t2 -c64 -d{args.seconds}s   GET /healthz {health_rate:,.0f} req/s (baseline)")
        print(f"  the same page again (kept in memory until a write): {list_rate:,.1f} req/s"
              f" = {list_rate / health_rate:.2%} of /healthz"
              f" (p99 {ms(list_p99)}, {refused} refused or timed out)")
        print(f"  a query string never seen before (read from the database): {miss_rate:,.1f} req/s"
              f" = {miss_rate / health_rate:.2%} of /healthz"
              f" (p99 {ms(miss_p99)}, {miss_refused} refused or timed out)")
        drain(acme, LIST_PATH)
        lat(f"one at a time ({args.rounds})", *timed(acme, LIST_PATH, args.rounds))

        reads(acme, args)

        script = os.path.join(scratch, "create.lua")
        with open(script, "w") as f:
            f.write(CREATE_LUA)
        alone, together = creation(port, owners, args.seconds, script)
        print("POST /contacts (wrk, -t2 -c64 alone; -t1 -c32 each when together)")
        for label, figures in (("alone", alone), ("together", together)):
            for slug, (rate, p99, refused) in figures.items():
                print(f"  {slug} {label:9} {rate:8,.0f} req/s  p99 {ms(p99)}  ({refused} refused)")
        total = sum(rate for rate, _, _ in together.values())
        print(f"  both together: {total:,.0f} req/s = {total / alone['acme'][0]:.2f}x acme alone, "
              f"{total / alone['beta'][0]:.2f}x beta alone")
        if args.keep_db:
            keep(data_dir, args.keep_db)

if __name__ == "__main__":
    main()
