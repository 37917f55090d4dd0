#!/usr/bin/env python3
"""A full disk during writes and during a backup: a clear error, no damaged database, and
the server goes on once there is space again.

Usage: bench/full_disk.py [--binary PATH] [--no-build]
       (needs root, to mount a small tmpfs for the data directory; builds `holdfast` and
       `holdfast-signer` in release unless --no-build)

Mounts a 48 MiB tmpfs, serves a data directory on it with one tenant, then:

1. fills the disk with a file, and has the tenant's owner create contacts until the disk
   refuses: each refusal must be `507 storage_full`, and no write that was refused may appear;
2. runs `holdfast backup` onto the full disk: it must fail with a clear message and leave no
   partial file behind;
3. frees the space: the next write must succeed without a restart, and every database must
   pass `PRAGMA integrity_check`.
"""

import argparse
import contextlib
import os
import sqlite3
import subprocess
import tempfile

from crash import ROOT, appliance, build, demo_license, owners_of

SIZE_MIB = 48


def fill(path):
    """Writes zeros into `path` until the disk is full, to the last byte."""
    with open(path, "wb", buffering=0) as out:
        for size in (1 << 20, 4096, 1):
            while True:
                try:
                    out.write(b"\0" * size)
                except OSError:
                    break


def integrity(data_dir):
    results = []
    dbs = [os.path.join(data_dir, "holdfast.db")] + [
        os.path.join(data_dir, "tenants", f)
        for f in os.listdir(os.path.join(data_dir, "tenants")) if f.endswith(".db")]
    for db in dbs:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            results.append(conn.execute("PRAGMA integrity_check").fetchone()[0])
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/holdfast"))
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    build(args.no_build)
    key = demo_license(args.binary, "Full disk", 100, 10)
    mount = tempfile.mkdtemp(prefix="holdfast-full-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MIB}m", "tmpfs", mount], check=True)
    server = None
    try:
        data_dir = os.path.join(mount, "data")
        server, port, op = appliance(args.binary, data_dir, key)
        owner = owners_of(port, op, ["acme"])["acme"]
        filler = os.path.join(mount, "filler")
        fill(filler)

        created, refusals, other = [], {}, []
        for n in range(3000):
            status, body, _ = owner.call("POST", "/t/acme/api/v1/contacts",
                                         {"first_name": f"full-{n}", "title": "x" * 150})
            if status == 201:
                created.append(f"full-{n}")
                continue
            code = (body or {}).get("error", {}).get("code")
            refusals[(status, code)] = refusals.get((status, code), 0) + 1
            if (status, code) != (507, "storage_full"):
                other.append((status, code))
            if sum(refusals.values()) >= 20:
                break
        print(f"writes on a full disk: {len(created)} accepted before it filled, refusals "
              f"{dict((f'{s} {c}', k) for (s, c), k in refusals.items())}")

        backups = os.path.join(mount, "backups")
        run = subprocess.run([args.binary, "--data-dir", data_dir, "backup", "--out", backups],
                             capture_output=True, text=True)
        leftovers = os.listdir(backups) if os.path.isdir(backups) else []
        print(f"backup on a full disk: exit {run.returncode}, {run.stderr.strip()!r}, "
              f"left in the backup directory: {leftovers}")

        os.remove(filler)
        status, body, _ = owner.call("POST", "/t/acme/api/v1/contacts", {"first_name": "after"})
        print(f"after freeing space: POST /contacts answered {status} (no restart)")
        server.terminate()
        server.wait()
        server = None
        checks = integrity(data_dir)
        with contextlib.closing(sqlite3.connect(os.path.join(data_dir, "holdfast.db"))) as conn:
            (tenant_id,) = conn.execute("SELECT id FROM tenants WHERE slug = 'acme'").fetchone()
        with contextlib.closing(
                sqlite3.connect(os.path.join(data_dir, "tenants", f"{tenant_id}.db"))) as conn:
            names = {row[0] for row in conn.execute("SELECT first_name FROM contacts")}
        lost = [name for name in created if name not in names]
        refused_but_there = [n for n in names if n.startswith("full-") and n not in created]
        print(f"integrity_check: {checks}; acknowledged writes lost: {len(lost)}; "
              f"refused writes present: {len(refused_but_there)}")
        ok = (not other and refusals and run.returncode != 0 and not leftovers and status == 201
              and all(c == "ok" for c in checks) and not lost and not refused_but_there)
        print("full disk: " + ("every check passed" if ok else "FAILED"))
    finally:
        if server:
            server.kill()
            server.wait()
        subprocess.run(["umount", mount], check=False)
        os.rmdir(mount)


if __name__ == "__main__":
    main()
