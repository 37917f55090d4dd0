#!/usr/bin/env python3
"""Killing the server with SIGKILL under load, again and again: nothing acknowledged is lost.

Usage: bench/crash.py [--trials 50] [--binary PATH] [--no-build]
       (builds `holdfast` and `holdfast-signer` in release unless --no-build; the license is
       issued with the demo vendor key, so run it on a development build)

On one data directory, with an operator, a license for many tenants and three tenants whose
owners are signed in, each trial:

1. starts `holdfast serve` (after the first trial, on what the last kill left);
2. writes from four threads at once: three owners creating contacts in their tenants, and
   the operator creating tenants; each thread notes what the server acknowledged (201);
3. kills the server with SIGKILL after a random 0.2–1.5 s;
4. with the server down, checks every database with `PRAGMA integrity_check`, that every
   acknowledged contact and tenant is there, and counts tenant databases no tenant owns;
5. at the next start, checks that the server moved every such database to `orphans/`.

Prints a line per trial and the totals.
"""

import argparse
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tenants import PASSWORD, Client, free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(binary, data_dir, port, fresh=False):
    """Starts the server; answers the process and, on a fresh directory, the setup token."""
    server = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, HOLDFAST_LOG_LEVEL="warn", HOLDFAST_BACKUP_INTERVAL_HOURS="0"),
    )
    token = None
    while fresh and token is None:
        line = server.stdout.readline()
        if not line:
            raise RuntimeError("the server stopped before offering setup")
        found = re.search(r"/setup#token=([A-Za-z0-9_-]+)", line)
        token = found.group(1) if found else None
    threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
    for _ in range(300):
        try:
            status, _, _ = Client(port).call("GET", "/readyz")
            if status == 200:
                return server, token
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("the server did not become ready")


def build(no_build):
    """Builds the release binaries unless told not to."""
    if not no_build:
        subprocess.run(["cargo", "build", "--release", "--bins"], cwd=ROOT, check=True)


def demo_license(binary, customer, users, tenants):
    """A 30-day license issued with the demo vendor key (a development build trusts it)."""
    signer = os.path.join(os.path.dirname(binary), "holdfast-signer")
    return subprocess.run(
        [signer, "issue", "--key", os.path.join(ROOT, "keys/demo-vendor.key"),
         "--customer", customer, "--edition", "enterprise", "--users", str(users),
         "--tenants", str(tenants), "--days", "30"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def appliance(binary, data_dir, key):
    """A fresh appliance served on a free port, set up with `key` and an operator signed in:
    (server process, port, the operator's client)."""
    port = free_port()
    server, token = start(binary, data_dir, port, fresh=True)
    op = Client(port)
    status, body, _ = op.call("POST", "/setup", {
        "token": token, "license": key,
        "operator": {"email": "op@example.com", "password": PASSWORD}})
    assert status == 201, (status, body)
    status, body, _ = op.call("POST", "/api/v1/admin/auth/login",
                              {"email": "op@example.com", "password": PASSWORD})
    assert status == 200, (status, body)
    return server, port, op


def owners_of(port, op, slugs):
    """Tenants with their owners signed in: the owners' clients."""
    clients = {}
    for slug in slugs:
        status, body, _ = op.call("POST", "/api/v1/admin/tenants", {
            "slug": slug, "name": slug, "owner_email": f"owner@{slug}.test"})
        assert status == 201, (status, body)
        invite = body["owner_invite_link"].split("#token=")[1]
        owner = Client(port)
        status, body, _ = owner.call("POST", f"/t/{slug}/api/v1/auth/accept-invite",
                                     {"token": invite, "password": PASSWORD})
        assert status == 200, (status, body)
        status, body, _ = owner.call("POST", f"/t/{slug}/api/v1/auth/login",
                                     {"email": f"owner@{slug}.test", "password": PASSWORD})
        assert status == 200, (status, body)
        clients[slug] = owner
    return clients


def writer(stop, make, acknowledged):
    """Calls `make(n)` until stopped or refused by a dead server; notes what it acknowledged."""
    n = 0
    while not stop.is_set():
        try:
            if make(n):
                acknowledged.append(n)
        except Exception:  # noqa: BLE001 - any failure of a killed server ends the writer
            return
        n += 1


def tenant_ids(control):
    with sqlite3.connect(control) as conn:
        return {row[0]: row[1] for row in conn.execute("SELECT slug, id FROM tenants")}


def check(data_dir, acknowledged_contacts, acknowledged_tenants):
    """Integrity, acknowledged writes present, and databases no tenant owns (server down)."""
    control = os.path.join(data_dir, "holdfast.db")
    problems = []
    with sqlite3.connect(control) as conn:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("control database fails integrity_check")
    ids = tenant_ids(control)
    for slug in acknowledged_tenants:
        if slug not in ids:
            problems.append(f"acknowledged tenant {slug} is gone")
    for slug, names in acknowledged_contacts.items():
        db = os.path.join(data_dir, "tenants", f"{ids[slug]}.db")
        with sqlite3.connect(db) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                problems.append(f"{slug} fails integrity_check")
            present = {row[0] for row in conn.execute("SELECT first_name FROM contacts")}
        lost = [name for name in names if name not in present]
        if lost:
            problems.append(f"{slug}: {len(lost)} acknowledged contacts lost")
    owned = set(ids.values())
    orphans = [f for f in os.listdir(os.path.join(data_dir, "tenants"))
               if f.endswith(".db") and f[:-3] not in owned]
    return problems, orphans


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/holdfast"))
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    build(args.no_build)
    key = demo_license(args.binary, "Crash test", 10000, 5000)
    rnd = random.Random(7)
    data_dir = tempfile.mkdtemp(prefix="holdfast-crash-")
    server, port, op = appliance(args.binary, data_dir, key)
    owners = owners_of(port, op, ["w0", "w1", "w2"])

    contacts = {slug: [] for slug in owners}
    tenants_made = []
    clean, acknowledged_total, orphans_seen, orphans_left = 0, 0, 0, 0
    for trial in range(args.trials):
        if trial:
            server, _ = start(args.binary, data_dir, port)
            left = [f for f in os.listdir(os.path.join(data_dir, "tenants"))
                    if f.endswith(".db")
                    and f[:-3] not in set(tenant_ids(os.path.join(data_dir, "holdfast.db")).values())]
            orphans_left += len(left)
        for client in [op, *owners.values()]:
            client.conn.close()  # a connection of the killed server
        stop = threading.Event()
        acks = {slug: [] for slug in owners}
        made = []
        threads = []
        for slug, client in owners.items():
            def make(n, slug=slug, client=client):
                status, _, _ = client.call("POST", f"/t/{slug}/api/v1/contacts",
                                           {"first_name": f"t{trial}-{n}"})
                return status == 201
            threads.append(threading.Thread(target=writer, args=(stop, make, acks[slug])))

        def make_tenant(n):
            status, _, _ = op.call("POST", "/api/v1/admin/tenants",
                                   {"slug": f"c{trial}x{n}", "name": "crash"})
            return status == 201
        threads.append(threading.Thread(target=writer, args=(stop, make_tenant, made)))
        for thread in threads:
            thread.start()
        time.sleep(rnd.uniform(0.2, 1.5))
        server.kill()
        server.wait()
        stop.set()
        for thread in threads:
            thread.join()
        for slug in owners:
            contacts[slug].extend(f"t{trial}-{n}" for n in acks[slug])
        tenants_made.extend(f"c{trial}x{n}" for n in made)
        problems, orphans = check(data_dir, contacts, tenants_made)
        orphans_seen += len(orphans)
        written = sum(len(a) for a in acks.values()) + len(made)
        acknowledged_total += written
        clean += not problems
        print(f"trial {trial + 1:2}: {written:4} writes acknowledged, "
              f"{'ok' if not problems else '; '.join(problems)}, "
              f"{len(orphans)} database(s) no tenant owns", flush=True)
    server, _ = start(args.binary, data_dir, port)
    ids = set(tenant_ids(os.path.join(data_dir, "holdfast.db")).values())
    orphans_left += len([f for f in os.listdir(os.path.join(data_dir, "tenants"))
                         if f.endswith(".db") and f[:-3] not in ids])
    aside = os.path.join(data_dir, "orphans")
    moved = len([f for f in os.listdir(aside) if f.endswith(".db")]) if os.path.isdir(aside) else 0
    server.terminate()
    server.wait()
    print(f"{clean} of {args.trials} trials clean (integrity_check ok, every acknowledged "
          f"write there); {acknowledged_total:,} writes acknowledged in all")
    print(f"databases no tenant owns: {orphans_seen} right after a kill, {orphans_left} still "
          f"in tenants/ after the next start, {moved} moved to orphans/")


if __name__ == "__main__":
    main()
