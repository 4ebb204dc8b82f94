"""KServe's model repository API (load/unload) behind MODEL_MANAGEMENT, and a readiness that tells the truth.

KServe's ModelServer always exposes ``POST /v2/repository/models/<name>/load|unload``
and gRPC ``RepositoryModelLoad|Unload``; both call the server's
``ModelRepositoryExtension``. :class:`GuardedRepositoryExtension` replaces it: refused
(REST 403, gRPC PERMISSION_DENIED) unless MODEL_MANAGEMENT is on. When on, an unloaded
model leaves the registry (404), its ready gauge drops to 0 and server readiness
(:class:`ServingDataPlane`) turns false until it is loaded again.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from grpc_interceptor.exceptions import PermissionDenied
from kserve.errors import InvalidInput, ModelNotFound
from kserve.model_repository import ModelRepository
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.model_repository_extension import ModelRepositoryExtension

from metrics_ai.errors import InvalidInputError
from serving.errors import client_message
from serving.metadata import complete
from serving.model import ServedModel

log = logging.getLogger(__name__)


class ModelManagementDisabled(PermissionDenied):  # noqa: N818 - named as KServe names its errors
    """A load or unload asked of a server with MODEL_MANAGEMENT off (gRPC PERMISSION_DENIED, REST 403)."""

    def __init__(self, action: str, model_name: str) -> None:
        super().__init__(
            f"model {action} is disabled on this server ({model_name!r} stays as it is); "
            "set MODEL_MANAGEMENT=true to allow it"
        )


class ServedRepository(ModelRepository):  # type: ignore[misc]  # KServe's classes are untyped
    """KServe's registry, able to load again a model that was unloaded (it keeps every served model)."""

    def __init__(self, models: list[ServedModel]) -> None:
        super().__init__()
        self.served = {model.name: model for model in models}
        for model in models:
            self.update(model)

    def load(self, name: str) -> bool:
        """Register ``name`` again and resume it; False if it has no loaded version."""
        model = self.served.get(name)
        if model is None:
            raise ModelNotFound(name)
        self.update(model)
        return model.resume()


class GuardedRepositoryExtension(ModelRepositoryExtension):  # type: ignore[misc]  # KServe's classes are untyped
    """The model repository extension, refused unless ``enabled``; answers the shape gRPC expects."""

    def __init__(self, model_registry: ModelRepository, enabled: bool) -> None:
        super().__init__(model_registry)
        self.enabled = enabled

    async def load(self, model_name: str) -> dict[str, object]:
        """Load ``model_name`` (MODEL_MANAGEMENT only)."""
        self._allow("load", model_name)
        await super().load(model_name)
        log.warning("%s: loaded through the model repository API", model_name)
        return {"name": model_name, "load": True}

    async def unload(self, model_name: str) -> dict[str, object]:
        """Unload ``model_name`` (MODEL_MANAGEMENT only)."""
        self._allow("unload", model_name)
        await super().unload(model_name)
        log.warning("%s: unloaded through the model repository API", model_name)
        return {"name": model_name, "unload": True}

    def _allow(self, action: str, model_name: str) -> None:
        if not self.enabled:
            log.info("%s: refused a model %s (MODEL_MANAGEMENT is off)", model_name, action)
            raise ModelManagementDisabled(action, model_name)


class ServingDataPlane(DataPlane):  # type: ignore[misc]  # KServe's classes are untyped
    """KServe's data plane, ready only while every model this process serves is registered and ready."""

    def __init__(self, model_registry: ModelRepository, names: list[str]) -> None:
        super().__init__(model_registry=model_registry)
        self.names = list(names)

    async def ready(self) -> bool:
        """True when each served model answers (``/v2/health/ready``, gRPC ServerReady)."""
        for name in self.names:
            if not await self.model_registry.is_model_ready(name):
                return False
        return True

    async def model_metadata(self, model_name: str) -> dict[str, Any]:
        """KServe's metadata (the family's tensors) with the platform and the version now answering."""
        metadata = await super().model_metadata(model_name)
        return complete(metadata, getattr(self.get_model_from_registry(model_name), "version", None))

    def decode(self, body: Any, headers: Any, *args: Any, **kwargs: Any) -> Any:
        """KServe's request decoding, with its errors on malformed bodies as 400s naming the body.

        KServe's binary-extension decoder fails with bare ValueErrors, IndexErrors ... (a
        500) on a bad ``Inference-Header-Content-Length``, a short body or a JSON header
        that is not one.
        """
        try:
            return super().decode(body, headers, *args, **kwargs)
        except InvalidInput as exc:
            raise InvalidInputError("body", client_message(str(exc))) from None
        except (ValueError, TypeError, KeyError, IndexError, struct.error) as exc:
            raise InvalidInputError("body", f"malformed request: {client_message(str(exc))}") from None


async def management_disabled_handler(_: Request, exc: Exception) -> Response:
    """REST rendering of :class:`ModelManagementDisabled`: 403 with the reason."""
    assert isinstance(exc, ModelManagementDisabled)
    return Response(orjson.dumps({"error": exc.details}), status_code=403, media_type="application/json")


def install_management_handler(app: FastAPI) -> None:
    """Register the 403 handler on KServe's FastAPI app (before the server starts)."""
    app.add_exception_handler(ModelManagementDisabled, management_disabled_handler)
