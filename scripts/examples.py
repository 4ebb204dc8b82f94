"""Print (and make) example V1 and V2 calls against a running predictor.

Each example instance comes from the model's own smoke request, so the calls name
clusters, nodes and disks that the trained demo models know.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import MetricsAIError
from metrics_ai.families import FAMILIES, MODEL_NAMES, predictor_class
from serving.codec import codec_for

JSON = "application/json"
JSON_HEADER = f"-H 'Content-Type: {JSON}'"
RECORD_CALL = {"instances": [[0.5, 0.6, 0.4, 100, 80]]}


def example_instances(root: Path, model: str) -> list[Any] | None:
    """The first smoke instance of the current version (the record's call for anomaly-detector)."""
    if model == "anomaly-detector":
        return RECORD_CALL["instances"]
    try:
        manifest, folder = ModelStore(root, model).verify()
    except MetricsAIError:
        return None
    predictor = predictor_class(model).load(folder, manifest)
    return codec_for(FAMILIES[model], predictor).smoke_instances()[:1]


def main() -> None:
    """Print a curl line and the live answer for each served model."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://localhost:8080")
    parser.add_argument("--models", type=Path, default=Path("models"))
    args = parser.parse_args()
    with httpx.Client(base_url=args.url, timeout=30) as client:
        for model in MODEL_NAMES:
            instances = example_instances(args.models, model)
            if instances is None:
                continue
            body = json.dumps({"instances": instances})
            print(f"\n# {model} (V1)")
            print(f"curl -s -X POST {args.url}/v1/models/{model}:predict {JSON_HEADER} -d '{body}'")
            answer = client.post(f"/v1/models/{model}:predict", content=body, headers={"content-type": JSON})
            print(f"-> {answer.status_code} {answer.text[:600]}")
        v2 = {"inputs": [{"name": "metrics", "shape": [1, 5], "datatype": "FP32", "data": RECORD_CALL["instances"][0]}]}
        print("\n# anomaly-detector (V2)")
        print(f"curl -s -X POST {args.url}/v2/models/anomaly-detector/infer {JSON_HEADER} -d '{json.dumps(v2)}'")
        answer = client.post("/v2/models/anomaly-detector/infer", json=v2)
        print(f"-> {answer.status_code} {answer.text[:600]}")


if __name__ == "__main__":
    main()
