"""The NAB scorer against the cases its description pins down."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.nab_score import FileScore, normalised, probation_length, scaled_sigmoid, score_file, window_indices

N = 2000
WINDOWS = [(600, 699), (1200, 1399)]


def detections(*at: int) -> np.ndarray:
    out = np.zeros(N, dtype=bool)
    out[list(at)] = True
    return out


def test_hits_at_every_window_start_score_100() -> None:
    scores = [score_file(detections(600, 1200), WINDOWS)]
    assert normalised(scores) == pytest.approx(100.0)
    assert scores[0].detected == 2 and scores[0].false_positives == 0


def test_never_firing_scores_0() -> None:
    assert normalised([score_file(detections(), WINDOWS)]) == pytest.approx(0.0)


def test_only_the_first_detection_in_a_window_counts_and_later_ones_earn_less() -> None:
    early = score_file(detections(600, 1200, 1201, 1300), WINDOWS).score
    late = score_file(detections(690, 1390), WINDOWS).score
    assert early == pytest.approx(2.0)
    assert 0.0 < late < early
    # past the window's end a detection is no longer a true positive
    assert score_file(detections(700), WINDOWS[:1]).score < -0.9


def test_false_positives_cost_a_fp_far_from_windows_and_less_just_after_one() -> None:
    far = score_file(detections(600, 350), WINDOWS[:1]).score  # before any window: full A_fp
    assert far == pytest.approx(1.0 - 0.11)
    just_after = score_file(detections(600, 701), WINDOWS[:1]).score
    assert 1.0 - 0.11 < just_after < 1.0


def test_probationary_period_alarms_are_ignored() -> None:
    assert probation_length(4032) == 604 and probation_length(22695) == 750
    assert score_file(detections(10, 600), WINDOWS[:1]).score == pytest.approx(1.0)


def test_scaled_sigmoid_shape() -> None:
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(4.0) == -1.0


def test_window_indices_from_timestamps() -> None:
    t = pd.date_range("2014-02-14 14:30", periods=100, freq="5min").to_numpy()
    assert window_indices(t, [("2014-02-14 15:00:00.000000", "2014-02-14 15:20:00.000000")]) == [(6, 10)]


def test_normalised_sums_files() -> None:
    half = [FileScore(1.0, 1, 1, 0), FileScore(-1.0, 1, 0, 0)]
    assert normalised(half) == pytest.approx(50.0)
