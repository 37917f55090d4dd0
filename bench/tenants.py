#!/usr/bin/env python3
"""Tenant provisioning, sign-in latency and memory with many tenants.

Usage: bench/tenants.py [path/to/holdfast] [tenants] [opened]
       (defaults: target/release/holdfast, 1000 tenants, 100 opened)

Starts `holdfast serve` on a fresh data directory, runs the one-time setup, installs a
license issued with the demo vendor key (so run it on a development build), then:

1. creates TENANTS tenants through the operator API, each with its owner invited, timing
   every request (p50/p99), and as a baseline in the same run times GET /healthz on the
   same connection, so the figures compare across noisy machines as ratios;
2. reads the server's RSS with every tenant provisioned and none of their databases open;
3. for OPENED tenants, accepts the owner's invitation, signs in (timed: Argon2 as
   configured) and reads the tenant's audit log (which opens its database), then reads RSS
   again, with OPENED tenant databases open (max_open_tenant_dbs is set to OPENED).
"""

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive connection with a cookie jar and the CSRF token, like a browser."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}
        self.csrf = None

    def call(self, method: str, path: str, body=None):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        payload = None if body is None else json.dumps(body)
        try:
            start = time.perf_counter()
            self.conn.request(method, path, payload, headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection: open a new one.
            self.conn.close()
            start = time.perf_counter()
            self.conn.request(method, path, payload, headers)
            response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - start
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        parsed = json.loads(data) if data else None
        if isinstance(parsed, dict) and parsed.get("csrf_token"):
            self.csrf = parsed["csrf_token"]
        return response.status, parsed, elapsed


@contextlib.contextmanager
def serve(binary: str, **env):
    """Runs `holdfast serve` on a free port and a fresh data directory until the block ends.
    Yields (port, data_dir, server process, the one-time setup token)."""
    data_dir = tempfile.mkdtemp(prefix="holdfast-bench-")
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir],
        stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, HOLDFAST_LOG_LEVEL="warn", **env),
    )
    try:
        token = None
        for line in server.stdout:
            found = re.search(r"/setup#token=([A-Za-z0-9_-]+)", line)
            if found:
                token = found.group(1)
                break
        time.sleep(0.2)
        yield port, data_dir, server, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def set_up_acme(port: int, token: str):
    """The one-time setup with an operator and tenant `acme` whose owner has PASSWORD."""
    status, body, _ = Client(port).call("POST", "/setup", {
        "token": token,
        "operator": {"email": "op@example.com", "password": PASSWORD},
        "tenant": {"slug": "acme", "name": "Acme", "owner_email": "owner@acme.test",
                   "owner_password": PASSWORD},
    })
    assert status == 201, (status, body)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/holdfast")
    tenants = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    opened = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    signer = os.path.join(os.path.dirname(binary), "holdfast-signer")
    key = subprocess.run(
        [signer, "issue", "--key", os.path.join(ROOT, "keys/demo-vendor.key"),
         "--customer", "Benchmark", "--edition", "enterprise", "--users", str(tenants * 2 + 10),
         "--tenants", str(tenants + 10), "--days", "30"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()

    with serve(binary, HOLDFAST_MAX_OPEN_TENANT_DBS=str(opened)) as (port, data_dir, server, token):
        op = Client(port)
        status, body, _ = op.call("POST", "/setup", {
            "token": token, "license": key,
            "operator": {"email": "op@example.com", "password": PASSWORD},
        })
        assert status == 201, (status, body)
        status, body, _ = op.call("POST", "/api/v1/admin/auth/login",
                                  {"email": "op@example.com", "password": PASSWORD})
        assert status == 200, (status, body)

        create, health, invites = [], [], []
        for i in range(tenants):
            slug = f"t{i:05d}"
            status, body, elapsed = op.call("POST", "/api/v1/admin/tenants", {
                "slug": slug, "name": f"Tenant {i}", "owner_email": f"owner@{slug}.test"})
            assert status == 201, (status, body)
            create.append(elapsed)
            invites.append((slug, body["owner_invite_link"].split("#token=")[1]))
            health.append(op.call("GET", "/healthz")[2])
        rss_provisioned = rss_mib(server.pid)

        sign_in, me, users = [], [], []
        for slug, invite in invites[:opened]:
            user = Client(port)
            users.append((slug, user))
            status, body, _ = user.call("POST", f"/t/{slug}/api/v1/auth/accept-invite",
                                        {"token": invite, "password": PASSWORD})
            assert status == 200, (status, body)
            status, body, elapsed = user.call("POST", f"/t/{slug}/api/v1/auth/login",
                                              {"email": f"owner@{slug}.test", "password": PASSWORD})
            assert status == 200, (status, body)
            sign_in.append(elapsed)
            me.append(user.call("GET", f"/t/{slug}/api/v1/auth/me")[2])
        rss_signed_in = rss_mib(server.pid)
        # Opening: the audit log lives in the tenant's own database. Tenants created last
        # are still open from their creation, so these (the first created) are opened anew.
        for slug, user in users:
            status, body, _ = user.call("GET", f"/t/{slug}/api/v1/audit")
            assert status == 200, (status, body)
        rss_opened = rss_mib(server.pid)

        print(f"tenants provisioned through the API: {tenants} (each with its owner invited)")
        print(f"  create tenant   p50 {ms(pct(create, 0.5))}  p99 {ms(pct(create, 0.99))}  "
              f"mean {ms(statistics.mean(create))}")
        print(f"  GET /healthz    p50 {ms(pct(health, 0.5))}  p99 {ms(pct(health, 0.99))}  (baseline)")
        print(f"  ratio p50 create/healthz: {pct(create, 0.5) / pct(health, 0.5):.1f}x")
        print(f"sign-in ({opened} users, Argon2id default parameters)")
        print(f"  sign in         p50 {ms(pct(sign_in, 0.5))}  p99 {ms(pct(sign_in, 0.99))}")
        print(f"  GET auth/me     p50 {ms(pct(me, 0.5))}  p99 {ms(pct(me, 0.99))}  (baseline)")
        print(f"  ratio p50 sign-in/me: {pct(sign_in, 0.5) / pct(me, 0.5):.1f}x")
        print(f"RSS after provisioning {tenants} tenants: {rss_provisioned:.1f} MiB")
        print(f"RSS after {opened} sign-ins: {rss_signed_in:.1f} MiB")
        print(f"RSS with {opened} tenant databases opened anew: {rss_opened:.1f} MiB "
              f"(+{rss_opened - rss_signed_in:.1f} MiB)")
        files = len([f for f in os.listdir(os.path.join(data_dir, "tenants")) if f.endswith(".db")])
        print(f"tenant database files: {files}")


if __name__ == "__main__":
    main()
