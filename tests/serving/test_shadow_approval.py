"""APPROVAL=manual and SHADOW=pending against a real predictor and the real training CLI.

A pending version scores in shadow while the current one answers; ``approve`` switches
the predictor without a restart.
"""

from __future__ import annotations

import re

from metrics_ai.artifacts import ModelStore
from tests.conftest import Predictor
from tests.serving.test_lifecycle import ROW, copy_models, metric_value, served_version, wait_for
from tests.training.test_cli_and_publish import run_cli

MODEL = "anomaly-detector"
#: ordinary rows and clearly anomalous ones, so both flags occur
ROWS = [ROW, [0.45, 0.55, 0.5, 120, 90], [5.0, 6.0, 4.0, 5000, 4000], [0.0, 0.0, 0.0, 0, 0]]


def _answer_versions(server: Predictor, n: int) -> set[str]:
    """Send ``n`` V1 requests; the model_version of every answer."""
    seen = set()
    for i in range(n):
        r = server.client.post(f"/v1/models/{MODEL}:predict", json={"instances": [ROWS[i % len(ROWS)], ROW]})
        assert r.status_code == 200, r.text
        seen |= {p["model_version"] for p in r.json()["predictions"]}
    return seen


def test_manual_approval_shadows_pending_then_approve_switches_without_restart(
    tmp_path, basic_models, start_predictor
) -> None:
    root = copy_models(basic_models, tmp_path)
    store = ModelStore(root, MODEL)
    current = store.current_version()
    # the whole of a core for the shadow: every request is compared (the budget has its own test)
    server = start_predictor(root, MODEL, env={"METRICS_AI_SHADOW": "pending", "METRICS_AI_SHADOW_BUDGET": "1"})
    pid = server.proc.pid
    assert served_version(server) == current

    manual = {"APPROVAL": "manual", "SEED": "7", "GATE_MARGIN": "10"}
    done = run_cli("run", "--out", str(root), "--models", MODEL, "--profile", "tiny", env=manual)
    assert done.returncode == 0, done.stdout + done.stderr  # held for approval is a success
    assert "PENDING" in done.stdout
    [pending] = store.awaiting_approval()
    assert store.current_version() == current

    # the pending version shadows; every answer still comes from the current version
    info = f'metrics_ai_shadow_version_info{{model="{MODEL}",version="{pending}"}} 1.0'
    wait_for(lambda: info in server.client.get("/metrics").text)
    assert _answer_versions(server, 40) == {current}
    wait_for(lambda: metric_value(server, "metrics_ai_shadow_predictions_total", MODEL) >= 80)
    assert metric_value(server, "metrics_ai_shadow_requests_total", MODEL) >= 40
    agreements = metric_value(server, "metrics_ai_shadow_flag_agreements_total", MODEL)
    assert 0 < agreements <= metric_value(server, "metrics_ai_shadow_predictions_total", MODEL)
    ratio = metric_value(server, "metrics_ai_shadow_flag_agreement_ratio", MODEL)
    assert 0.0 < ratio <= 1.0
    text = server.client.get("/metrics").text
    diffs = re.findall(rf'metrics_ai_shadow_abs_diff{{field="([^"]+)",model="{MODEL}"}} (\S+)', text)
    assert "score" in dict(diffs), diffs
    assert float(dict(diffs)["score"]) > 0  # another seed scores differently
    assert served_version(server) == current

    listing = run_cli("versions", "--out", str(root), "--model", MODEL, "--predictor", server.url)
    assert listing.returncode == 0, listing.stderr
    assert f"{pending}  PENDING approval" in listing.stdout
    assert "metrics_ai_shadow_flag_agreement_ratio" in listing.stdout

    approved = run_cli("approve", "--out", str(root), "--model", MODEL, env={"APPROVER": "alice"})
    assert approved.returncode == 0, approved.stderr
    wait_for(lambda: served_version(server) == pending)
    assert server.proc.pid == pid and server.alive()  # no restart
    last = store.history()[-1]
    assert (last.event, last.version, last.by, last.previous) == ("approved", pending, "alice", current)
    assert _answer_versions(server, 5) == {pending}
    # nothing awaits approval any more: the shadow version is dropped
    wait_for(lambda: "metrics_ai_shadow_version_info{" not in server.client.get("/metrics").text)
