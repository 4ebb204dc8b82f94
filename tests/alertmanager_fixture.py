"""A real Alertmanager for tests, delivering to a webhook receiver served by the test.

``alertmanager`` (function scope; import it into a conftest): Debian's
``prometheus-alertmanager`` on a free loopback port (clustering off), configured to
route every alert to a :class:`Webhook` (a stdlib http.server on another free port that
collects the POSTed notifications), with short group_wait / group_interval so a
notification arrives within seconds. Point a Prometheus at ``Alertmanager.address``
(see ``tests.prometheus_fixture.rules_config``) or post alerts to its API v2 directly.
A missing binary fails the test (never skips): ``scripts/install-test-deps.sh`` installs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fake_prometheus import free_port
from tests.prometheus_fixture import REPO, _die_with_parent, stop_process

BINARIES = ("prometheus-alertmanager", "alertmanager")  # Debian's name first


def alertmanager_binary() -> str:
    """Path of Alertmanager; installs it once if missing, else fails the test."""
    found = next((p for p in map(shutil.which, BINARIES) if p), None)
    if found:
        return found
    script = REPO / "scripts" / "install-test-deps.sh"
    run = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600, check=False)
    found = next((p for p in map(shutil.which, BINARIES) if p), None)
    if not found:
        pytest.fail(
            f"Alertmanager is required by the alerting tests and could not be installed ({script} exited "
            f"{run.returncode}):\n{(run.stdout + run.stderr)[-2000:]}\n"
            "Install it (Debian/Ubuntu: apt-get install prometheus-alertmanager) and run the tests again.",
            pytrace=False,
        )
    return found


class Webhook:
    """A webhook receiver on 127.0.0.1: collects every notification Alertmanager POSTs."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with webhook._arrived:
                    webhook.notifications.append(json.loads(body))
                    webhook._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/alerts"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert of every notification so far, in arrival order."""
        with self._arrived:
            return [alert for note in self.notifications for alert in note["alerts"]]

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 30) -> list[dict[str, Any]]:
        """Block until ``predicate(alerts)`` holds; returns the alerts, or fails with what arrived."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not predicate(alerts := [a for n in self.notifications for a in n["alerts"]]):
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"webhook: condition not met after {timeout}s; received {alerts}", pytrace=False)
                self._arrived.wait(left)
            return alerts

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Alertmanager:
    """A running Alertmanager and the webhook it delivers to."""

    url: str
    webhook: Webhook
    log: Path
    proc: subprocess.Popen[bytes] = field(repr=False)

    @property
    def address(self) -> str:
        """host:port, as Prometheus's ``alerting.alertmanagers[].static_configs`` want it."""
        return self.url.removeprefix("http://")

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """POST alerts (``labels``, ``annotations``, optional ``startsAt``...) to the API v2."""
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200, answer.status


def alertmanager_config(webhook_url: str, group_wait: str = "1s", group_interval: str = "1s") -> str:
    """Route every alert, one notification group per label set, to ``webhook_url``."""
    config = {
        "route": {
            "receiver": "test-webhook",
            "group_by": ["..."],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "test-webhook", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def start_alertmanager(workdir: Path, webhook: Webhook, timeout: float = 30) -> Alertmanager:
    """Start Alertmanager on a free loopback port delivering to ``webhook``; waits until ready."""
    binary = alertmanager_binary()
    config = workdir / "alertmanager.yml"
    config.write_text(alertmanager_config(webhook.url), encoding="utf-8")
    port = free_port()
    log = workdir / "alertmanager.log"
    cmd = [binary, f"--config.file={config}", f"--storage.path={workdir / 'data'}",
           f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)  # noqa: PLW1509  # fmt: skip
    manager = Alertmanager(url=f"http://127.0.0.1:{port}", webhook=webhook, log=log, proc=proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"alertmanager exited {proc.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{manager.url}/-/ready", timeout=2) as answer:
                if answer.status == 200:
                    return manager
        except OSError:
            pass
        time.sleep(0.1)
    stop_process(proc)
    pytest.fail(f"alertmanager not ready after {timeout}s:\n{log.read_text()[-3000:]}", pytrace=False)


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    """A fresh Alertmanager delivering to a fresh webhook; both stopped after the test."""
    workdir = tmp_path / "alertmanager"
    workdir.mkdir()
    webhook = Webhook()
    try:
        manager = start_alertmanager(workdir, webhook)
        try:
            yield manager
        finally:
            stop_process(manager.proc)
    finally:
        webhook.close()
