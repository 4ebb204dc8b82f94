"""Shared benchmark plumbing: start servers, drive them with wrk, summarise medians."""

from __future__ import annotations

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
from collections.abc import Sequence
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("WRK_BODY")
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.1f %.1f %.1f %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.mean, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(cmd: Sequence[str], url: str, ready_path: str, env: dict[str, str] | None = None,
          timeout: float = 120) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server process; return it and the seconds until ``ready_path`` answered 200."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd} exited with {proc.returncode}")
        try:
            if httpx.get(url + ready_path, timeout=2).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{cmd} not ready after {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(url: str, body: dict | list, connections: int, seconds: float) -> dict[str, float]:
    """Drive ``url`` with wrk (keep-alive, one thread); requests/s, p50/p99 ms, errors."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", script.name, url],
        capture_output=True, text=True, env={**os.environ, "WRK_BODY": json.dumps(body)}, check=True,
    ).stdout
    os.unlink(script.name)
    match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
    if not match:
        raise RuntimeError(out)
    requests, micros, p50, p99, _, errors = match.groups()
    return {"rps": int(requests) / (int(micros) / 1e6), "p50_ms": float(p50) / 1000, "p99_ms": float(p99) / 1000,
            "errors": int(errors)}


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per-key medians over repeated runs."""
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def python() -> str:
    """The interpreter running the benchmark (the project's venv)."""
    return sys.executable
