#!/usr/bin/env python3
"""A backup taken while the server writes: it verifies, restores, and holds every write
acknowledged before it began.

Usage: bench/backup_load.py [--trials 10] [--every 3] [--binary PATH] [--no-build]
       (builds `holdfast` and `holdfast-signer` in release unless --no-build; the license is
       issued with the demo vendor key, so run it on a development build)

On one served data directory with three tenants whose owners write contacts from three
threads without pause, each trial notes the writes acknowledged so far, runs
`holdfast backup` (another process, while the writes go on), then `holdfast backup verify`,
restores the backup into an empty data directory with `holdfast restore`, and checks that
every write acknowledged before the backup began is in the restored tenants. Prints each
trial's backup time, size and counts.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

from crash import ROOT, appliance, build, demo_license, owners_of, writer


def restored_contacts(data_dir):
    """The first names of every restored tenant's contacts, by slug."""
    with sqlite3.connect(os.path.join(data_dir, "holdfast.db")) as conn:
        tenants = conn.execute("SELECT slug, id FROM tenants").fetchall()
    names = {}
    for slug, tenant_id in tenants:
        with sqlite3.connect(os.path.join(data_dir, "tenants", f"{tenant_id}.db")) as conn:
            names[slug] = {row[0] for row in conn.execute("SELECT first_name FROM contacts")}
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--every", type=float, default=3.0, help="seconds of writes between backups")
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/holdfast"))
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    build(args.no_build)
    key = demo_license(args.binary, "Backup test", 100, 10)
    scratch = tempfile.mkdtemp(prefix="holdfast-backup-load-")
    data_dir = os.path.join(scratch, "data")
    server, port, op = appliance(args.binary, data_dir, key)
    try:
        owners = owners_of(port, op, ["w0", "w1", "w2"])
        acks = {slug: [] for slug in owners}
        stop = threading.Event()
        threads = []
        for slug, client in owners.items():
            def make(n, slug=slug, client=client):
                status, _, _ = client.call("POST", f"/t/{slug}/api/v1/contacts",
                                           {"first_name": f"c{n}"})
                return status == 201
            threads.append(threading.Thread(target=writer, args=(stop, make, acks[slug])))
        for thread in threads:
            thread.start()
        passed = 0
        for trial in range(args.trials):
            time.sleep(args.every)
            before = {slug: {f"c{n}" for n in list(done)} for slug, done in acks.items()}
            out = os.path.join(scratch, f"backups-{trial}")
            started = time.perf_counter()
            subprocess.run([args.binary, "--data-dir", data_dir, "backup", "--out", out],
                           check=True, capture_output=True)
            seconds = time.perf_counter() - started
            during = sum(len(a) for a in acks.values()) - sum(len(b) for b in before.values())
            (archive,) = [os.path.join(out, f) for f in os.listdir(out) if f.endswith(".tar")]
            verified = subprocess.run([args.binary, "backup", "verify", archive],
                                      capture_output=True, text=True)
            fresh = os.path.join(scratch, f"restored-{trial}")
            restored = subprocess.run(
                [args.binary, "--data-dir", fresh, "restore", archive],
                capture_output=True, text=True)
            names = restored_contacts(fresh) if restored.returncode == 0 else {}
            missing = sum(len(b - names.get(slug, set())) for slug, b in before.items())
            ok = verified.returncode == 0 and restored.returncode == 0 and missing == 0
            passed += ok
            print(f"trial {trial + 1}: backup {seconds:.2f} s, {os.path.getsize(archive) / 2**20:.1f} MiB, "
                  f"{sum(len(b) for b in before.values()):,} writes acknowledged before it, "
                  f"{during:,} during; verify {'ok' if verified.returncode == 0 else 'FAILED'}, "
                  f"restore {'ok' if restored.returncode == 0 else 'FAILED'}, "
                  f"{missing} acknowledged writes missing", flush=True)
        stop.set()
        for thread in threads:
            thread.join()
        print(f"{passed} of {args.trials} backups taken under load verified, restored, and held "
              f"every write acknowledged before they began")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
