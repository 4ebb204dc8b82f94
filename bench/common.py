"""Shared benchmark plumbing: start servers, drive them with wrk, summarise medians."""

from __future__ import annotations

import contextlib
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
local body_file = io.open(os.getenv("WRK_BODY_FILE"), "rb")
wrk.body = body_file:read("*a")
body_file:close()
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


def require_wrk() -> None:
    """Stop with the install hint when the wrk load generator is missing."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk (HTTP load generator) is missing: install it with `apt-get install -y wrk` "
                         "(Debian/Ubuntu) or `dnf install wrk` (Fedora), then run this benchmark again")


def wrk(url: str, body: dict | list | bytes, connections: int, seconds: float) -> dict[str, float]:
    """Drive ``url`` with wrk (keep-alive, one thread); requests/s, p50/p99 ms, errors.

    The body goes through a file (a batch body is far larger than an environment variable may be).
    """
    require_wrk()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    with tempfile.TemporaryDirectory() as tmp:
        script, payload = Path(tmp) / "post.lua", Path(tmp) / "body.json"
        script.write_text(WRK_SCRIPT)
        payload.write_bytes(data)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
             url],
            capture_output=True, text=True, env={**os.environ, "WRK_BODY_FILE": str(payload)}, check=True,
        ).stdout
    match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
    if not match:
        raise RuntimeError(out)
    requests, micros, p50, p99, _, errors = match.groups()
    return {"rps": int(requests) / (int(micros) / 1e6), "p50_ms": float(p50) / 1000, "p99_ms": float(p99) / 1000,
            "errors": int(errors)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (and its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_with_cpu(url: str, body: dict | list, connections: int, seconds: float, pid: int) -> dict[str, float]:
    """:func:`wrk` plus the server's CPU milliseconds per request (robust to a busy machine)."""
    before = cpu_seconds(pid)
    result = wrk(url, body, connections, seconds)
    used = cpu_seconds(pid) - before
    result["cpu_ms_per_req"] = 1000 * used / max(1.0, result["rps"] * seconds)
    return result


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per-key medians over repeated runs."""
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def python() -> str:
    """The interpreter running the benchmark (the project's venv)."""
    return sys.executable


def load_average() -> str:
    """``uptime``'s load averages (1, 5, 15 min): the machine is shared, say how busy it was."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def machine() -> str:
    """One line: date, cores, CPU model, memory, load (printed at the head of every benchmark)."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:", 1)[1].split()[0])
        mem = f"{kib / 2**20:.1f} GiB"
    date = time.strftime("%Y-%m-%d %H:%M %Z")
    return f"{date}; {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {cpu}, {mem} RAM; {load_average()}"
