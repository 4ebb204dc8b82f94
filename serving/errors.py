"""Render the one exception hierarchy as HTTP answers (REST); gRPC is mapped in the model."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import ORJSONResponse

from metrics_ai.errors import MetricsAIError


async def metrics_ai_error_handler(_: Request, exc: Exception) -> ORJSONResponse:
    """``{"error": message}`` with the status the exception class carries."""
    assert isinstance(exc, MetricsAIError)
    return ORJSONResponse(status_code=int(exc.status), content={"error": exc.message})


def install_error_handler(app: FastAPI) -> None:
    """Register the handler on KServe's FastAPI app (before the server starts)."""
    app.add_exception_handler(MetricsAIError, metrics_ai_error_handler)
