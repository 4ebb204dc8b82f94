"""The synthetic source: seeded, complete, labelled, realistic."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics_ai.series import SIGNALS
from tests.conftest import FIXED_END
from training.sources.profiles import get_profile
from training.sources.synthetic import DISK_SHAPES, disk_usage, generate, node_specs


def test_same_seed_same_data_other_seed_other_data(tiny_frame: pd.DataFrame) -> None:
    profile = get_profile("tiny")
    again = generate(profile, 3, step=60, anomaly_rate=0.03, seed=42, end=FIXED_END)
    other = generate(profile, 3, step=60, anomaly_rate=0.03, seed=43, end=FIXED_END)
    pd.testing.assert_frame_equal(tiny_frame, again)
    assert not np.allclose(tiny_frame["value"].to_numpy(), other["value"].to_numpy())


def test_every_signal_for_every_node(tiny_frame: pd.DataFrame) -> None:
    assert set(tiny_frame["signal"].astype(str)) == set(SIGNALS)
    per_node = tiny_frame.groupby("node", observed=True)["signal"].nunique()
    assert (per_node == len(SIGNALS)).all()
    disks = tiny_frame[tiny_frame["signal"] == "disk_used_pct"]
    assert set(disks["mountpoint"].astype(str)) == {"/", "/var/log"}
    assert disks["value"].between(0, 100).all()


def test_anomalies_injected_at_the_rate_and_visible() -> None:
    frame = generate(get_profile("tiny"), 3, step=60, anomaly_rate=0.05, seed=1, end=FIXED_END)
    cpu = frame[(frame["signal"] == "cpu")]
    rate = cpu.groupby("node", observed=True)["anomaly"].mean()
    assert ((rate > 0.04) & (rate < 0.08)).all()
    restarts = frame[frame["signal"] == "pod_restarts"]
    labelled = restarts[restarts["anomaly"]]["value"].mean()
    assert labelled > restarts[~restarts["anomaly"]]["value"].mean()  # labels mark real deviations
    clean = generate(get_profile("tiny"), 1, step=60, anomaly_rate=0.0, seed=1, end=FIXED_END)
    assert not clean["anomaly"].any()


def test_daily_and_weekly_seasonality_in_cpu() -> None:
    frame = generate(get_profile("tiny"), 14, step=300, anomaly_rate=0.0, seed=3, end=FIXED_END)
    cpu = frame[(frame["signal"] == "cpu") & (frame["node"] == "standalone-0")].set_index("timestamp")["value"]
    hourly = cpu.groupby(cpu.index.hour).mean()
    assert hourly.loc[13:15].mean() > hourly.loc[2:4].mean() + 0.05  # business hours
    weekday = cpu[cpu.index.dayofweek < 5]
    weekend = cpu[cpu.index.dayofweek >= 5]
    assert weekday.mean() > weekend.mean()


def test_one_peer_unlike_node_per_cluster() -> None:
    specs = node_specs(get_profile("demo"))
    assert sum(s.outlier for s in specs) == 2 and [s.cluster for s in specs].count("") == 1


def test_disk_shapes() -> None:
    index = pd.date_range("2026-11-01", periods=7 * 288, freq="5min", tz="UTC")
    t = np.arange(len(index)) * 300 / 86400
    shapes = {s: disk_usage(s, t, index, np.random.default_rng(0)) for s in DISK_SHAPES}
    assert shapes["steady"][-1] > shapes["steady"][0] + 2
    assert shapes["shrinking"][-1] < shapes["shrinking"][0] - 5
    saw = shapes["sawtooth"]
    assert (np.diff(saw) < -3).sum() >= 6  # nightly rotation drops
    accel = shapes["accelerating"]
    assert (accel[-288] - accel[-576]) > (accel[288] - accel[0])
