"""Open Inference Protocol paths with a version: the served one answers, any other is a 404.

KServe registers ``/v2/models/<name>/versions/<version>/{infer,ready}`` and the versioned
metadata path but answers every one of them 501 with an ERROR traceback ("versioning not
supported"), while the model metadata lists the version now answering. This middleware
serves the version the metadata lists through the unversioned path and answers a 404
naming ``model_version`` for any other (one version per model is served at a time: an older
one is a rollback away, not an endpoint).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

_VERSIONED = re.compile(r"^/v2/models/(?P<name>[^/]+)/versions/(?P<version>[^/]+)(?P<rest>/.*)?$")


class VersionedPathsMiddleware:
    """Rewrites ``/v2/models/<name>/versions/<served>/...`` to ``/v2/models/<name>/...``.

    Attributes:
        served: model name -> the version it answers with now (None: unknown model or nothing
            loaded; the path is then passed on unversioned, for KServe's own 404 or 503).
    """

    def __init__(self, app: ASGIApp, served: Callable[[str], str | None], known: Callable[[str], bool]) -> None:
        self.app = app
        self.served = served
        self.known = known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        match = _VERSIONED.match(path) if "/versions/" in path else None
        if match is None:
            await self.app(scope, receive, send)
            return
        name, version, rest = match["name"], match["version"], match["rest"] or ""
        current = self.served(name)
        if self.known(name) and current is not None and version != current:
            await _not_served(send, name, version, current)
            return
        path = f"/v2/models/{name}{rest}"
        await self.app({**scope, "path": path, "raw_path": path.encode()}, receive, send)


async def _not_served(send: Send, name: str, version: str, current: str) -> None:
    error = f"model_version: {name} answers with version {current}; version {version} is not served"
    body = orjson.dumps({"error": error})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers.append((b"connection", b"close"))  # a request body, if any, is left unread
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
