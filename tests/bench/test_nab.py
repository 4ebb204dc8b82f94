"""``python -m bench.nab``: one 0/1 row per input row, NAB layout in and out, no labels needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import nab


def write(path: Path, values: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=values.size, freq="5min").strftime("%Y-%m-%d %H:%M:%S"),
            "value": np.round(values, 4),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


@pytest.mark.slow
def test_writes_one_binary_row_per_input_row_per_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 2400
    day = 50 + 10 * np.sin(2 * np.pi * np.arange(n) / 288) + rng.normal(0, 1, n)
    day[2000:] += 40  # a lasting level shift long after the probationary period
    data, out = tmp_path / "data", tmp_path / "out"
    shifted = write(data / "realThings" / "cpu_shift.csv", day)
    short = write(data / "other" / "tiny.csv", rng.normal(5, 1, 40))  # too short to train: never fires
    nab.main(["--data", str(data), "--out", str(out), "--epochs", "1", "--scores", str(tmp_path / "scores")])
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv")) == [
        "other/tiny.csv",
        "realThings/cpu_shift.csv",
    ]
    for name, given in (("realThings/cpu_shift.csv", shifted), ("other/tiny.csv", short)):
        got = pd.read_csv(out / name)
        assert list(got.columns) == ["timestamp", "value", "anomaly_score"]
        assert len(got) == len(given)
        assert got["timestamp"].tolist() == given["timestamp"].tolist()
        np.testing.assert_allclose(got["value"], given["value"])
        assert set(got["anomaly_score"].unique()) <= {0, 1}
    flags = pd.read_csv(out / "realThings/cpu_shift.csv")["anomaly_score"].to_numpy()
    assert flags[2000:2006].any()  # the shift pages at once
    assert flags.sum() <= 6  # a pulse per incident, not a flag per deviating point
    assert pd.read_csv(out / "other/tiny.csv")["anomaly_score"].sum() == 0
    served = pd.read_csv(tmp_path / "scores" / "realThings/cpu_shift.csv")  # --scores: the alarm's input, kept
    score = served["deviation_score"]
    # the shift stands out against the day before it (the alarm's own reference; not a fixed
    # level: the score's scale follows the model's calibrated bands, wide after one LSTM epoch)
    assert len(served) == n and score.isna().any()
    assert score.iloc[2000] > score.iloc[2000 - 288 : 2000].max()


def test_leave_one_file_out_scores_each_file_with_the_setting_chosen_without_it() -> None:
    from bench.nab_score import FileScore, normalised
    from bench.nab_variants import best, cross_validate

    def fs(raw: float) -> FileScore:
        return FileScore(raw, 1, 1 if raw > 0 else 0, 0)

    rows = [{"a": fs(1.0), "b": fs(-1.0), "c": fs(1.0)}, {"a": fs(0.8), "b": fs(0.8), "c": fs(-1.0)}]
    assert best(rows, ["a", "b", "c"]) == 0 and best(rows, ["a", "b"]) == 1
    score, picks = cross_validate(rows, ["a", "b", "c"])
    assert picks == {"a": 0, "b": 0, "c": 1}  # without c, setting 1 looks best, and c pays for it
    assert score == normalised([fs(1.0), fs(-1.0), fs(-1.0)])


def test_alarm_flags_mark_onsets_only_at_the_series_step() -> None:
    day = 288
    scores = np.concatenate([np.full(2 * day, 0.05), np.full(48, 0.9)])
    values = np.concatenate([50 + (np.arange(2 * day) % 5) * 0.1, np.full(48, 90.0)])
    flags = nab.alarm_flags(scores, values, 300.0)
    assert flags.tolist().count(1) == 1 and flags[2 * day] == 1  # held for an hour as a gauge, one onset here
    assert nab.series_step(np.arange(0, 3000, 300, dtype=float)) == 300.0
