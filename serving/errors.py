"""Render the one exception hierarchy as HTTP answers (REST); gRPC is mapped in the model.

What a client gets back is at most :data:`MAX_MESSAGE` characters: a 400 about a 10 MB
value does not send the value back.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from grpc_interceptor import exceptions as grpc_errors

from metrics_ai.errors import MetricsAIError

#: longest error text sent to a client
MAX_MESSAGE = 300


def client_message(message: str) -> str:
    """``message``, cut to :data:`MAX_MESSAGE` characters with a note of how much was left out."""
    if len(message) <= MAX_MESSAGE:
        return message
    return f"{message[:MAX_MESSAGE]}... ({len(message) - MAX_MESSAGE} more characters)"


#: HTTP status -> the gRPC error KServe's interceptor passes through as is (no log, no traceback)
_GRPC: dict[int, type[grpc_errors.GrpcException]] = {
    400: grpc_errors.InvalidArgument,
    403: grpc_errors.PermissionDenied,
    404: grpc_errors.NotFound,
    413: grpc_errors.ResourceExhausted,
    503: grpc_errors.Unavailable,
    504: grpc_errors.DeadlineExceeded,
}

#: KServe functions that log a client's mistake at ERROR with a traceback
_KSERVE_CLIENT_ERROR_LOGGERS = frozenset({"invalid_input_handler", "model_not_found_handler"})


def grpc_error(exc: MetricsAIError) -> grpc_errors.GrpcException:
    """The gRPC status for ``exc`` (INVALID_ARGUMENT for a 400 ...), with the shortened message."""
    return _GRPC.get(int(exc.status), grpc_errors.Internal)(client_message(exc.message))


class ClientErrorLogFilter(logging.Filter):
    """Logs KServe writes about a client's mistake (a 4xx) at INFO, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Demote KServe's 4xx records; pass everything else unchanged."""
        if record.levelno >= logging.ERROR and record.funcName in _KSERVE_CLIENT_ERROR_LOGGERS:
            exc = record.exc_info[1] if record.exc_info else None
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "client error: %s: %s", (type(exc).__name__, client_message(str(exc)))
            record.exc_info, record.exc_text = None, None
        return True


def _error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"error": client_message(message)}), status_code=status, media_type="application/json")


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
