"""Small fake Prometheus servers (stdlib http.server on 127.0.0.1, threads) for tests.

``FakePrometheus(respond)`` answers every GET with what ``respond(request, stopping)``
returns and records the requests; ready-made ones: :func:`slow_prometheus` (answers
after a delay), :func:`token_prometheus` (401 without the bearer token) and
:func:`closed_port_url` (nothing listens).
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def matrix(series: list[tuple[dict[str, str], list[tuple[float, float]]]]) -> dict[str, Any]:
    """A query_range success body."""
    result = [{"metric": labels, "values": [[t, repr(float(v))] for t, v in points]} for labels, points in series]
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


@dataclass
class Request:
    """What a fake server received."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]


Responder = Callable[[Request, threading.Event], tuple[int, dict[str, Any]]]


class FakePrometheus:
    """A stdlib HTTP server on 127.0.0.1 (threads) answering with ``respond(request, stopping)``.

    Use as a context manager; ``requests`` lists what it received.
    """

    def __init__(self, respond: Responder) -> None:
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parsed = urllib.parse.urlsplit(self.path)
                request = Request(parsed.path, dict(urllib.parse.parse_qsl(parsed.query)), dict(self.headers))
                fake.requests.append(request)
                status, body = respond(request, fake.stopping)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakePrometheus:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def grid_answer(labels: dict[str, str], value: float = 0.5) -> Responder:
    """A responder returning one series with ``labels`` on the request's time grid."""

    def respond(request: Request, stopping: threading.Event) -> tuple[int, dict[str, Any]]:
        start, end, step = (float(request.params[k]) for k in ("start", "end", "step"))
        points = [(t, value) for t in np.arange(start, end + 1, step).tolist()]
        return 200, matrix([(labels, points)])

    return respond


def slow_prometheus(delay: float) -> FakePrometheus:
    """Answers (empty) only after ``delay`` seconds (or when stopped)."""

    def respond(request: Request, stopping: threading.Event) -> tuple[int, dict[str, Any]]:
        stopping.wait(delay)
        return 200, matrix([])

    return FakePrometheus(respond)


def token_prometheus(token: str, labels: dict[str, str]) -> FakePrometheus:
    """401 unless ``Authorization: Bearer <token>``; then one series with ``labels``."""
    ok = grid_answer(labels)

    def respond(request: Request, stopping: threading.Event) -> tuple[int, dict[str, Any]]:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return 401, {"status": "error", "errorType": "unauthorized", "error": "missing or bad token"}
        return ok(request, stopping)

    return FakePrometheus(respond)


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"
