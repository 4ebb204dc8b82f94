"""The NAB scorer against the cases its description pins down."""

from __future__ import annotations

from pathlib import Path

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


def test_a_window_inside_the_probationary_period_is_neither_hit_nor_missed() -> None:
    # NAB's runner: perfect counts every window, null only the scorable ones
    s = score_file(detections(), [(10, 20), *WINDOWS])
    assert s.score == pytest.approx(-2.0) and s.scorable == 2
    assert normalised([s]) == pytest.approx(0.0)
    assert normalised([score_file(detections(600, 1200), [(10, 20), *WINDOWS])]) == pytest.approx(100 * 4 / 5)


#: NAB's stored "numenta" (HTM) detections for realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv
#: (NAB results/, MIT licence: data/NAB-LICENSE.txt; columns timestamp,anomaly_score), its
#: labelled windows and its standard-profile threshold from NAB's config/thresholds.json
NUMENTA_FILE = Path(__file__).parent / "data" / "numenta_ec2_cpu_utilization_24ae8d.csv.gz"
NUMENTA_WINDOWS = [
    ("2014-02-26 13:45:00.000000", "2014-02-27 06:25:00.000000"),
    ("2014-02-27 08:55:00.000000", "2014-02-28 01:35:00.000000"),
]
NUMENTA_THRESHOLD = 0.5421876907348634
#: NAB's own nab/sweeper.py (Sweeper.scoreDataSet, standard profile) on that file at that threshold
NUMENTA_OFFICIAL_RAW = 1.279566


def test_agrees_with_nabs_official_scorer_on_stored_htm_detections() -> None:
    frame = pd.read_csv(NUMENTA_FILE)
    hits = frame["anomaly_score"].to_numpy() >= NUMENTA_THRESHOLD
    windows = window_indices(pd.to_datetime(frame["timestamp"]).to_numpy(), NUMENTA_WINDOWS)
    s = score_file(hits, windows)
    assert len(frame) == 4032 and int(hits.sum()) == 10
    assert s.score == pytest.approx(NUMENTA_OFFICIAL_RAW, abs=1e-6)
    assert (s.detected, s.false_positives) == (2, 4)
    assert normalised([s]) == pytest.approx(100 * (NUMENTA_OFFICIAL_RAW + 2) / 4, abs=1e-4)
