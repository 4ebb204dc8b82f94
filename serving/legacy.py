"""Phase 1 of issue 16: the codec interface over a family that still parses payloads itself.

resource-forecast, disk-eta and io-crisis keep ``predict_v1`` / ``infer_v2`` /
``smoke_instances`` and a ``positive`` callable on their descriptor until each exposes
request and response models (docs/architecture.md, "Phase 2"); this adapter is then deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kserve import InferRequest

from metrics_ai.families.base import ProtocolPredictor
from serving.codec_base import V1Answer, V2Answer
from serving.limits import RequestLimits
from serving.v2 import decode_inputs


class LegacyCodec:
    """Hands the payloads to the family's own ``predict_v1`` / ``infer_v2``."""

    def __init__(self, predictor: ProtocolPredictor, positive: Callable[[Mapping[str, Any]], bool]) -> None:
        self.predictor = predictor
        self.positive = positive

    def v1(self, instances: list[Any]) -> V1Answer:
        """The family's V1 answer; the descriptor's ``positive`` flags the alarms."""
        predictions = self.predictor.predict_v1(instances)
        return V1Answer(predictions, [self.positive(p) for p in predictions], (instances, predictions))

    def v2(self, request: InferRequest, limits: RequestLimits | None) -> V2Answer:
        """The family's V2 answer to its declared inputs."""
        inputs = decode_inputs(request, type(self.predictor).v2_inputs, limits)
        outputs = self.predictor.infer_v2(inputs)
        return V2Answer(outputs, (inputs, outputs))

    def smoke_instances(self) -> list[Any]:
        """The family's own smoke instances."""
        return self.predictor.smoke_instances()
