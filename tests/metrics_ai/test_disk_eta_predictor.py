"""disk-eta request path on hand-made Prophet states: ETAs, sources, fallbacks, V2.

What it shares with io-crisis (4xx naming the field, 404s, save/load) is held for both in
``test_crossing_predictors.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from metrics_ai.crossing import DAY
from metrics_ai.families.disk_eta import DiskEtaConfig, DiskEtaPredictor, DiskState
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History
from tests.metrics_ai.crossing_helpers import as_json, trend_state, v2
from tests.serving.codec_calls import v1
from tests.serving.codec_calls import v2 as v2_call

END = 1_790_000_000.0
RATE = 4.0  # percent per day


def line_state(level_at_end: float, rate: float) -> ProphetState:
    """A Prophet state whose curve is level_at_end + rate * days after END."""
    return trend_state(level_at_end, rate, END)


def fill(level_at_end: float, rate: float, days: float = 3, step: float = 300) -> History:
    t = END - np.arange(int(days * DAY / step))[::-1] * step
    return History(t, level_at_end + rate * (t - END) / DAY)


def disk_predictor() -> DiskEtaPredictor:
    """Two disks on n1: ``/`` filling at RATE with a Prophet state, ``/var`` skipped at training."""
    disks = {
        ("", "n1", "/"): DiskState(line_state(70.0, RATE), fill(70.0, RATE)),
        ("", "n1", "/var"): DiskState(None, fill(30.0, 0.0, days=0.1), "40 points; a model needs at least 50"),
    }
    return DiskEtaPredictor(DiskEtaConfig(), disks)


@pytest.fixture
def predictor() -> DiskEtaPredictor:
    return disk_predictor()


def test_known_disk_with_history(predictor: DiskEtaPredictor) -> None:
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/", "history": as_json(fill(70.0, RATE))}])
    assert p["eta_days"]["linear"] == pytest.approx(5.0, abs=0.01)
    assert p["eta_days"]["prophet"] == pytest.approx(5.0, abs=0.01)
    assert p["eta_days"]["ensemble"] == min(p["eta_days"]["linear"], p["eta_days"]["prophet"])
    assert p["severity"] == "WARNING" and p["source"] == "request" and p["threshold"] == 90.0
    assert p["current_usage"] == pytest.approx(70.0) and "note" not in p


def test_fresh_history_shifts_the_saved_curve(predictor: DiskEtaPredictor) -> None:
    # the disk jumped 10 points since training: the level correction moves Prophet's curve too
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/", "history": as_json(fill(80.0, RATE))}])
    assert p["eta_days"]["prophet"] == pytest.approx(2.5, abs=0.01)
    assert p["severity"] == "CRITICAL"


def test_already_full_is_zero_days_critical(predictor: DiskEtaPredictor) -> None:
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/", "history": as_json(fill(93.0, 0.1))}])
    assert p["eta_days"] == {"linear": 0.0, "prophet": 0.0, "ensemble": 0.0} and p["severity"] == "CRITICAL"


def test_shrinking_disk_never_fills(predictor: DiskEtaPredictor) -> None:
    predictor.disks[("", "n1", "/")] = DiskState(line_state(70.0, -2.0), fill(70.0, -2.0))
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/", "history": as_json(fill(70.0, -2.0))}])
    assert p["eta_days"] == {"linear": None, "prophet": None, "ensemble": None} and p["severity"] == "OK"


def test_under_50_points_says_so(predictor: DiskEtaPredictor) -> None:
    short = fill(70.0, RATE, days=40 * 300 / DAY)
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/", "history": as_json(short)}])
    assert len(short) == 40
    assert p["eta_days"] == {"linear": None, "prophet": None, "ensemble": None}
    assert "50" in p["reason"] and p["severity"] == "OK"


def test_unknown_disk_with_history_gets_linear_only(predictor: DiskEtaPredictor) -> None:
    [p] = v1(predictor, [{"node": "new", "mountpoint": "/", "history": as_json(fill(70.0, RATE))}])
    assert p["eta_days"]["prophet"] is None and p["eta_days"]["ensemble"] == pytest.approx(5.0, abs=0.01)
    assert "linear" in p["note"]


class FakeFetcher:
    def __init__(self, history: History | None) -> None:
        self.history = history
        self.calls: list[tuple[str, dict[str, str]]] = []

    def fetch(self, signal: str, labels: Mapping[str, str], seconds: float, step: int) -> History | None:
        self.calls.append((signal, dict(labels)))
        return self.history


def test_without_history_uses_fetcher_then_training_state(predictor: DiskEtaPredictor) -> None:
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/"}])
    assert p["source"] == "training-state" and p["eta_days"]["ensemble"] == pytest.approx(5.0, abs=0.01)
    predictor.fetcher = FakeFetcher(fill(80.0, RATE))
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/"}])
    assert p["source"] == "prometheus" and p["eta_days"]["ensemble"] == pytest.approx(2.5, abs=0.01)
    assert predictor.fetcher.calls == [("disk_used_pct", {"node": "n1", "mountpoint": "/"})]
    predictor.fetcher = FakeFetcher(None)
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/"}])
    assert p["source"] == "training-state"


def test_disk_skipped_at_training_answers_with_reason(predictor: DiskEtaPredictor) -> None:
    [p] = v1(predictor, [{"node": "n1", "mountpoint": "/var"}])
    assert p["source"] == "training-state" and p["eta_days"]["ensemble"] is None and "50" in p["reason"]


def test_v2_padded_rows_match_v1(predictor: DiskEtaPredictor) -> None:
    full, short = fill(70.0, RATE), fill(70.0, -1.0, days=1)
    out = v2_call(
        predictor,
        v2(predictor, ["n1", "new", "n1", "n1"], ["/", "/", "/", "/var"], [full, short, None, None], len(full)),
    )
    assert out["eta_days"].dtype == np.float32 and out["eta_days"].shape == (4,)
    assert out["eta_days"][0] == pytest.approx(5.0, abs=0.01)
    assert out["eta_days"][1] == np.inf  # unknown disk, shrinking: never
    assert out["eta_days"][2] == pytest.approx(5.0, abs=0.01)  # all-NaN row: training state
    assert np.isnan(out["eta_days"][3])  # too few points to say
    assert list(out["severity"]) == [b"WARNING", b"OK", b"WARNING", b"OK"]
