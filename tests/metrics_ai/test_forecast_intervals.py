"""Conformal half-widths, coverage, the deviation rule and the ensemble combiner."""

from __future__ import annotations

import numpy as np
import pytest

from metrics_ai.families.forecast.combiner import combine
from metrics_ai.families.forecast.numeric import MinMax, horizon_index, local_scale, recent_level
from metrics_ai.intervals import DeviationRule, conformal_halfwidth, coverage


def test_conformal_halfwidth_covers_the_level_on_exchangeable_errors() -> None:
    rng = np.random.default_rng(0)
    cal = rng.normal(0, 1, (2000, 3)) * np.array([1.0, 2.0, 3.0])
    test = rng.normal(0, 1, (20000, 3)) * np.array([1.0, 2.0, 3.0])
    q = conformal_halfwidth(np.abs(cal), 0.8)
    assert q[0] < q[1] < q[2]  # per horizon step
    assert coverage(test, q) == pytest.approx(0.8, abs=0.02)
    assert coverage(test, np.broadcast_to(q, test.shape)) == coverage(test, q)


def test_deviation_needs_both_absolute_and_relative_excess() -> None:
    rule = DeviationRule(warning_k=1.5, critical_k=3.0, warning_pct=10, critical_pct=25)
    assert rule.check(100.0, 100.5, 1.0)["severity"] == "INFO"
    warn = rule.check(111.0, 100.0, 4.0)  # 11 > 1.5 * 4 and 11 %
    assert warn["severity"] == "WARNING" and warn["is_anomaly"] and 0 < warn["score"] < 1
    assert rule.check(140.0, 100.0, 4.0)["severity"] == "CRITICAL"
    # the score keeps growing past the critical band: 40 is 10 half-widths, 80 is 20
    critical = rule.check(140.0, 100.0, 4.0)["score"]
    assert critical == pytest.approx(1 - np.exp(-40 / 24)) and critical < rule.check(180.0, 100.0, 4.0)["score"] < 1
    assert rule.check(112.0, 100.0, 4.0)["score"] == pytest.approx(1 - np.exp(-0.5))  # the critical band: 0.39
    big_level = rule.check(1_030_000.0, 1_000_000.0, 100.0)  # far outside the band, only 3 %
    assert big_level["severity"] == "INFO"
    tiny_level = rule.check(0.011, 0.010, 0.01)  # 10 % but inside the band
    assert tiny_level["severity"] == "INFO"


def test_deviation_either_rule_is_the_originals_absolute_or_percentage_test() -> None:
    rule = DeviationRule(warning_k=1.5, critical_k=3.0, warning_pct=10, critical_pct=25, mode="either")
    assert rule.check(100.0, 100.5, 1.0)["severity"] == "INFO"  # neither test
    assert rule.check(1_030_000.0, 1_000_000.0, 100.0)["severity"] == "CRITICAL"  # absolute alone
    assert rule.check(0.0115, 0.010, 0.01)["severity"] == "WARNING"  # percentage alone (15 %)
    assert rule.check(0.013, 0.010, 0.01)["severity"] == "CRITICAL"  # 30 % alone
    both = DeviationRule(mode="both")
    assert both.check(1_030_000.0, 1_000_000.0, 100.0)["severity"] == "INFO"


def test_combine_weighted_median_and_missing_components() -> None:
    f = {
        "prophet": np.array([[1.0, 1.0]]),
        "arima": np.array([[2.0, 2.0]]),
        "lstm": np.array([[9.0, 9.0]]),
    }
    w = {
        "prophet": np.array([1.0, 0.0]),
        "arima": np.array([1.0, 0.0]),
        "lstm": np.array([2.0, 0.0]),
    }
    np.testing.assert_allclose(combine(f, w), [[5.25, 4.0]])  # all-zero step: plain mean
    np.testing.assert_allclose(combine(f, w, "median"), [[2.0, 2.0]])
    np.testing.assert_allclose(combine({**f, "lstm": None}, w, "median"), [[1.5, 1.5]])
    np.testing.assert_allclose(combine({**f, "prophet": None}, w), [[20 / 3, 5.5]])
    with pytest.raises(ValueError):
        combine(dict.fromkeys(f), w)


def test_helpers() -> None:
    y = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0])
    np.testing.assert_allclose(local_scale(y, np.array([1, 2, 5]), 2, 0.0), [1.0, 1.5, 4.5])
    assert local_scale(np.zeros(10), np.array([9]), 5, 0.25)[0] == 0.25
    np.testing.assert_allclose(recent_level(y, np.array([0, 2, 5]), 3), [0.0, 1.0, 10.0])  # clamped at the start
    assert recent_level(np.array([1.0, 1.0, 9.0, 1.0]), np.array([3]), 3)[0] == 1.0  # a spike does not set it
    np.testing.assert_array_equal(horizon_index(np.array([300.0, 600.0, 900.0]), 60.0, 15), [4, 9, 14])
    np.testing.assert_array_equal(horizon_index(np.array([60.0, 3600.0]), 300.0, 3), [0, 2])
    assert MinMax(0.5, 0.5).span > 0
    np.testing.assert_allclose(MinMax(0.0, 2.0).unscale(MinMax(0.0, 2.0).scale(np.array([0.5, 1.5]))), [0.5, 1.5])
