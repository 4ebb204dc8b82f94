"""The counting behind bench.alerts_synthetic: false alarms while not due, recall, lead time."""

from __future__ import annotations

import numpy as np
import pytest

from bench.alerts_synthetic import Tally, evaluate, first_crossing, hourly
from metrics_ai.crossing import DAY


def test_first_crossing_and_hourly_means() -> None:
    t = np.arange(0, 10 * 3600, 300.0)
    v = t / 3600.0  # one unit per hour
    assert first_crossing(t, v, 0.0, 20 * 3600, 5.0) == 5 * 3600
    assert first_crossing(t, v, 0.0, 4 * 3600, 5.0) is None
    ht, hv = hourly(t, v)
    assert ht[0] == 3600 and hv[0] == pytest.approx(np.mean(v[:12]))


def test_evaluate_counts_false_alarms_recall_and_lead() -> None:
    t = np.arange(0, 20 * DAY, 300.0)
    filling = np.where(t > 12 * DAY, 95.0, 50.0)  # crosses 90 at day 12
    flat = np.full(t.size, 50.0)
    series = {("a", "/"): (t, filling), ("b", "/"): (t, flat)}
    hours = np.arange(7 * DAY + 3600, 14 * DAY + 1, 3600.0)
    calls = iter(range(hours.size))

    def ask(keys: list, windows: dict) -> list[bool]:
        h = next(calls)
        now = hours[h]
        # "a" alarms from day 9 on (3 days ahead); "b" raises one false alarm lasting 2 hours
        return [k == ("a", "/") and now >= 9 * DAY or (k == ("b", "/") and h in (10, 11)) for k in keys]

    tally = Tally("test", 7.0)
    evaluate(tally, series, series, lambda k: 90.0, ask, hours)
    assert tally.entities == 2
    assert (tally.false_hours, tally.false_onsets) == (2, 1)
    assert tally.leads == [pytest.approx(3 * 24, abs=1)] and tally.missed == 0
    # "a" is due at every evaluated hour (it crosses on day 12, within 7 days of day 7, and stays full)
    assert tally.hours_due == hours.size and tally.hours_not_due == hours.size
    assert tally.due_alarmed == int((hours >= 9 * DAY).sum())
