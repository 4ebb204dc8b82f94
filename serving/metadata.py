"""V2 model metadata (``GET /v2/models/<name>``, gRPC ModelMetadata) from the family descriptors.

KServe's data plane asks each model for ``get_input_types`` / ``get_output_types``
(:class:`~serving.model.ServedModel` answers with :mod:`serving.tensor_specs`: the
same specs the V2 codec checks requests against and casts answers to) and leaves
``platform`` empty and ``versions`` out; the functions here add both. KServe's gRPC
servicer copies only name, platform, inputs and outputs into its answer, so
:class:`MetadataServicer` answers ModelMetadata with the versions too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc.servicer import InferenceServicer

from metrics_ai.families.base import TensorSpec

#: the ``platform`` every model's metadata names
PLATFORM = "metrics-ai"


def tensor_metadata(spec: Mapping[str, TensorSpec]) -> list[dict[str, Any]]:
    """Declared tensors as the protocol's ``$metadata_tensor`` objects (-1: a variable dimension)."""
    return [{"name": name, "datatype": t.datatype, "shape": list(t.shape)} for name, t in spec.items()]


def complete(metadata: dict[str, Any], version: str | None) -> dict[str, Any]:
    """KServe's metadata dict with this server's platform and the version now answering (none: [])."""
    return {**metadata, "platform": PLATFORM, "versions": [version] if version else []}


class MetadataServicer(InferenceServicer):  # type: ignore[misc]  # KServe's classes are untyped
    """KServe's gRPC servicer, whose ModelMetadata also carries ``versions``."""

    async def ModelMetadata(  # noqa: N802 - the protocol's method name
        self, request: pb.ModelMetadataRequest, context: Any
    ) -> pb.ModelMetadataResponse:
        """The same metadata as REST ``GET /v2/models/<name>``."""
        metadata = await self._data_plane.model_metadata(model_name=request.name)
        return pb.ModelMetadataResponse(
            name=metadata["name"],
            versions=metadata.get("versions", []),
            platform=metadata["platform"],
            inputs=metadata["inputs"],
            outputs=metadata["outputs"],
        )


def install_metadata_servicer() -> None:
    """Make KServe's gRPC server build :class:`MetadataServicer` (call before the server starts).

    KServe's ``GRPCServer.start`` builds its servicer by the module's ``InferenceServicer``
    name and offers no other hook.
    """
    from kserve.protocol.grpc import server

    server.InferenceServicer = MetadataServicer
