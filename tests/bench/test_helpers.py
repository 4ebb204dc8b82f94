"""Small pure helpers of the benchmarks: Prometheus-rule arithmetic, alarm silencing, tables."""

from __future__ import annotations

import numpy as np
import pytest

from bench.disk_vs_predict_linear import line_eta_days, predict_linear, relative_error, rule
from bench.nab_detector import silenced
from bench.serving import table
from bench.training import report

HOUR = 3600.0


def ramp(rate_per_hour: float, level: float, hours: float = 12, step: float = 300) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(0, hours * HOUR + 1, step)
    return t, level + rate_per_hour * (t - t[-1]) / HOUR


def test_predict_linear_extrapolates_the_6h_least_squares_line() -> None:
    t, v = ramp(2.0, 70.0)
    assert predict_linear(t, v, t[-1], 4 * HOUR) == pytest.approx(78.0)
    assert line_eta_days(t, v, 90.0) == pytest.approx(10 / 24)
    flat_t, flat_v = ramp(0.0, 50.0)
    assert line_eta_days(flat_t, flat_v, 90.0) is None


def test_mixin_rule_needs_the_free_space_condition_and_the_whole_for_period() -> None:
    t, v = ramp(6.0, 88.0)  # full (100 %) in 2 h, above 80 % used for the last hour
    assert rule(t, v, 4 * HOUR, 80.0, HOUR)
    assert not rule(t, v, 4 * HOUR, 90.0, HOUR)  # not yet under 10 % free
    assert not rule(t, v, HOUR, 80.0, HOUR)  # full in 2 h, not within 1 h
    t2, v2 = ramp(6.0, 83.0)  # crossed 80 % used only 30 min ago: the 1 h 'for' has not elapsed
    assert not rule(t2, v2, 4 * HOUR, 80.0, HOUR)


def test_relative_error_of_never_is_infinite() -> None:
    assert relative_error(None, 2.0) == float("inf")
    assert relative_error(3.0, 2.0) == pytest.approx(0.5)


def test_silenced_keeps_the_first_alarm_of_each_quiet_period() -> None:
    flags = np.zeros(20, dtype=bool)
    flags[[2, 3, 4, 9, 15]] = True
    assert np.flatnonzero(silenced(flags, 5)).tolist() == [2, 9, 15]


def test_serving_table_ratios_are_against_the_noop_at_the_same_protocol_batch_and_clients() -> None:
    results = {
        ("noop", "V1", "1", 8): {"rps": 1000.0, "p50_ms": 1, "p99_ms": 2, "errors": 0, "cpu_ms_per_req": 0.5},
        ("noop", "V1", "100", 8): {"rps": 500.0, "p50_ms": 1, "p99_ms": 2, "errors": 0, "cpu_ms_per_req": 1.0},
        ("x", "V1", "1", 8): {"rps": 800.0, "p50_ms": 1, "p99_ms": 2, "errors": 0, "cpu_ms_per_req": 1.0},
        ("x", "V1", "100", 8): {"rps": 50.0, "p50_ms": 1, "p99_ms": 2, "errors": 0, "cpu_ms_per_req": 10.0},
    }
    lines = table(results, 100)
    single, batch = lines[4].split(), lines[5].split()
    assert single[-3] == "80%" and single[-1] == "50%"
    assert batch[5] == "5000" and batch[-3] == "10%" and batch[-1] == "10%"


def test_training_report_labels_extrapolation_and_judges_the_budget() -> None:
    family = {"wall_s": 10.0, "fit_s": 9.0, "series": 3, "tree_peak_mib": 100.0, "process_peak_mib": 90.0,
              "status": "current"}
    data = {"seconds": 1.0, "rows": 10, "entities": 2, "rss_mib": 50.0, "peak_mib": 60.0}
    measured = {"profile": "demo", "days": 7.0, "wall_s": 200.0, "data": data, "families": {"a": family}}
    assert "MISSED" in report(measured, True)[-1]
    short = {**measured, "profile": "cluster-100", "days": 2.0, "wall_s": 100.0}
    last = report(short, True)[-1]
    assert "EXTRAPOLATED" in last and "350 s" in last and "within" in last
