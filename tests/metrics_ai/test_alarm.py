"""The deviation alarm with memory: pages once on a sustained shift, not on noise; same time behaviour at any step."""

from __future__ import annotations

import numpy as np
import pytest

from metrics_ai.alarm import AlarmConfig, AlarmState, DeviationAlarm, points
from metrics_ai.intervals import DeviationRule

DAY = 86_400


def noise(n: int, seed: int = 0) -> np.ndarray:
    """Served deviation scores of a healthy series: Gaussian one-step errors against their 80 % band."""
    errors = np.abs(np.random.default_rng(seed).normal(0.0, 1.0, n))
    rule = DeviationRule()
    return np.array([rule.check(e, 0.0, 1.2816)["score"] for e in errors])


def values(n: int, seed: int = 0, level: float = 50.0) -> np.ndarray:
    """A healthy series' values: a level with Gaussian noise."""
    return level + np.random.default_rng(seed + 100).normal(0.0, 1.0, n)


def steady(n: int, level: float = 50.0) -> np.ndarray:
    """Values that keep to the same range from the start (no new lowest or highest after the first week)."""
    return level + (np.arange(n) % 7 - 3) * 0.3


def feed(alarm: DeviationAlarm, scores: np.ndarray, vals: np.ndarray | None = None) -> list[AlarmState]:
    vals = np.full(scores.size, np.nan) if vals is None else vals
    return [alarm.update(float(s), float(v)) for s, v in zip(scores, vals, strict=True)]


def onsets(states: list[AlarmState]) -> list[int]:
    return [i for i, s in enumerate(states) if s.onset]


def shifted(step: float, quiet_days: float = 3.0, shift_hours: float = 6.0) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores and values at ``step``: quiet days, then a lasting level shift; the index where it starts."""
    quiet, shift = int(quiet_days * DAY / step), int(shift_hours * 3600 / step)
    scores = np.concatenate([noise(quiet), np.full(shift, 0.9)])
    vals = np.concatenate([steady(quiet), steady(shift, level=90.0)])
    return scores, vals, quiet


def test_a_sustained_shift_pages_once_at_its_start_and_holds() -> None:
    scores, vals, start = shifted(300)
    states = feed(DeviationAlarm(step=300), scores, vals)
    at = [i for i in onsets(states) if i >= start]
    assert at == [start]  # one incident, one page, at once; the refractory keeps the rest quiet
    held = [i for i, s in enumerate(states) if s.firing and i >= start]
    assert held == list(range(start, start + points(AlarmConfig().hold_seconds, 300)))
    assert states[start].likelihood == 1.0


@pytest.mark.parametrize("step", [60, 300])
def test_stationary_noise_rarely_pages(step: int) -> None:
    # healthy scores and values for 30 days: well under one page a day (the served flag fires on ~1 point in 10)
    n = int(30 * DAY / step)
    pages = len(onsets(feed(DeviationAlarm(step=step), noise(n, seed=step), values(n, seed=step))))
    assert pages <= 10
    flags = sum(
        DeviationRule().check(e, 0.0, 1.2816)["is_anomaly"] for e in np.abs(np.random.default_rng(0).normal(0, 1, n))
    )
    assert flags > 100 * max(pages, 1)


def test_onset_hold_and_refractory_mean_the_same_time_at_two_steps() -> None:
    # a shift, a higher level 3 h later (inside the 6 h refractory: no page), a higher one 7 h later (pages)
    cfg = AlarmConfig(refractory_seconds=6 * 3600, hold_seconds=1800)
    timing = {}
    for step in (60, 300):
        quiet, hour = int(3 * DAY / step), int(3600 / step)
        scores = np.concatenate([noise(quiet), np.full(10 * hour, 0.9)])
        vals = np.concatenate([steady(quiet), steady(3 * hour, 90.0), steady(4 * hour, 130.0), steady(3 * hour, 170.0)])
        states = feed(DeviationAlarm(cfg, step=step), scores, vals)
        pages = [(i - quiet) * step for i in onsets(states) if i >= quiet]
        held = [(i - quiet) * step for i, s in enumerate(states) if s.firing and i >= quiet]
        timing[step] = (pages, held[0], held[-1] + step - held[0], len(held) * step)
    # pages at 0 and 7 h, each held for 30 minutes, at either step
    assert timing[60] == timing[300] == ([0, 7 * 3600], 0, 7 * 3600 + 1800, 2 * 1800)


def test_a_deviation_record_pages_without_a_new_value() -> None:
    # the value stays inside its range (a drop to a level seen before), but the forecast did not expect it
    n = int(3 * DAY / 300)
    vals = steady(n + 12)
    scores = np.concatenate([noise(n), np.full(12, 0.8)])
    states = feed(DeviationAlarm(step=300), scores, vals)
    assert onsets(states)[-1:] == [n]


def test_a_small_single_spike_does_not_page_a_large_one_does() -> None:
    small, large = noise(1000), noise(1000)
    small[700], large[700] = 0.3, 0.995  # about 2.3 and 32 critical-band widths off the forecast
    assert not [i for i in onsets(feed(DeviationAlarm(step=300), small)) if i >= 600]
    assert [i for i in onsets(feed(DeviationAlarm(step=300), large)) if i >= 600] == [700]


def test_nothing_pages_before_min_history() -> None:
    history = points(AlarmConfig().min_history_seconds, 300)
    states = feed(DeviationAlarm(step=300), np.ones(history - 1), np.arange(history - 1.0))
    assert not any(s.onset or s.firing for s in states) and states[-1].likelihood == 0.5


def test_the_value_range_can_be_turned_off() -> None:
    scores, vals, start = shifted(300)
    scores[start:] = noise(scores.size - start, seed=9)  # the forecast follows the new level
    assert start in onsets(feed(DeviationAlarm(step=300), scores, vals))
    off = AlarmConfig(range_window_seconds=0)
    assert not [i for i in onsets(feed(DeviationAlarm(off, step=300), scores, vals)) if i >= start]


def test_deterministic_and_independent_per_instance() -> None:
    scores, vals, _ = shifted(300)
    first = feed(DeviationAlarm(step=300), scores, vals)
    assert feed(DeviationAlarm(step=300), scores, vals) == first


def test_missing_scores_count_as_zero_and_missing_values_are_skipped() -> None:
    a, b = DeviationAlarm(), DeviationAlarm()
    got = feed(a, np.array([np.nan, 0.2, np.inf]), np.array([1.0, np.nan, 2.0]))
    assert got == feed(b, np.array([0.0, 0.2, 0.0]), np.array([1.0, np.nan, 2.0]))
    assert DeviationAlarm().update(None, None) == AlarmState(0.5, False, False)


def test_points_round_seconds_at_least_one() -> None:
    assert points(3600, 60) == 60 and points(3600, 300) == 12 and points(100, 300) == 1 and points(0, 60) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("short_window_seconds", 0),
        ("reference_seconds", float("nan")),
        ("record_margin", 11.0),
        ("range_margin", -0.1),
        ("refractory_seconds", -1),
        ("hold_seconds", True),
    ],
)
def test_bad_settings_name_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        AlarmConfig(**{field: value})  # type: ignore[arg-type]


def test_bad_step_is_named() -> None:
    with pytest.raises(ValueError, match="step"):
        DeviationAlarm(step=0)
