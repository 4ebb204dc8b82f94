"""Render the one exception hierarchy as HTTP answers (REST); gRPC is mapped in the model."""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from metrics_ai.errors import MetricsAIError


def _error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"error": message}), status_code=status, media_type="application/json")


async def metrics_ai_error_handler(_: Request, exc: Exception) -> Response:
    """``{"error": message}`` with the status the exception class carries."""
    assert isinstance(exc, MetricsAIError)
    return _error(int(exc.status), exc.message)


def install_error_handler(app: FastAPI) -> None:
    """Register the handlers on KServe's FastAPI app (before the server starts)."""
    app.add_exception_handler(MetricsAIError, metrics_ai_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)


async def request_validation_handler(_: Request, exc: Exception) -> Response:
    """FastAPI's body validation (V2 REST schema) as a 400 naming the first bad field."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "InferenceRequest")]
    field = ".".join(loc) or "body"
    return _error(400, f"{field}: {first.get('msg', 'invalid')}")
