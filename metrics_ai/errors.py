"""One exception hierarchy; each class carries the HTTP status it maps to.

Serving renders these in one handler (`serving.errors`). A client's mistake is an
`InvalidInputError` (400) that names the field; anything else that escapes is a bug.
"""

from __future__ import annotations

from http import HTTPStatus


class MetricsAIError(Exception):
    """Base class: `status` is the HTTP status a server answers with."""

    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(MetricsAIError):
    """The request (or data file) is malformed; the message names the field."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class UnknownEntityError(MetricsAIError):
    """The model has no state for this entity and the request brings no history."""

    status = HTTPStatus.NOT_FOUND


class ModelNotFoundError(MetricsAIError):
    """No such served model."""

    status = HTTPStatus.NOT_FOUND


class ModelNotReadyError(MetricsAIError):
    """The model is not loaded (yet), or its artifact is missing or corrupt."""

    status = HTTPStatus.SERVICE_UNAVAILABLE


class UpstreamUnavailableError(MetricsAIError):
    """A data source the request needs (Prometheus) cannot be reached."""

    status = HTTPStatus.SERVICE_UNAVAILABLE


class UpstreamTimeoutError(MetricsAIError):
    """A data source the request needs did not answer in time."""

    status = HTTPStatus.GATEWAY_TIMEOUT


class ArtifactError(MetricsAIError):
    """An artifact is missing, corrupt, or of an unsupported schema version.

    ``reason`` names the kind of failure (the predictor's reload-failure metric label).
    """

    status = HTTPStatus.SERVICE_UNAVAILABLE
    reason = "artifact"


class ManifestError(ArtifactError):
    """A manifest is unreadable, not JSON, of another schema version or invalid."""

    reason = "manifest"


class MissingArtifactError(ArtifactError):
    """A manifest, a version's folder or a file its manifest lists is not there."""

    reason = "missing"


class ChecksumError(ArtifactError):
    """A file's sha256 does not match its manifest's."""

    reason = "checksum"


class TrainingError(MetricsAIError):
    """Training cannot produce a model as configured (a loud failure, never silent)."""


class ServerBusyError(MetricsAIError):
    """Every prediction worker is busy and the wait queue is full; the client should retry."""

    status = HTTPStatus.SERVICE_UNAVAILABLE


class RowError(InvalidInputError):
    """A family refuses one row of a typed request: ``loc`` in the request model's terms (field, row, ...).

    The serving codec names it in the protocol's terms (``instances[3].history.values[2]``,
    ``values[3][2]``).
    """

    def __init__(self, loc: tuple[str | int, ...], problem: str) -> None:
        super().__init__(".".join(map(str, loc)), problem)
        self.loc = loc
        self.problem = problem


class RowNotFound(UnknownEntityError):
    """A row names a series the model cannot answer (404): ``loc`` as :class:`RowError`'s."""

    def __init__(self, loc: tuple[str | int, ...], problem: str) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {problem}")
        self.loc = loc
        self.problem = problem
