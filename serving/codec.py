"""A loaded predictor behind the protocols: :func:`codec_for` picks its codec.

Every family is a :class:`~metrics_ai.families.base.DomainPredictor`, served by
:class:`DomainCodec`: :class:`~serving.codec_v1.V1Codec` / :class:`~serving.codec_v2.V2Codec`
(row requests) or :class:`~serving.codec_series.V1SeriesCodec` /
:class:`~serving.codec_series.V2SeriesCodec` (series requests) build the typed request, the
family answers a typed response, the codec turns it back into the protocol's answer. The
model, the shadow scorer and the drift window see the same
:class:`~serving.codec_base.V1Answer` / :class:`~serving.codec_base.V2Answer`.
"""

from __future__ import annotations

from typing import Any

from kserve import InferRequest

from metrics_ai.errors import UnknownEntityError
from metrics_ai.families.base import DomainPredictor, Family, Predictor
from metrics_ai.families.models import (
    DomainRequest,
    DomainResponse,
    RowError,
    RowNotFound,
    RowsRequest,
    SeriesLayout,
    SeriesRequest,
)
from serving import codec_v1, codec_v2
from serving.codec_base import Codec, Locator, V1Answer, V2Answer, invalid_input
from serving.codec_series import V1SeriesCodec, V2SeriesCodec
from serving.codec_v1 import V1Codec
from serving.codec_v2 import V2Codec
from serving.limits import RequestLimits


class DomainCodec:
    """V1 and V2 for a family with request and response models."""

    def __init__(self, predictor: DomainPredictor[Any, Any]) -> None:
        self.predictor = predictor
        layout, model = predictor.layout(), predictor.request
        if isinstance(layout, SeriesLayout):
            assert issubclass(model, SeriesRequest), model
            self._v1: V1Codec | V1SeriesCodec = V1SeriesCodec(model, layout)
            self._v2: V2Codec | V2SeriesCodec = V2SeriesCodec(model, layout)
        else:
            assert issubclass(model, RowsRequest), model
            self._v1, self._v2 = V1Codec(model, layout), V2Codec(model, layout)

    def v1(self, instances: list[Any]) -> V1Answer:
        """Validate, predict, answer."""
        request = self._v1.request(instances)
        response = self._predict(request, self._v1.where(instances))
        return V1Answer(codec_v1.answers(response), response.positives(), (request, response))

    def v2(self, request: InferRequest, limits: RequestLimits | None) -> V2Answer:
        """Decode the tensors, predict, encode the outputs."""
        typed = self._v2.request(request, limits)
        response = self._predict(typed, self._v2.at)
        return V2Answer(codec_v2.outputs(response), (typed, response))

    def smoke_instances(self) -> list[Any]:
        """The version's smoke request in V1 form."""
        return self._v1.instances(self.predictor.smoke_request())

    def _predict(self, request: DomainRequest, where: Locator) -> DomainResponse:
        try:
            response: DomainResponse = self.predictor.predict(request)
        except RowError as exc:
            raise invalid_input(exc, where) from None
        except RowNotFound as exc:
            raise UnknownEntityError(f"{where(exc.loc, {})}: {exc.problem}") from None
        return response


def codec_for(family: Family[Any], predictor: Predictor) -> Codec:
    """The codec that serves ``predictor``."""
    if not isinstance(predictor, DomainPredictor):
        raise TypeError(f"{family.name}: {type(predictor).__name__} has no domain call")
    return DomainCodec(predictor)
