#!/usr/bin/env python3
"""What an authenticated read costs against the cheapest answer, under wrk.

Usage: bench/read_path.py [path/to/holdfast] [seconds]
       (defaults: target/release/holdfast, 5 seconds per run; needs `wrk`)

Starts `holdfast serve` on a fresh data directory with a tenant `acme` and its owner, signs
the owner in, then runs `wrk -t2 -c64` against `GET /healthz` (the baseline: no tenant, no
session, no database), then against `GET /t/acme/api/v1/auth/me` and `GET …/users` with the
session cookie. Prints requests/s of each and its ratio to `/healthz` measured in the same run,
and the server's CPU time per request (user + system, from /proc; Linux only), which other
load on the machine disturbs less than throughput.
"""

import os
import re
import subprocess
import sys

from tenants import PASSWORD, ROOT, Client, serve, set_up_acme


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used, its finished threads included."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, path: str, seconds: int, headers=()) -> tuple[float, int]:
    """Requests/s and requests answered."""
    args = ["wrk", "-t2", "-c64", f"-d{seconds}s"]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"],
                         check=True, capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{path}: {non_2xx.group(1)} refusals\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, int(re.search(r"(\d+) requests in", out).group(1))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/holdfast")
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with serve(binary) as (port, data_dir, server, token):
        set_up_acme(port, token)
        owner = Client(port)
        status, body, _ = owner.call("POST", "/t/acme/api/v1/auth/login",
                                     {"email": "owner@acme.test", "password": PASSWORD})
        assert status == 200, (status, body)
        cookie = "Cookie: " + "; ".join(f"{k}={v}" for k, v in owner.cookies.items())

        runs = [("/healthz", []), ("/t/acme/api/v1/auth/me", [cookie]),
                ("/t/acme/api/v1/users", [cookie])]
        print(f"wrk -t2 -c64 -d{seconds}s, same server, same run")
        health = None
        for path, headers in runs:
            before = cpu_seconds(server.pid)
            rate, count = wrk(port, path, seconds, headers)
            cpu = (cpu_seconds(server.pid) - before) / count * 1e6
            ratio = "(baseline)" if health is None else f"{rate / health:6.1%} of /healthz"
            health = health or rate
            print(f"  GET {path:26} {rate:10.0f} req/s  {ratio:18}  "
                  f"server CPU {cpu:5.1f} µs/request")


if __name__ == "__main__":
    main()
