"""The tail replay shared by disk-eta and io-crisis: what counts as a hit, a false alarm, a miss."""

from __future__ import annotations

import numpy as np

from metrics_ai.crossing import DAY, HOUR
from training.crossing_backtest import DetectionCounts, replay_tail

T0 = 1_790_006_400.0


def test_counts_and_error_rate() -> None:
    c = DetectionCounts()
    for predicted, actual in [
        (True, True),
        (True, False),
        (False, True),
        (False, False),
        (False, False),
    ]:
        c.add(predicted, actual)
    assert (c.true_positives, c.false_positives, c.misses, c.true_negatives) == (1, 1, 1, 2)
    assert c.error_rate == 0.4 and c.as_dict()["error_rate"] == 0.4
    total = DetectionCounts()
    total += c
    total += c
    assert total.cases == 10


def _ramp() -> tuple[np.ndarray, np.ndarray]:
    """Two days at 1 min, crossing 0.30 at 40 h."""
    t = T0 + np.arange(0, 2 * DAY + 60, 60.0)
    return t, 0.30 * (t - T0) / (40 * HOUR)


def test_replay_sees_only_the_past_and_scores_each_cut() -> None:
    t, v = _ramp()
    seen_until: list[float] = []

    def oracle(ht: np.ndarray, hv: np.ndarray, window: float) -> float | None:
        seen_until.append(float(ht[-1]))
        return 40 * HOUR - (ht[-1] - T0)  # exactly when it crosses

    split = int(len(t) * 0.5)  # cut points at 24 h, 30 h, 36 h, 42 h
    counts = replay_tail(t, v, split, 0.30, 7 * DAY, oracle)
    assert [round((s - T0) / HOUR) for s in seen_until] == [24, 30, 36, 42]
    assert (counts.true_positives, counts.false_positives, counts.misses) == (4, 0, 0)


def test_replay_false_alarms_and_misses() -> None:
    t, v = _ramp()
    split = int(len(t) * 0.5)
    always = replay_tail(t, v, split, 0.95, 7 * DAY, lambda ht, hv, w: 60.0)  # never reached
    assert always.false_positives == 4 and always.error_rate == 1.0
    never = replay_tail(t, v, split, 0.30, 7 * DAY, lambda ht, hv, w: None)
    assert never.misses == 4 and never.true_negatives == 0


def test_replay_grace_for_a_call_an_hour_late() -> None:
    t, v = _ramp()
    split = int(len(t) * 0.5)
    late = replay_tail(t, v, split, 0.30, 7 * DAY, lambda ht, hv, w: w + HOUR)
    assert late.true_positives == 4
    too_late = replay_tail(t, v, split, 0.30, 7 * DAY, lambda ht, hv, w: w + 5 * HOUR)
    assert too_late.misses == 4
