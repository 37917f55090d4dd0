#!/usr/bin/env python3
"""What anonymous floods cost everyone else: sign-in latency and audit rows under junk.

Usage: bench/anonymous_flood.py [path/to/holdfast] [connections] [seconds]
       (defaults: target/release/holdfast, 64 connections, 5 seconds per flood)

Starts `holdfast serve` on a fresh data directory, runs the one-time setup with a tenant
`acme` and its owner, then, for each flood — junk tokens on the invitation and reset routes,
and `POST /setup` after setup — sends it from CONNECTIONS keep-alive connections while a user
signs in again and again for SECONDS. Sign-in latency under the flood is reported against
sign-in latency with no flood and under a flood of `GET /healthz` (the cheapest request: what
any flood of that rate costs the machine) in the same run, as ratios (these machines are
noisy), with the flood's rate, its answers, and how many audit rows it added besides the
sign-ins' own.
"""

import http.client
import json
import os
import sqlite3
import sys
import threading
import time
from collections import Counter

from tenants import PASSWORD, ROOT, Client, ms, pct, serve, set_up_acme

JUNK = "A" * 43


def audit_rows(data_dir: str) -> int:
    paths = [os.path.join(data_dir, "holdfast.db")]
    tenants = os.path.join(data_dir, "tenants")
    paths += [os.path.join(tenants, f) for f in os.listdir(tenants) if f.endswith(".db")]
    total = 0
    for path in paths:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            total += db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    return total


def sign_ins(port: int, seconds: float, at_least: int = 10):
    """Signs in again and again for `seconds` (and at least `at_least` times)."""
    user = Client(port)
    times = []
    until = time.monotonic() + seconds
    while time.monotonic() < until or len(times) < at_least:
        status, body, elapsed = user.call("POST", "/t/acme/api/v1/auth/login",
                                          {"email": "owner@acme.test", "password": PASSWORD})
        assert status == 200, (status, body)
        times.append(elapsed)
    return times


def flood(port: int, connections: int, request):
    """Sends `request(i)` = (method, path, body) from `connections` connections until the
    returned event is set."""
    answers = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        seen = Counter()
        i = 0
        while not stop.is_set():
            method, path, body = request(i)
            i += 1
            try:
                payload = None if body is None else json.dumps(body)
                conn.request(method, path, payload, {"Content-Type": "application/json"})
                response = conn.getresponse()
                data = json.loads(response.read() or "null")
                code = data["error"]["code"] if data and "error" in data else str(response.status)
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                code = "connection_error"
            seen[code] += 1
        with lock:
            answers.update(seen)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    return threads, answers, stop


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/holdfast")
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    with serve(binary) as (port, data_dir, _server, token):
        set_up_acme(port, token)
        baseline = sign_ins(port, seconds)
        print(f"sign-in with no flood: p50 {ms(pct(baseline, 0.5))}  p99 {ms(pct(baseline, 0.99))}")
        floods = {
            # The cheapest request there is: what any flood of this rate costs on this machine.
            "GET /healthz (reference)": lambda i: ("GET", "/healthz", None),
            "junk invitation/reset tokens": lambda i: (
                "POST", f"/t/acme/api/v1/auth/{'accept-invite' if i % 2 else 'reset-password'}",
                {"token": JUNK, "password": "a perfectly fine passphrase"}),
            "POST /setup after setup": lambda i: (
                "POST", "/setup",
                {"token": JUNK, "operator": {"email": "x@y.co", "password": PASSWORD}}),
        }
        for name, request in floods.items():
            rows_before = audit_rows(data_dir)
            started = time.monotonic()
            threads, answers, stop = flood(port, connections, request)
            # Signed in only while the flood runs: the flood stops when they are done.
            during = sign_ins(port, seconds)
            stop.set()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
            total = sum(answers.values())
            added = audit_rows(data_dir) - rows_before - len(during)
            print(f"{name}: {connections} connections, {total} requests in {elapsed:.1f} s "
                  f"({total / elapsed:.0f}/s): {dict(answers)}")
            print(f"  {len(during)} sign-ins under the flood: p50 {ms(pct(during, 0.5))}  "
                  f"p99 {ms(pct(during, 0.99))}  "
                  f"(p50 ratio to no flood: {pct(during, 0.5) / pct(baseline, 0.5):.2f}x)")
            print(f"  audit rows added by the flood: {added} ({added / elapsed:.0f}/s)")


if __name__ == "__main__":
    main()
