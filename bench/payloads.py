"""Valid V1 and V2 request bodies for each served model, built from its own smoke instances.

A published version answers its ``smoke_instances()`` by construction (the publisher
checks it), so benchmark requests built from them are valid against the models
being served: single = one instance (the first that carries history, where the
family takes history: the full request path), batch = the smoke instances repeated
up to N (N rows for anomaly-detector: N consecutive samples).
"""

from __future__ import annotations

from itertools import cycle, islice
from pathlib import Path
from typing import Any

from metrics_ai.artifacts import ModelStore
from metrics_ai.families import FAMILIES, predictor_class
from serving.codec import codec_for

#: per model: the V2 text inputs and the V1 keys they come from (the rest is numbers)
TEXT_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "node-outliers": (("cluster", "cluster"), ("node", "node")),
    "resource-forecast": (("entity", "entity"), ("signal", "signal")),
    "disk-eta": (("node", "node"), ("mountpoint", "mountpoint")),
    "io-crisis": (("entity", "node"), ("signal", "signal")),
}
NODE_FEATURES = ("host_cpu", "host_mem", "pod_cpu", "pod_mem")


def smoke_instances(root: Path, model: str) -> list[Any]:
    """The current version's smoke instances (what the publisher made it answer)."""
    manifest, folder = ModelStore(root, model).verify()
    predictor = predictor_class(model).load(folder, manifest)
    return list(codec_for(FAMILIES[model], predictor).smoke_instances())


def single(instances: list[Any]) -> list[Any]:
    """One instance: the first with history if any has one, else the first."""
    with_history = [i for i in instances if isinstance(i, dict) and i.get("history")]
    return (with_history or instances)[:1]


def batch(instances: list[Any], n: int) -> list[Any]:
    """``n`` instances, the smoke instances repeated in order."""
    return list(islice(cycle(instances), n))


def v1_body(instances: list[Any]) -> dict[str, Any]:
    """``{"instances": [...]}``."""
    return {"instances": instances}


def v2_body(model: str, instances: list[Any]) -> dict[str, Any]:
    """The Open Inference Protocol (REST JSON) request carrying the same rows as ``instances``.

    History families need one history length per request: rows without history are
    left out when some have one, and longer histories keep their latest points.
    """
    if model == "anomaly-detector":
        matrix = [list(map(float, r)) for r in instances]
        return {"inputs": [_tensor("metrics", "FP32", [len(matrix), len(matrix[0])], matrix)]}
    text = TEXT_INPUTS[model]
    if model == "node-outliers":
        tensors = [_tensor(name, "BYTES", [len(instances)], [i[key] for i in instances]) for name, key in text]
        features = [[float(i[f]) for f in NODE_FEATURES] for i in instances]
        return {"inputs": [*tensors, _tensor("features", "FP32", [len(features), 4], features)]}
    rows = [i for i in instances if i.get("history")] or instances
    width = min((len(i["history"]["values"]) for i in rows if i.get("history")), default=0)
    stamps = [[int(t) for t in i["history"]["timestamps"][-width:]] if width else [] for i in rows]
    values = [[float(v) for v in i["history"]["values"][-width:]] if width else [] for i in rows]
    tensors = [_tensor(name, "BYTES", [len(rows)], [i[key] for i in rows]) for name, key in text]
    return {
        "inputs": [
            *tensors,
            _tensor("timestamps", "INT64", [len(rows), width], stamps),
            _tensor("values", "FP32", [len(rows), width], values),
        ]
    }


def _tensor(name: str, datatype: str, shape: list[int], data: list[Any]) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}
