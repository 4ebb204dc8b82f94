"""Render the one exception hierarchy as HTTP answers (REST); gRPC is mapped in the model."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import ORJSONResponse

from metrics_ai.errors import MetricsAIError


async def metrics_ai_error_handler(_: Request, exc: Exception) -> ORJSONResponse:
    """``{"error": message}`` with the status the exception class carries."""
    assert isinstance(exc, MetricsAIError)
    return ORJSONResponse(status_code=int(exc.status), content={"error": exc.message})


def install_error_handler(app: FastAPI) -> None:
    """Register the handlers on KServe's FastAPI app (before the server starts)."""
    app.add_exception_handler(MetricsAIError, metrics_ai_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)


async def request_validation_handler(_: Request, exc: Exception) -> ORJSONResponse:
    """FastAPI's body validation (V2 REST schema) as a 400 naming the first bad field."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "InferenceRequest")]
    field = ".".join(loc) or "body"
    return ORJSONResponse(status_code=400, content={"error": f"{field}: {first.get('msg', 'invalid')}"})
