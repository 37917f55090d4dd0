#!/usr/bin/env python3
"""What an authenticated read costs against the cheapest answer, under wrk.

Usage: bench/read_path.py [path/to/holdfast] [seconds]
       (defaults: target/release/holdfast, 5 seconds per run; needs `wrk`)

Starts `holdfast serve` on a fresh data directory with a tenant `acme` and its owner, signs
the owner in, then runs `wrk -t2 -c64` against `GET /healthz` (the baseline: no tenant, no
session, no database), then against `GET /t/acme/api/v1/auth/me` and `GET …/users` with the
session cookie. Prints requests/s of each and its ratio to `/healthz` measured in the same run.
"""

import os
import re
import subprocess
import sys

from tenants import PASSWORD, ROOT, Client, serve, set_up_acme


def wrk(port: int, path: str, seconds: int, headers=()) -> float:
    args = ["wrk", "-t2", "-c64", f"-d{seconds}s"]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"],
                         check=True, capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{path}: {non_2xx.group(1)} refusals\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/holdfast")
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with serve(binary) as (port, data_dir, _server, token):
        set_up_acme(port, token)
        owner = Client(port)
        status, body, _ = owner.call("POST", "/t/acme/api/v1/auth/login",
                                     {"email": "owner@acme.test", "password": PASSWORD})
        assert status == 200, (status, body)
        cookie = "Cookie: " + "; ".join(f"{k}={v}" for k, v in owner.cookies.items())

        health = wrk(port, "/healthz", seconds)
        me = wrk(port, "/t/acme/api/v1/auth/me", seconds, [cookie])
        users = wrk(port, "/t/acme/api/v1/users", seconds, [cookie])
        print(f"wrk -t2 -c64 -d{seconds}s, same server, same run")
        print(f"  GET /healthz                  {health:10.0f} req/s  (baseline)")
        print(f"  GET /t/acme/api/v1/auth/me    {me:10.0f} req/s  {me / health:6.1%} of /healthz")
        print(f"  GET /t/acme/api/v1/users      {users:10.0f} req/s  {users / health:6.1%} of /healthz")


if __name__ == "__main__":
    main()
