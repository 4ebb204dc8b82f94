"""Call a loaded predictor through its codec, as the served model does (V1 instances, V2 tensors).

Benchmarks time the codec with the family: what a served request costs without HTTP. A
predictor's codec is built once (as the served model builds it once per loaded version).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from kserve import InferInput, InferRequest

from metrics_ai.families import FAMILIES
from metrics_ai.families.base import Predictor
from serving.codec import codec_for
from serving.codec_base import Codec
from serving.tensor_specs import input_specs


def _family(predictor: Predictor) -> Any:
    return next(f for f in FAMILIES.values() if isinstance(predictor, f.predictor))


@functools.lru_cache(maxsize=16)
def codec(predictor: Predictor) -> Codec:
    """The predictor's codec, built once."""
    return codec_for(_family(predictor), predictor)


def v1(predictor: Predictor, instances: list[Any]) -> list[dict[str, Any]]:
    """The V1 predictions (without model_version) for ``instances``."""
    return codec(predictor).v1(instances).predictions


def smoke(predictor: Predictor) -> list[Any]:
    """The version's smoke request as V1 instances."""
    return codec(predictor).smoke_instances()


def v2(predictor: Predictor, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The V2 outputs for named arrays (strings as BYTES, numbers as the input's declared datatype)."""
    specs = input_specs(_family(predictor))
    tensors = []
    for name, array in inputs.items():
        arr = np.asarray(array)
        text = arr.dtype.kind in "OUS"
        datatype = "BYTES" if text else specs[name].datatype if name in specs else "FP32"
        tensor = InferInput(name=name, shape=list(arr.shape), datatype=datatype)
        tensor.set_data_from_numpy(arr.astype(object if text else np.int64 if datatype == "INT64" else np.float32))
        tensors.append(tensor)
    request = InferRequest(model_name=_family(predictor).name, infer_inputs=tensors)
    return codec(predictor).v2(request, None).outputs
