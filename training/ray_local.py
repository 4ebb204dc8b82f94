"""A single-node Ray head on 127.0.0.1, started and stopped by the caller (tests, benchmarks).

Ray on Linux turns a loopback address into the machine's interface address
(``services.resolve_ip_for_localhost``): ``--node-ip-address=127.0.0.1`` and a driver's
``ray.init(address="127.0.0.1:port")`` both end up on, say, 192.0.2.2. The one switch that
keeps a node and its drivers on loopback is :data:`LOOPBACK_ENV` set to ``0`` (named for
Ray's Windows/macOS single-machine mode, it selects the loopback address on any platform):
the head gets it here, and :class:`training.executor.RayExecutor` sets it for its driver
when ``RAY_ADDRESS`` is a loopback address.

The head runs ``ray start --block`` in a session of its own, with its own ports and temp
dir; :meth:`LocalRayHead.stop` ends exactly that session's processes (by process group id,
never by name), so another Ray on the same machine is left alone.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

#: Ray's switch for single-machine mode: "0" keeps nodes and drivers on 127.0.0.1
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def is_loopback_address(address: str) -> bool:
    """True for ``127.0.0.1:6379``, ``localhost:6379``, ``[::1]:6379`` (not ``ray://``, not ``auto``)."""
    if "://" in address or address in ("", "auto", "local"):
        return False
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 or address.startswith("[") else address
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def session_pids(sid: int) -> list[int]:
    """Live processes of session ``sid`` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            pids.append(int(entry.name))
    return pids


def end_session(sid: int, grace: float = 5.0) -> None:
    """SIGTERM every process of session ``sid``, SIGKILL what is left after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        pids = session_pids(sid)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while session_pids(sid) and time.monotonic() < deadline:
            time.sleep(0.1)


class LocalRayHead:
    """``ray start --head`` on 127.0.0.1 with ``cpus`` CPUs; a context manager.

    Attributes:
        address: ``127.0.0.1:<gcs port>`` (for RAY_ADDRESS) once started.
        client_address: ``ray://127.0.0.1:<port>``, its Ray Client server (as KubeRay's head service).
    """

    def __init__(self, cpus: int = 2, start_timeout: float = 90.0) -> None:
        self.cpus = cpus
        self.start_timeout = start_timeout
        self.address = ""
        self.client_address = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._temp = ""

    def start(self) -> str:
        """Start the head and wait until it accepts drivers; returns its address."""
        port, client_port = free_port(), free_port()
        self._temp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths live under it
        log = Path(self._temp) / "ray-start.log"
        ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
        cmd = [
            ray, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
            f"--ray-client-server-port={client_port}", f"--num-cpus={self.cpus}",
            "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self._temp}",
        ]  # fmt: skip
        env = {**os.environ, LOOPBACK_ENV: "0"}
        with log.open("wb") as out:
            self._proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while "Ray runtime started" not in log.read_text(errors="replace"):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"ray head did not start:\n{text[-3000:]}")
            time.sleep(0.2)
        self.address = f"127.0.0.1:{port}"
        self.client_address = f"ray://127.0.0.1:{client_port}"
        return self.address

    @property
    def session(self) -> int | None:
        """The head's session id (its processes', for ``ss``/``ps`` checks)."""
        return self._proc.pid if self._proc is not None else None

    def stop(self, timeout: float = 20.0) -> None:
        """End every process of the head's session (SIGTERM, then SIGKILL) and remove its temp dir."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)  # ray start --block shuts its node down
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout)
            end_session(self._proc.pid)
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None
        if self._temp:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = ""

    def __enter__(self) -> LocalRayHead:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
