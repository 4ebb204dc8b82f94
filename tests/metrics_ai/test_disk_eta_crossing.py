"""Shared crossing/trend/severity logic of disk-eta and io-crisis (metrics_ai.crossing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metrics_ai.crossing import (
    DAY,
    HOUR,
    bin_means,
    curve_crossing,
    drift_curve,
    earliest,
    level_offset,
    linear_eta_seconds,
    load_recent,
    recent_window,
    robust_slope,
    save_recent,
    severity,
    without_one_off_jump,
)
from metrics_ai.series import History

T0 = 1_790_000_000.0 - (1_790_000_000.0 % DAY)  # a UTC midnight


@pytest.mark.parametrize(
    ("eta", "grade"),
    [
        (0.0, "CRITICAL"),
        (2.99, "CRITICAL"),
        (3.0, "WARNING"),
        (6.99, "WARNING"),
        (7.0, "SOON"),
        (29.9, "SOON"),
        (30.0, "OK"),
        (None, "OK"),
        (float("inf"), "OK"),
    ],
)
def test_severity_grades(eta: float | None, grade: str) -> None:
    assert severity(eta) == grade


def test_earliest_treats_none_as_never() -> None:
    assert earliest(None, 4.0, 2.5) == 2.5
    assert earliest(None, None) is None


def test_linear_eta() -> None:
    assert linear_eta_seconds(95, 1.0, 90) == 0.0
    assert linear_eta_seconds(80, -1.0, 90) is None
    assert linear_eta_seconds(80, 0.0, 90) is None
    assert linear_eta_seconds(80, 2.0, 90) == 5.0


def test_curve_crossing_is_refined_between_grid_points() -> None:
    # reaches 90 at t0 + 2.37 days: between hourly grid points
    rate = 10.0 / (2.37 * DAY)
    seconds, peak = curve_crossing(lambda g: 80 + rate * (g - T0), T0, 30 * DAY, 90.0)
    assert seconds == pytest.approx(2.37 * DAY, abs=60)
    assert peak == pytest.approx(80 + rate * 30 * DAY)


def test_curve_crossing_already_above_and_never() -> None:
    assert curve_crossing(lambda g: np.full_like(g, 95.0), T0, DAY, 90.0)[0] == 0.0
    seconds, peak = curve_crossing(lambda g: 50 + np.sin(g / HOUR), T0, 7 * DAY, 90.0)
    assert seconds is None and peak <= 51.0


def _sawtooth(
    days: float = 7, step: float = 300, trend: float = 0.5, amp: float = 8.0
) -> tuple[np.ndarray, np.ndarray]:
    t = T0 + np.arange(int(days * DAY / step)) * step
    return t, 50 + trend * (t - T0) / DAY + amp * ((t % DAY) / DAY)


def test_robust_slope_ignores_nightly_rotation() -> None:
    t, v = _sawtooth(trend=0.5, amp=8.0)
    assert robust_slope(t, v) * DAY == pytest.approx(0.5, abs=0.02)
    # least squares over the last 6 h (predict_linear) would see the daily climb instead
    recent = t >= t[-1] - 6 * HOUR
    assert np.polyfit(t[recent], v[recent], 1)[0] * DAY > 5


def test_robust_slope_forgets_an_old_step_and_resists_noise() -> None:
    t = T0 + np.arange(int(7 * DAY / 300)) * 300.0
    v = (
        40
        + np.where(t > t[-1] - 3 * DAY, 15.0, 0.0)
        + np.random.default_rng(0).normal(0, 1.5, t.size)
    )
    assert abs(robust_slope(t, v) * DAY) < 0.3


def test_robust_slope_short_history_uses_theil_sen() -> None:
    t = T0 + np.arange(60) * 60.0  # one hour
    v = 50 + 2.0 * (t - T0) / DAY
    v[10] = 99.0  # one spike
    assert robust_slope(t, v) * DAY == pytest.approx(2.0, rel=1e-6)


def test_level_offset_is_median_residual_of_recent_window() -> None:
    t = T0 + np.arange(100) * 600.0
    v = np.full(t.size, 55.0)
    v[-3] = 1000.0  # one outlier does not move a median
    assert level_offset(t, v, lambda g: np.full_like(g, 50.0)) == pytest.approx(5.0)


def test_bin_means_and_recent_window_round_trip(tmp_path: Path) -> None:
    t = T0 + np.arange(0, 2 * HOUR, 60.0)
    tb, vb = bin_means(t, np.arange(t.size, dtype=float), HOUR)
    np.testing.assert_allclose(vb, [29.5, 89.5])
    np.testing.assert_allclose(tb, [T0 + 29.5 * 60, T0 + HOUR + 29.5 * 60])
    recents = [recent_window(t, np.ones(t.size), 1.0, 300), History(np.zeros(0), np.zeros(0))]
    assert len(recents[0]) == 13  # the last hour and its edge bin, as 5-minute means
    save_recent(tmp_path / "r.npz", recents)
    again = load_recent(tmp_path / "r.npz")
    np.testing.assert_array_equal(again[0].timestamps, recents[0].timestamps)
    assert len(again[1]) == 0


def test_drift_curve_repeats_the_daily_profile_with_trend() -> None:
    t, v = _sawtooth(days=3, trend=1.0, amp=8.0)
    curve = drift_curve(t, v)
    one_day_later = t[-1] + DAY
    # same hour tomorrow: today's value plus one day of trend (hourly-mean resolution)
    assert curve(np.array([one_day_later]))[0] == pytest.approx(v[-1] + 1.0, abs=0.5)
    short = drift_curve(t[-30:], v[-30:])  # under a day: level + trend
    assert short(np.array([t[-1]]))[0] == pytest.approx(np.median(v[-12:]), abs=0.5)


def _week(step: float = 300) -> np.ndarray:
    return T0 + np.arange(int(7 * DAY / step)) * step


@pytest.mark.parametrize("hours_ago", [6, 20, 30, 47])
def test_one_off_jump_is_taken_out_of_the_trend(hours_ago: float) -> None:
    t = _week()
    v = 50 + 2.0 * (t - T0) / DAY + np.where(t > t[-1] - hours_ago * HOUR, 15.0, 0.0)
    v = v + 0.05 * np.random.default_rng(1).normal(size=t.size)
    out = without_one_off_jump(t, v)
    assert out[-1] == v[-1]  # today's level is kept
    assert robust_slope(t, out) * DAY == pytest.approx(2.0, abs=0.1)


def test_repeated_jumps_and_rotation_drops_stay() -> None:
    t = _week()
    dumps = 50 + 3.0 * np.floor((t - 2 * HOUR) / DAY)  # a daily dump nobody deletes
    assert without_one_off_jump(t, dumps) is dumps
    t, saw = _sawtooth(trend=0.5, amp=8.0)
    assert without_one_off_jump(t, saw) is saw
    noisy = 60 + 1.5 * np.random.default_rng(2).normal(size=t.size)
    assert without_one_off_jump(t, noisy) is noisy
