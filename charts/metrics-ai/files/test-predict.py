"""helm test: one V1 prediction per served model, with a payload any trained model answers.

Arguments: MODEL=URL pairs (URL: the InferenceService's predictor Service). The payloads
name no entity the model was trained on: every model answers an unknown node, disk or
series from the history sent (docs/openshift.md, "Test the release"). Standard library only.
Exit 1, naming each model that failed, when any answer is not a list of one prediction per
instance, each carrying the serving model_version.
"""

from __future__ import annotations

import json
import math
import sys
import time
import urllib.error
import urllib.request
from typing import Any

DAY = 86400.0


def history(
    points: int, step: int, base: float, daily: float, trend: float = 0.0, lo: float = 0.0, hi: float = 1.0
) -> dict[str, list[float]]:
    """A regular series ending now: a daily cycle around base plus a linear trend per day."""
    end = float(math.floor(time.time() / step) * step)
    stamps = [end - (points - 1 - i) * step for i in range(points)]
    values = [
        min(hi, max(lo, base + daily * math.sin(2 * math.pi * t / DAY) + trend * (t - stamps[0]) / DAY)) for t in stamps
    ]
    return {"timestamps": stamps, "values": values}


def payload(model: str) -> dict[str, Any]:
    """The request body for one model."""
    if model == "anomaly-detector":  # cpu, memory, pod_restarts, network_in, network_out
        return {"instances": [[0.5, 0.6, 0.4, 100, 80]]}
    if model == "node-outliers":  # four peers of a cluster the model has not seen
        rows = [(0.40, 0.50, 0.20, 0.30), (0.42, 0.52, 0.21, 0.31), (0.41, 0.49, 0.19, 0.29), (0.90, 0.95, 0.80, 0.85)]
        keys = ("host_cpu", "host_mem", "pod_cpu", "pod_mem")
        nodes = [
            {"cluster": "helm-test", "node": f"node-{i}", **dict(zip(keys, r, strict=True))} for i, r in enumerate(rows)
        ]
        return {"instances": nodes}
    if model == "resource-forecast":  # two days at 30 s: finer than any fitted step, averaged to it
        return {"instances": [{"entity": "helm-test", "signal": "cpu", "history": history(5760, 30, 0.5, 0.1)}]}
    if model == "disk-eta":  # a filling disk, used percent
        disk = history(576, 300, 60, 1, 2, 0, 100)
        return {"instances": [{"node": "helm-test", "mountpoint": "/var", "history": disk}]}
    if model == "io-crisis":  # I/O wait ratio
        return {"instances": [{"node": "helm-test", "signal": "io_wait", "history": history(576, 300, 0.05, 0.02)}]}
    raise SystemExit(f"{model}: no test payload")


def check(model: str, url: str) -> str | None:
    """None when the model answered as expected, else what went wrong."""
    body = payload(model)
    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/models/{model}:predict",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}: {exc.read()[:300].decode(errors='replace')}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"no answer: {exc}"
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != len(body["instances"]):
        return f"expected {len(body['instances'])} predictions, got {str(answer)[:300]}"
    if not all(isinstance(p, dict) and p.get("model_version") for p in predictions):
        return f"a prediction without model_version: {str(predictions)[:300]}"
    return None


def main(pairs: list[str]) -> None:
    """Check every MODEL=URL; print one line each; exit 1 if any failed."""
    failed = []
    for pair in pairs:
        model, _, url = pair.partition("=")
        problem = check(model, url)
        print(f"{model}: {'ok' if problem is None else 'FAILED: ' + problem}", flush=True)
        if problem is not None:
            failed.append(model)
    if failed or not pairs:
        sys.exit(f"failed: {', '.join(failed) or 'no model to test'}")


if __name__ == "__main__":
    main(sys.argv[1:])
