"""Baseline KServe models served side by side with metrics-ai in benchmark runs.

- ``noop``: a ``kserve.Model`` whose predict answers one constant per instance / row
  without looking at it (the framework's floor), V1 and V2.
- ``sklearn-iforest``: the anomaly-detector's own fitted IsolationForest (``model.pkl``)
  served the way KServe's stock sklearn server does (``get_predict_input`` ->
  model -> ``get_predict_response``), scoring with ``predict`` and ``score_samples``
  on the request's raw rows (tiled to the forest's feature width: no rolling features).

Run: ``python bench/baselines.py --port 9000 --model-pkl models/anomaly-detector/model.pkl``
"""

from __future__ import annotations

import argparse
from typing import Any

import joblib
import kserve
import numpy as np
from kserve import InferRequest, InferResponse
from kserve.utils.utils import get_predict_input, get_predict_response


class NoopModel(kserve.Model):
    """Answers without doing any work."""

    def __init__(self) -> None:
        super().__init__("noop")
        self.ready = True

    async def predict(
        self, payload: dict[str, Any] | InferRequest, headers: dict[str, str] | None = None
    ) -> dict[str, Any] | InferResponse:
        if isinstance(payload, InferRequest):
            rows = int(payload.inputs[0].shape[0])
            return get_predict_response(payload, np.ones(rows, dtype=np.int32), self.name)
        return {"predictions": [1 for _ in payload["instances"]]}


class StockSklearnModel(kserve.Model):
    """KServe's sklearn server, reduced to its predict path."""

    def __init__(self, path: str) -> None:
        super().__init__("sklearn-iforest")
        self.forest = joblib.load(path)["model"]  # benchmark-only: our own file
        self.width = int(self.forest.n_features_in_)
        self.ready = True

    async def predict(
        self, payload: dict[str, Any] | InferRequest, headers: dict[str, str] | None = None
    ) -> dict[str, Any] | InferResponse:
        rows = np.asarray(get_predict_input(payload), dtype=np.float64)
        if rows.shape[1] != self.width:  # raw metric rows: tile to the feature width the forest expects
            rows = np.resize(rows, (rows.shape[0], self.width))
        labels = self.forest.predict(rows)
        scores = -self.forest.score_samples(rows)
        if isinstance(payload, InferRequest):
            return get_predict_response(payload, np.stack([labels, scores], axis=1).astype(np.float32), self.name)
        return {"predictions": [{"label": int(a), "score": float(b)} for a, b in zip(labels, scores, strict=True)]}


def main() -> None:
    """Serve both baselines on one port."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--grpc-port", type=int, default=None)
    parser.add_argument("--model-pkl", required=True)
    args = parser.parse_args()
    grpc = args.grpc_port or args.port + 1
    server = kserve.ModelServer(http_port=args.port, grpc_port=grpc)  # same defaults as ours
    server.start([NoopModel(), StockSklearnModel(args.model_pkl)])


if __name__ == "__main__":
    main()
