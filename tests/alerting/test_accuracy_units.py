"""Live accuracy from answers and the histories that followed them (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from alerting.accuracy import DAY, LiveAccuracy

T0 = 1_763_000_000.0
STEP = 60.0


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def figures(acc: LiveAccuracy) -> dict[tuple[str, tuple[str, ...]], float]:
    """{(sample name, label values): value} as the exporter renders them."""
    return {(s.name, tuple(s.labels.values())): s.value for family in acc.collect() for s in family.samples}


def history(end: float, values: list[float] | np.ndarray) -> dict[str, list[float]]:
    n = len(values)
    return {"timestamps": [end - STEP * (n - 1 - i) for i in range(n)], "values": list(map(float, values))}


def forecast_pass(acc: LiveAccuracy, end: float, values: Any, yhat: float, halfwidth: float, mae: float = 0.05) -> None:
    """One resource-forecast answer of 15 points issued at ``end``."""
    times = [end + STEP * (k + 1) for k in range(15)]
    answer = {
        "timestamps": [stamp(t) for t in times],
        "ensemble": [yhat] * 15,
        "lower": [yhat - halfwidth] * 15,
        "upper": [yhat + halfwidth] * 15,
        "backtest": {"mae_ensemble": mae},
        "step_seconds": STEP,
    }
    instance = {"entity": "prod-east", "signal": "cpu", "history": history(end, values)}
    labels = {"cluster": "prod-east", "node": "", "entity": "prod-east", "signal": "cpu"}
    acc.observe("resource-forecast", [instance], [labels], [answer])


def test_forecast_points_are_scored_once_their_actuals_arrive() -> None:
    acc = LiveAccuracy()
    forecast_pass(acc, T0, [0.5] * 60, yhat=0.5, halfwidth=0.1)
    assert ("metrics_ai_live_mae", ("resource-forecast", "cpu")) not in figures(acc)  # nothing observed yet
    # 10 minutes later: the first 10 points came true 0.3 above the forecast (outside the +-0.1 interval)
    forecast_pass(acc, T0 + 600, [0.5] * 50 + [0.8] * 10, yhat=0.8, halfwidth=0.1)
    got = figures(acc)
    key = ("resource-forecast", "cpu")
    assert got[("metrics_ai_live_mae", key)] == pytest.approx(0.3)
    assert got[("metrics_ai_live_interval_coverage", key)] == 0.0
    assert got[("metrics_ai_live_scored_total", key)] == 10
    assert got[("metrics_ai_backtest_mae", key)] == pytest.approx(0.05)
    # 10 minutes more, the value stays at 0.8: the first answer's last 5 points (off by 0.3) and the
    # second's first 10 (spot on, inside) are scored: (5 * 0.3 + 10 * 0) / 25 over all 25 points
    forecast_pass(acc, T0 + 1200, [0.5] * 40 + [0.8] * 20, yhat=0.8, halfwidth=0.1)
    got = figures(acc)
    assert got[("metrics_ai_live_scored_total", key)] == 25
    assert got[("metrics_ai_live_mae", key)] == pytest.approx((15 * 0.3) / 25)
    assert got[("metrics_ai_live_interval_coverage", key)] == pytest.approx(10 / 25)


def test_pending_forecasts_are_bounded_and_the_window_rolls() -> None:
    acc = LiveAccuracy(window=20, pending=3)  # one answer per 5 minutes of the 15-minute horizon
    for k in range(10):  # a pass a minute: only every fifth answer is kept
        forecast_pass(acc, T0 + 60 * k, [0.5] * 60, yhat=0.5, halfwidth=0.1)
    (pending,) = acc._forecasts.values()  # noqa: SLF001 - the bound under test
    assert [f.issued - T0 for f in pending] == [0.0, 300.0]
    for k in range(10, 40):
        forecast_pass(acc, T0 + 60 * k, [0.5] * 60, yhat=0.5, halfwidth=0.1)
    rolling = acc.rolling("resource-forecast", "cpu")
    assert len(rolling.errors) == 20 and rolling.scored > 20


def crisis(acc: LiveAccuracy, end: float, values: list[float], called: bool) -> None:
    answer = {"threshold": 0.5, "crisis": called, "days_to_crisis": 1.0 if called else None, "forecast_peak": 0.6}
    instance = {"cluster": "c", "node": "n1", "signal": "io_wait", "history": history(end, values)}
    acc.observe("io-crisis", [instance], [{"cluster": "c", "node": "n1", "signal": "io_wait"}], [answer])


def test_crisis_calls_count_as_hits_misses_and_false_alarms_after_their_horizon() -> None:
    outcomes = {}
    for called, reached, outcome in (
        (True, True, "hit"),
        (True, False, "false_alarm"),
        (False, True, "miss"),
        (False, False, "correct_negative"),
    ):
        acc = LiveAccuracy(pending=7)
        crisis(acc, T0, [0.1] * 10, called)
        crisis(acc, T0 + 3 * DAY, [0.9 if reached else 0.1] * 10, called=False)  # within the 7-day horizon
        assert not any(s.name.endswith("outcomes_total") for f in acc.collect() for s in f.samples)
        crisis(acc, T0 + 7 * DAY + 60, [0.1] * 10, called=False)  # the first call's horizon has passed
        got = {k: v for k, v in figures(acc).items() if k[0] == "metrics_ai_live_crisis_outcomes_total"}
        outcomes[outcome] = got
        assert got == {("metrics_ai_live_crisis_outcomes_total", ("io-crisis", "io_wait", outcome)): 1.0}


def disk(acc: LiveAccuracy, end: float, values: list[float], eta_days: float | None) -> None:
    answer = {"threshold": 90.0, "current_usage": values[-1], "eta_days": {"ensemble": eta_days}, "severity": "OK"}
    instance = {"cluster": "c", "node": "n1", "mountpoint": "/var", "history": history(end, values)}
    acc.observe("disk-eta", [instance], [{"cluster": "c", "node": "n1", "mountpoint": "/var"}], [answer])


def test_eta_error_on_a_disk_that_filled() -> None:
    acc = LiveAccuracy()
    disk(acc, T0, [80.0] * 10, eta_days=2.0)  # says: full in 2 days
    disk(acc, T0 + DAY, [85.0] * 10, eta_days=1.0)  # says: full in 1 more day (the same instant)
    assert ("metrics_ai_live_eta_error_days", ("disk-eta", "disk_used_pct")) not in figures(acc)
    disk(acc, T0 + 2.5 * DAY, [89.0] * 9 + [91.0], eta_days=0.0)  # filled half a day late
    got = figures(acc)
    assert got[("metrics_ai_live_eta_error_days", ("disk-eta", "disk_used_pct"))] == pytest.approx(0.5)
    assert got[("metrics_ai_live_scored_total", ("disk-eta", "disk_used_pct"))] == 2


def test_a_disk_already_full_at_start_is_no_fill() -> None:
    acc = LiveAccuracy()
    disk(acc, T0, [95.0] * 10, eta_days=0.0)
    disk(acc, T0 + DAY, [95.0] * 10, eta_days=0.0)
    assert figures(acc).get(("metrics_ai_live_scored_total", ("disk-eta", "disk_used_pct")), 0) == 0


def test_a_malformed_answer_is_skipped_not_raised() -> None:
    acc = LiveAccuracy()
    instance = {"entity": "e", "signal": "cpu", "history": history(T0, [1.0, 2.0])}
    acc.observe("resource-forecast", [instance], [{"entity": "e", "signal": "cpu"}], [{"ensemble": [1.0]}])
    assert figures(acc) == {}
