#!/usr/bin/env python3
"""Importing a million contacts from CSV, against SQLite inserting the same rows.

Usage: bench/import.py [--rows 1000000] [--binary PATH] [--no-build]
       (needs the `sqlite3` command; builds `holdfast` in release unless --no-build)

Writes a deterministic CSV of contacts (first and last name, a unique e-mail address, a
phone, a title, one of 20,000 company names, a lifecycle stage, two tags out of eight; one row
in a thousand repeats an earlier e-mail address and is skipped as a duplicate), creates tenant
`bench` on a fresh data directory, and measures:

1. `holdfast import --type contacts` of the file: e-mail dedupe (against the tenant and the
   file), companies found or made by name, the search index, a timeline entry per record,
   tags; rows per second over the command's whole run, and its peak resident memory (read
   from /proc while it runs) above the peak of the same command importing a 10-row file;
2. baselines, same run, same rows: `sqlite3`'s own `.import` of the file into a plain table
   (no index, no trigger), one `INSERT … SELECT` of those rows into the tenant's real
   `contacts` table (its indexes and search-index triggers) in a fresh copy of the schema,
   and the same writes as the import's done by SQLite alone, set-based (`same_writes`);
3. the export of those contacts as CSV through the API (`GET /export/contacts`, signed in as
   the tenant's owner, on `holdfast serve`): rows per second as the client reads them, and
   the server's resident memory while it streams above what it held before; against
   `sqlite3 -csv` writing the same table's rows to /dev/null;
4. duplicates found on demand (`GET /duplicates/contacts`, by e-mail and by name and company)
   against `sqlite3` grouping the same rows (case folded only: no accents, no punctuation);
5. a bulk change by filter (`POST /bulk/contacts`: every lead becomes `other`, about a quarter
   of the rows: 100,000 of 400,000), its time against one SQL `UPDATE` of the same rows (and
   their versions) in a copy of the database.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery staple"

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Dennis",
         "Frances", "Niklaus", "Radia", "Tim", "Katherine", "John", "Hedy", "Linus", "Sophie"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson",
        "Ritchie", "Allen", "Wirth", "Perlman", "Berners-Lee", "Johnson", "Backus", "Lamarr",
        "Torvalds", "Wilson", "Bakker", "Müller", "García", "Nguyen", "Kowalski", "Okafor"]
TITLES = ["Engineer", "CTO", "Buyer", "Head of Sales", "Analyst", "Founder", "Manager", ""]
STAGES = ["lead", "qualified", "customer", "other"]
TAGS = ["vip", "partner", "newsletter", "trade-show", "churn-risk", "beta", "emea", "apac"]


def write_csv(path, rows, seed=11):
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("First name,Last name,Email,Phone,Job title,Company,Lifecycle stage,Tags\r\n")
        for i in range(rows):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            # One row in a thousand repeats an earlier row's address: a duplicate.
            n = rnd.randrange(i) if i and i % 1000 == 0 else i
            email = f"{first.lower()}.{n}@example.org"
            tags = ";".join(rnd.sample(TAGS, 2))
            out.write(f"{first},{last},{email},+1 555 {i % 10_000_000:07d},"
                      f"{rnd.choice(TITLES)},Company {rnd.randrange(20_000)} Ltd,"
                      f"{rnd.choice(STAGES)},\"{tags}\"\r\n")


def peak_rss(cmd, env=None):
    """Runs `cmd`; answers (seconds, peak resident set in bytes, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    peak = [0]

    def watch():
        status = f"/proc/{proc.pid}/status"
        while proc.poll() is None:
            try:
                with open(status) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak[0] = max(peak[0], int(line.split()[1]) * 1024)
            except OSError:
                break
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    out, _ = proc.communicate()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {out}")
    return time.perf_counter() - start, peak[0], out


def sqlite(db, *commands):
    subprocess.run(["sqlite3", db, *commands], check=True, stdout=subprocess.DEVNULL)


def baselines(csv_path, tenant_db, scratch, rows):
    plain = os.path.join(scratch, "plain.db")
    start = time.perf_counter()
    sqlite(plain, "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", ".mode csv",
           f".import {csv_path} people")
    plain_s = time.perf_counter() - start
    # The tenant's schema, empty: a copy of a fresh tenant's database.
    schema = os.path.join(scratch, "schema.db")
    shutil.copyfile(tenant_db, schema)
    sqlite(schema, "DELETE FROM contacts", "DELETE FROM companies", "DELETE FROM timeline",
           "DELETE FROM record_tags", "DELETE FROM tags", "VACUUM")
    start = time.perf_counter()
    sqlite(schema, "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
           f"ATTACH '{plain}' AS plain",
           "INSERT INTO contacts (id, first_name, last_name, emails, phones, title,"
           " lifecycle_stage, created_at, created_by, updated_at, updated_by)"
           " SELECT lower(hex(randomblob(16))), \"First name\", \"Last name\","
           " json_array(Email), json_array(Phone), nullif(\"Job title\", ''),"
           " \"Lifecycle stage\", unixepoch(), 'bench', unixepoch(), 'bench'"
           " FROM plain.people")
    schema_s = time.perf_counter() - start
    writes_s = same_writes(plain, tenant_db, scratch, rows)
    return {"plain_import_rows_per_s": rows / plain_s, "plain_seconds": plain_s,
            "schema_insert_rows_per_s": rows / schema_s, "schema_seconds": schema_s,
            "same_writes_rows_per_s": rows / writes_s, "same_writes_seconds": writes_s}


def same_writes(plain, tenant_db, scratch, rows, batch=35_000):
    """Seconds SQLite alone takes for what the import writes, from rows already in a table:
    in a fresh copy of the tenant's schema, batches of about a second of the import's, each
    one transaction: the contacts not already there by e-mail (ids in order, their company
    by name, the search index), a timeline entry each, their tags. The companies and tags
    are made before the clock starts."""
    db = os.path.join(scratch, "writes.db")
    shutil.copyfile(tenant_db, db)
    setup = [f"ATTACH '{plain}' AS plain",
             "INSERT INTO companies (id, name, created_at, created_by, updated_at, updated_by)"
             " SELECT lower(hex(randomblob(16))), Company, 1, 'bench', 1, 'bench'"
             " FROM (SELECT DISTINCT Company FROM plain.people)",
             "INSERT INTO tags (id, name, created_at) SELECT DISTINCT lower(hex(randomblob(16))),"
             " j.value, 1 FROM (SELECT DISTINCT Tags FROM plain.people) p,"
             " json_each('[\"' || replace(p.Tags, ';', '\",\"') || '\"]') j"
             " WHERE true ON CONFLICT DO NOTHING",
             "CREATE TEMP TABLE mark (seq INTEGER)"]
    sqlite(db, "PRAGMA journal_mode=WAL", *setup)
    script = ["PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-24576",
              "PRAGMA wal_autocheckpoint=8000", f"ATTACH '{plain}' AS plain",
              "CREATE TEMP TABLE mark (seq INTEGER)"]
    for low in range(0, rows, batch):
        within = f"p.rowid > {low} AND p.rowid <= {low + batch}"
        script += [
            "BEGIN IMMEDIATE",
            "DELETE FROM mark", "INSERT INTO mark SELECT ifnull(max(seq), 0) FROM contacts",
            "INSERT INTO contacts (id, first_name, last_name, emails, phones, title, company_id,"
            " owner_id, lifecycle_stage, import_seq, created_at, created_by, updated_at,"
            " updated_by)"
            " SELECT printf('%032d', p.rowid), p.\"First name\", p.\"Last name\","
            " json_array(p.Email), json_array(p.Phone), nullif(p.\"Job title\", ''), c.id,"
            " 'bench-owner', p.\"Lifecycle stage\", 1, unixepoch(), 'bench', unixepoch(),"
            " 'bench'"
            " FROM plain.people p JOIN companies c ON c.name = p.Company"
            f" WHERE {within} AND NOT EXISTS (SELECT 1 FROM contacts"
            " WHERE email = p.Email AND deleted_at IS NULL) ORDER BY p.rowid",
            "INSERT INTO timeline (record_kind, record_id, at, actor, event, detail)"
            " SELECT 'contact', id, unixepoch(), 'bench', 'imported',"
            " '{\"import_id\":\"0123456789abcdef0123456789abcdef\",\"file\":\"contacts.csv\"}'"
            " FROM contacts WHERE seq > (SELECT seq FROM mark) ORDER BY seq",
            "INSERT OR IGNORE INTO record_tags (record_kind, record_id, tag_id)"
            " SELECT 'contact', r.id, t.id FROM contacts r JOIN plain.people p"
            " ON p.rowid = CAST(r.id AS INTEGER),"
            " json_each('[\"' || replace(p.Tags, ';', '\",\"') || '\"]') j"
            " JOIN tags t ON t.name = j.value WHERE r.seq > (SELECT seq FROM mark)",
            "COMMIT"]
    start = time.perf_counter()
    sqlite(db, *script)
    return time.perf_counter() - start


def rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def duplicates(conn, cookie, db):
    """Times `GET /duplicates/contacts` by each reason against SQLite grouping the same rows."""
    baselines = {
        "email": "SELECT lower(j.value), count(*) FROM contacts, json_each(contacts.emails) j "
                 "WHERE deleted_at IS NULL GROUP BY 1 HAVING count(*) > 1",
        "name": "SELECT lower(first_name || ' ' || last_name), ifnull(company_id, ''), count(*) "
                "FROM contacts WHERE deleted_at IS NULL GROUP BY 1, 2 HAVING count(*) > 1",
    }
    for reason, sql in baselines.items():
        start = time.perf_counter()
        conn.request("GET", f"/t/acme/api/v1/duplicates/contacts?by={reason}&limit=50",
                     headers={"Cookie": cookie})
        response = conn.getresponse()
        answer = json.loads(response.read())
        seconds = time.perf_counter() - start
        assert response.status == 200, answer
        start = time.perf_counter()
        subprocess.run(["sqlite3", db, f"SELECT count(*) FROM ({sql})"], check=True,
                       stdout=subprocess.DEVNULL)
        raw = time.perf_counter() - start
        print(f"  GET /duplicates/contacts?by={reason:5} {seconds:6.2f} s, {answer['total']:,} groups;"
              f" sqlite3 GROUP BY {raw:.2f} s   ratio {seconds / raw:.2f}", flush=True)


def export(binary, csv_path, rows):
    """Imports the file into a served tenant, then measures its export through the API."""
    sys_path = os.path.dirname(os.path.abspath(__file__))
    import sys
    sys.path.insert(0, sys_path)
    from tenants import serve, set_up_acme
    with serve(binary) as (port, data_dir, server, token):
        set_up_acme(port, token)
        subprocess.run([binary, "--data-dir", data_dir, "import", "--tenant", "acme", "--type",
                        "contacts", csv_path], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("POST", "/t/acme/api/v1/auth/login",
                     json.dumps({"email": "owner@acme.test", "password": PASSWORD}),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        cookie = response.getheader("Set-Cookie").split(";")[0]
        response.read()
        before = rss(server.pid)
        peak = [before]
        done = threading.Event()

        def watch():
            while not done.is_set():
                peak[0] = max(peak[0], rss(server.pid))
                time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        start = time.perf_counter()
        conn.request("GET", "/t/acme/api/v1/export/contacts", headers={"Cookie": cookie})
        response = conn.getresponse()
        assert response.status == 200, response.status
        size, lines = 0, 0
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
        tenants = os.path.join(data_dir, "tenants")
        db = max((os.path.join(tenants, f) for f in os.listdir(tenants) if f.endswith(".db")),
                 key=os.path.getsize)
        start = time.perf_counter()
        subprocess.run(["sqlite3", "-csv", db, "SELECT * FROM contacts"], check=True,
                       stdout=subprocess.DEVNULL)
        raw = time.perf_counter() - start
        exported = lines - 1
        print(f"export of {exported:,} contacts as CSV ({size / 2**20:,.0f} MiB)")
        print(f"  GET /export/contacts          {exported / seconds:10,.0f} rows/s  ({seconds:.1f} s)")
        print(f"  sqlite3 -csv SELECT *         {rows / raw:10,.0f} rows/s  ({raw:.1f} s)"
              f"   ratio {(exported / seconds) / (rows / raw):.2f}")
        print(f"  server RSS {before / 2**20:,.1f} MiB before, {peak[0] / 2**20:,.1f} MiB at most"
              f" while streaming: growth {(peak[0] - before) / 2**20:,.1f} MiB", flush=True)
        duplicates(conn, cookie, db)
        copy = os.path.join(data_dir, "copy.db")
        subprocess.run(["sqlite3", db, f"VACUUM INTO '{copy}'"], check=True)
        # The copy can outlast the server's keep-alive: a new connection.
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("GET", "/t/acme/api/v1/auth/me", headers={"Cookie": cookie})
        me = conn.getresponse()
        csrf = json.loads(me.read()).get("csrf_token")
        body = json.dumps({"filters": [{"field": "lifecycle_stage", "op": "eq", "value": "lead"}],
                           "set": {"lifecycle_stage": "other"}})
        start = time.perf_counter()
        conn.request("POST", "/t/acme/api/v1/bulk/contacts", body,
                     {"Cookie": cookie, "Content-Type": "application/json", "X-CSRF-Token": csrf})
        response = conn.getresponse()
        answer = json.loads(response.read())
        bulk = time.perf_counter() - start
        assert response.status == 200, answer
        start = time.perf_counter()
        subprocess.run(["sqlite3", copy, "UPDATE contacts SET lifecycle_stage = 'other', "
                        "version = version + 1 WHERE lifecycle_stage = 'lead' AND deleted_at IS NULL"],
                       check=True)
        raw = time.perf_counter() - start
        print(f"bulk change by filter of {answer['changed']:,} contacts (of {exported:,})")
        print(f"  POST /bulk/contacts           {bulk:10.2f} s  ({answer['changed'] / bulk:,.0f} records/s)")
        print(f"  one SQL UPDATE                {raw:10.2f} s   ratio {raw / bulk:.3f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/holdfast"))
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "holdfast"], cwd=ROOT,
                       check=True)
    scratch = tempfile.mkdtemp(prefix="holdfast-import-bench-")
    try:
        data = os.path.join(scratch, "data")
        csv_path = os.path.join(scratch, "contacts.csv")
        small = os.path.join(scratch, "ten.csv")
        write_csv(csv_path, args.rows)
        write_csv(small, 10, seed=12)
        size = os.path.getsize(csv_path)
        hf = [args.binary, "--data-dir", data]
        env = {"PATH": os.environ.get("PATH", ""), "HOME": scratch}
        subprocess.run(hf + ["tenant", "create", "--name", "Bench", "bench"], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        tenants = os.path.join(data, "tenants")
        # The tenant's database, not the lock file beside it (listing order is the disk's).
        (tenant_db,) = [os.path.join(tenants, f) for f in os.listdir(tenants)
                        if f.endswith(".db")]
        fresh = os.path.join(scratch, "fresh.db")
        shutil.copyfile(tenant_db, fresh)

        _, small_peak, _ = peak_rss(hf + ["import", "--tenant", "bench", "--type", "contacts",
                                          small], env)
        seconds, peak, out = peak_rss(hf + ["import", "--tenant", "bench", "--type",
                                            "contacts", csv_path], env)
        base = baselines(csv_path, fresh, scratch, args.rows)
        rate = args.rows / seconds
        print(f"import of {args.rows:,} contacts ({size / 2**20:,.0f} MiB of CSV)")
        print("  " + out.strip().splitlines()[-1])
        print(f"  holdfast import               {rate:10,.0f} rows/s  ({seconds:.1f} s)")
        print(f"  sqlite3 .import, plain table  {base['plain_import_rows_per_s']:10,.0f} rows/s"
              f"  ({base['plain_seconds']:.1f} s)   ratio {rate / base['plain_import_rows_per_s']:.2f}")
        print(f"  INSERT…SELECT, tenant schema  {base['schema_insert_rows_per_s']:10,.0f} rows/s"
              f"  ({base['schema_seconds']:.1f} s)   ratio {rate / base['schema_insert_rows_per_s']:.2f}")
        print(f"  the same writes, set-based    {base['same_writes_rows_per_s']:10,.0f} rows/s"
              f"  ({base['same_writes_seconds']:.1f} s)   ratio {rate / base['same_writes_rows_per_s']:.2f}")
        print(f"  peak RSS {peak / 2**20:,.1f} MiB; a 10-row import's {small_peak / 2**20:,.1f} MiB;"
              f" growth {(peak - small_peak) / 2**20:,.1f} MiB", flush=True)
        export(args.binary, csv_path, args.rows)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
