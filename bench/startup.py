#!/usr/bin/env python3
"""Start-up benchmark: time from process start to the first 200 on /readyz, and idle RSS.

Usage: bench/startup.py [path/to/holdfast] [runs]

Each run starts `holdfast serve` on a fresh data directory (so the control database is created
and migrated, the worst case) and polls /readyz every millisecond. As a baseline measured in
the same run, it times `holdfast version` (process start and exit, no server), so the figures
can be compared across noisy machines as a ratio.
"""

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
        conn.request("GET", "/readyz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(re.findall(r"\d+", line)[0])
    return -1


def one_start(binary: str) -> tuple[float, int]:
    data = tempfile.mkdtemp(prefix="holdfast-bench-")
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not ready(port):
            if proc.poll() is not None:
                sys.exit(f"holdfast exited with {proc.returncode}")
            time.sleep(0.001)
        elapsed = time.perf_counter() - started
        time.sleep(1.0)  # idle
        rss = rss_kib(proc.pid)
        return elapsed, rss
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def one_version(binary: str) -> float:
    started = time.perf_counter()
    subprocess.run([binary, "version"], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/holdfast"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    starts, rss, versions = [], [], []
    for _ in range(runs):
        elapsed, kib = one_start(binary)
        starts.append(elapsed)
        rss.append(kib)
        versions.append(one_version(binary))
    start_ms = statistics.median(starts) * 1000
    version_ms = statistics.median(versions) * 1000
    print(f"binary: {binary} ({os.path.getsize(binary) / 1e6:.1f} MB), runs: {runs}")
    print(f"start to 200 on /readyz: median {start_ms:.1f} ms "
          f"(min {min(starts) * 1000:.1f}, max {max(starts) * 1000:.1f})")
    print(f"baseline `holdfast version`: median {version_ms:.1f} ms")
    print(f"ratio start-to-ready / version: {start_ms / version_ms:.1f}x")
    print(f"idle RSS 1 s after ready: median {statistics.median(rss) / 1024:.1f} MiB "
          f"(max {max(rss) / 1024:.1f})")


if __name__ == "__main__":
    main()
