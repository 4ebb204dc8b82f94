"""Bounds on reading a request head: a time limit (slow clients) and a size limit (huge headers).

KServe builds its uvicorn server itself and exposes neither bound, and uvicorn has neither:
no timeout while a request's headers arrive (only the keep-alive timeout between requests),
and with httptools (which uvicorn prefers, and which is installed) no cap on the size of the
header section. :class:`GuardedHttpToolsProtocol` is uvicorn's httptools protocol with both;
:class:`GuardedModelServer` makes KServe's REST server use it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import Any

import kserve
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

log = logging.getLogger(__name__)

_STATUS_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"


@dataclass(frozen=True)
class HeadLimits:
    """How long (seconds) and how large (bytes) one request head may be."""

    timeout: float
    max_bytes: int


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that closes slow request heads and refuses large ones.

    The head timer runs from the connection's start, and on a kept-alive connection from the
    first read of a further request that does not hold its whole head, until that request's
    headers are complete (a request whose head arrives in one read costs no timer); past
    ``limits.timeout`` the connection is closed. Bytes received while a head is incomplete are
    counted, and a complete head is measured (URL and headers); past ``limits.max_bytes`` the
    client gets a 431 and the connection is closed. An incomplete head is counted from the first
    whole read after the request began, so the head held in memory is bounded by ``max_bytes``
    plus one read (256 KiB at most).
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HeadLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = limits
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False  # answered 431 and closed: the rest of the read is ignored
        self._in_head = False
        self._head_began = False
        self._head_bytes = 0  # reads after the one the head began in
        self._read_len = 0  # the read being parsed
        self._begin_read_len = 0  # the read the head began in

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the head timer: a client that connects must send a request head in time."""
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the timer with the connection."""
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse, then count the read against the head size if the head is still incomplete."""
        self._head_began = False
        self._read_len = len(data)
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            return
        if self._head_timer is None:  # a head split over reads (usually one read holds it all)
            self._arm_head_timer()
        if self._head_began:
            return
        self._head_bytes += len(data)
        if self._head_bytes > self._limits.max_bytes:
            self._refuse_large_head()

    def on_message_begin(self) -> None:
        """A new request: count its head (and time it, if it is not complete in this read)."""
        super().on_message_begin()
        self._in_head = True
        self._head_began = True
        self._head_bytes = 0
        self._begin_read_len = self._read_len

    def on_headers_complete(self) -> None:
        """The head is in: stop timing it, and refuse it (431) if its URL and headers are too large."""
        self._in_head = False
        if self._head_timer is not None:
            self._cancel_head_timer()
        if self._refused:
            return
        # the reads that carried the head bound its size; measure it only when they exceed the limit
        reads = self._read_len if self._head_began else self._begin_read_len + self._head_bytes + self._read_len
        if reads > self._limits.max_bytes and self._head_size() > self._limits.max_bytes:
            self._refuse_large_head()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        """uvicorn's, unless the head was refused (no request was started)."""
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        """uvicorn's, unless the head was refused (no request was started)."""
        if not self._refused:
            super().on_message_complete()

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._limits.timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head waits (unread) behind a request still being answered.
            self._arm_head_timer()
            return
        log.debug("%s: request head not complete within %.1f s: closing", self.client, self._limits.timeout)
        self.transport.close()

    def _refuse_large_head(self) -> None:
        log.info("%s: request head over %d bytes: 431", self.client, self._limits.max_bytes)
        self._refused = True
        self._cancel_head_timer()
        msg = b'{"error": "request head: over %d bytes (MAX_HEADER_BYTES)"}' % self._limits.max_bytes
        self.transport.write(
            _STATUS_431
            + b"content-type: application/json\r\n"
            + b"content-length: "
            + str(len(msg)).encode("ascii")
            + b"\r\nconnection: close\r\n\r\n"
            + msg
        )
        self.transport.close()


def guard_config(config: Config, limits: HeadLimits) -> None:
    """Make a not yet loaded uvicorn ``config`` serve HTTP through :class:`GuardedHttpToolsProtocol`."""
    if config.loaded:
        raise RuntimeError("uvicorn config already loaded: the HTTP protocol can no longer be set")
    config.http = functools.partial(GuardedHttpToolsProtocol, limits=limits)  # type: ignore[assignment]


class GuardedModelServer(kserve.ModelServer):  # type: ignore[misc]  # KServe ships no type hints
    """KServe's ModelServer with :class:`HeadLimits` on its REST server.

    KServe has no hook for uvicorn's protocol: ``start`` builds the REST server (whose uvicorn
    config is loaded only once it serves) and then runs ``_serve``; this sets the protocol
    in between. Only the single-process REST server (KServe's default, one worker) is supported.
    """

    def __init__(self, head_limits: HeadLimits, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._head_limits = head_limits

    async def _serve(self) -> None:
        if self._rest_server is None:
            raise RuntimeError("HTTP head limits need KServe's single-process REST server (workers=1)")
        guard_config(self._rest_server.config, self._head_limits)
        await super()._serve()
