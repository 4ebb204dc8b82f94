"""Issue 18, finding 10 (and the header-size probe): slow and oversized request heads.

A real predictor with HEADER_TIMEOUT at 1 s; raw sockets on 127.0.0.1 play the clients.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Predictor

HEADER_TIMEOUT = 1.0
MAX_HEADER_BYTES = 16 << 10
ROW_BODY = b'{"instances": [[0.5, 0.6, 0.4, 100, 80]]}'
PREDICT = (
    b"POST /v1/models/anomaly-detector:predict HTTP/1.1\r\nHost: t\r\ncontent-type: application/json\r\n"
    b"content-length: " + str(len(ROW_BODY)).encode() + b"\r\n\r\n" + ROW_BODY
)
PARTIAL_HEAD = b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\nX-Slow: "


@pytest.fixture(scope="module")
def server(basic_models: Path) -> Iterator[Predictor]:
    """One predictor with a short head timeout and a small head cap for the module."""
    env = {"METRICS_AI_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "METRICS_AI_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES)}
    predictor = Predictor(basic_models, "anomaly-detector", env)
    predictor.wait_live()
    yield predictor
    predictor.stop()


def _connect(server: Predictor) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.http_port), timeout=10)


def _closed_by_peer(sock: socket.socket) -> bool:
    """True once the server has closed the connection (EOF or reset); False while it is open."""
    sock.setblocking(False)
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def _read_response(sock: socket.socket) -> bytes:
    """One whole response with a content-length (or what came before the server closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(v) for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k.lower() == b"content-length"
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_slow_heads_are_closed_while_normal_requests_answer(server: Predictor) -> None:
    n = 50
    socks = [_connect(server) for _ in range(n)]
    idle = _connect(server)  # connects and sends nothing at all
    try:
        for s in socks:
            s.sendall(PARTIAL_HEAD)
        closed: set[int] = set()
        deadline = time.monotonic() + HEADER_TIMEOUT + 10
        while len(closed) < n and time.monotonic() < deadline:
            for i, s in enumerate(socks):  # keep trickling: one byte per connection per round
                if i in closed:
                    continue
                try:
                    s.send(b"a")
                except OSError:
                    closed.add(i)
                    continue
                if _closed_by_peer(s):
                    closed.add(i)
            # the server keeps answering others meanwhile
            assert server.client.get("/v2/health/live").status_code == 200
            time.sleep(0.1)
        assert len(closed) == n, f"{n - len(closed)} slow connections still open"
        assert _closed_by_peer(idle), "a connection that never sent a byte is still open"
        r = server.client.post("/v1/models/anomaly-detector:predict", content=ROW_BODY)
        assert r.status_code == 200, r.text
    finally:
        for s in [*socks, idle]:
            s.close()


def test_kept_alive_connection_outlives_the_head_timeout_and_times_its_next_head(server: Predictor) -> None:
    with _connect(server) as s:
        for _ in range(3):
            s.sendall(PREDICT)
            assert _read_response(s).startswith(b"HTTP/1.1 200"), "keep-alive request failed"
            time.sleep(HEADER_TIMEOUT * 1.5)  # idle between requests is the keep-alive timeout's business
        s.sendall(PARTIAL_HEAD)  # a further request that never completes its head
        s.settimeout(HEADER_TIMEOUT + 10)
        assert s.recv(65536) == b"", "a slow head on a kept-alive connection was not closed"


def test_large_head_is_refused_with_431(server: Predictor) -> None:
    with _connect(server) as s:
        s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES * 2) + b"\r\n\r\n")
        response = _read_response(s)
    assert response.startswith(b"HTTP/1.1 431"), response[:200]
    assert b"MAX_HEADER_BYTES" in response
    assert server.client.get("/v2/health/live").status_code == 200


def _send_in_pieces(sock: socket.socket, data: bytes, piece: int = 2048) -> None:
    for i in range(0, len(data), piece):  # separate reads on the server's side
        sock.sendall(data[i : i + piece])
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("header_bytes", "status"), [(MAX_HEADER_BYTES - 4096, b"200"), (MAX_HEADER_BYTES + 1024, b"431")]
)
def test_head_split_over_reads_is_measured_whole(server: Predictor, header_bytes: int, status: bytes) -> None:
    head = b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * header_bytes + b"\r\n\r\n"
    with _connect(server) as s:
        _send_in_pieces(s, head)
        response = _read_response(s)
    assert response.startswith(b"HTTP/1.1 " + status), response[:200]


def test_megabyte_headers_do_not_grow_memory(server: Predictor) -> None:
    before = _rss(server.proc.pid)
    for _ in range(20):  # 20 requests with a 1 MiB header each, then one 64 MiB header stream
        with _connect(server) as s:
            try:
                s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
                response = _read_response(s)
            except (BrokenPipeError, ConnectionResetError):
                response = b""  # refused and closed before the client finished sending
        assert response == b"" or response.startswith(b"HTTP/1.1 431"), response[:200]
    with _connect(server) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: ")
        chunk = b"a" * (1 << 20)
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(64):
                s.sendall(chunk)
    grown = _rss(server.proc.pid) - before
    assert grown < 8 << 20, f"RSS grew by {grown / 2**20:.1f} MiB"
    assert server.client.get("/v2/health/live").status_code == 200
