"""disk-eta and io-crisis key series by cluster as well as node (issue 15 item 6).

The same node name in two clusters behind one Thanos is two entities: each keeps its
own state, a request names the cluster or, when the name is unambiguous, may leave it
out; an ambiguous one is a 400 naming ``cluster``. States saved before the cluster was
part of the key still load.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics_ai.crossing import save_recent
from metrics_ai.errors import InvalidInputError
from metrics_ai.families.disk_eta import DiskEtaConfig, DiskEtaPredictor, DiskState
from metrics_ai.families.io_crisis import IoCrisisConfig, IoCrisisPredictor, SeriesState
from metrics_ai.series import History
from tests.metrics_ai.test_disk_eta_predictor import fill, line_state
from tests.metrics_ai.test_io_crisis_predictor import series, state
from tests.serving.codec_calls import v1
from training.crossing_backtest import series_by
from training.families.io_crisis import FIT as CRISIS_FIT

SHARED, ONLY_EAST = "worker-0", "infra-0"


class Recorder:
    """A fetcher that has nothing, and records what it was asked."""

    def __init__(self) -> None:
        self.labels: list[dict[str, str]] = []

    def fetch(self, signal: str, labels: Mapping[str, str], seconds: float, step: int) -> History | None:
        self.labels.append(dict(labels))
        return None


@pytest.fixture
def disks() -> DiskEtaPredictor:
    return DiskEtaPredictor(
        DiskEtaConfig(),
        {
            ("east", SHARED, "/"): DiskState(line_state(60.0, 1.0), fill(60.0, 1.0)),
            ("west", SHARED, "/"): DiskState(line_state(85.0, 4.0), fill(85.0, 4.0)),
            ("east", ONLY_EAST, "/"): DiskState(line_state(40.0, 0.0), fill(40.0, 0.0)),
        },
    )


def test_same_node_name_in_two_clusters_is_two_disks(disks: DiskEtaPredictor) -> None:
    east, west = v1(
        disks,
        [
            {"cluster": "east", "node": SHARED, "mountpoint": "/"},
            {"cluster": "west", "node": SHARED, "mountpoint": "/"},
        ],
    )
    assert (east["cluster"], east["current_usage"]) == ("east", pytest.approx(60.0))
    assert (west["cluster"], west["current_usage"]) == ("west", pytest.approx(85.0))
    assert west["severity"] == "CRITICAL" and east["severity"] != "CRITICAL"


def test_cluster_may_be_left_out_only_when_the_node_is_unambiguous(disks: DiskEtaPredictor) -> None:
    [only] = v1(disks, [{"node": ONLY_EAST, "mountpoint": "/"}])
    assert only["cluster"] == "east" and only["current_usage"] == pytest.approx(40.0)
    with pytest.raises(InvalidInputError) as caught:
        v1(disks, [{"node": ONLY_EAST, "mountpoint": "/"}, {"node": SHARED, "mountpoint": "/"}])
    assert caught.value.field == "instances[1].cluster"
    assert "east" in str(caught.value) and "west" in str(caught.value)
    with pytest.raises(InvalidInputError, match="cluster"):
        v1(disks, [{"cluster": 3, "node": SHARED, "mountpoint": "/"}])


def test_live_fetch_asks_for_the_cluster_of_the_series(disks: DiskEtaPredictor) -> None:
    recorder = Recorder()
    disks.fetcher = recorder  # type: ignore[assignment]
    v1(disks, [{"cluster": "west", "node": SHARED, "mountpoint": "/"}])
    assert recorder.labels == [{"cluster": "west", "node": SHARED, "mountpoint": "/"}]


def test_io_crisis_keeps_two_clusters_apart() -> None:
    hot, calm = state(0.25, 0.04), state(0.05, 0.0)
    predictor = IoCrisisPredictor(
        IoCrisisConfig(),
        {
            ("east", SHARED, "io_wait"): SeriesState(calm, series(calm)),
            ("west", SHARED, "io_wait"): SeriesState(hot, series(hot)),
        },
    )
    east, west = v1(
        predictor,
        [
            {"cluster": "east", "node": SHARED, "signal": "io_wait"},
            {"cluster": "west", "node": SHARED, "signal": "io_wait"},
        ],
    )
    assert (east["cluster"], east["crisis"]) == ("east", False)
    assert (west["cluster"], west["crisis"]) == ("west", True)
    with pytest.raises(InvalidInputError) as caught:
        v1(predictor, [{"node": SHARED, "signal": "io_wait"}])
    assert caught.value.field == "instances[0].cluster"


def test_training_keys_carry_the_cluster() -> None:
    stamps = pd.date_range("2026-11-01", periods=60, freq="300s", tz="UTC")
    rows = [
        {"timestamp": t, "signal": signal, "value": level, "cluster": cluster, "node": SHARED, "mountpoint": mount}
        for cluster, level in (("east", 0.1), ("west", 0.2))
        for signal, mount in (("io_wait", ""), ("disk_used_pct", "/"))
        for t in stamps
    ]
    frame = pd.DataFrame(rows)
    keys = sorted(key for key, _ in CRISIS_FIT.work(frame))
    assert keys == [("east", SHARED, "io_wait"), ("west", SHARED, "io_wait")]
    disks = series_by(frame, "disk_used_pct", ("cluster", "node", "mountpoint"))
    means = {k: float(v.mean()) for k, (_, v) in disks.items()}
    assert means == {("east", SHARED, "/"): pytest.approx(0.1), ("west", SHARED, "/"): pytest.approx(0.2)}


def test_states_saved_without_the_cluster_still_load_and_answer(tmp_path: Path) -> None:
    """The previous format (``node``, ``mountpoint`` only) loads with cluster "" and answers as before."""
    recent = fill(70.0, 4.0)
    doc = {
        "config": DiskEtaConfig().model_dump(mode="json"),
        "disks": [{"node": "n1", "mountpoint": "/", "prophet": line_state(70.0, 4.0).to_dict(), "reason": None}],
    }
    (tmp_path / "disks.json").write_text(json.dumps(doc), encoding="utf-8")
    save_recent(tmp_path / "recent.npz", [recent])
    loaded = DiskEtaPredictor.load(tmp_path, None)  # type: ignore[arg-type]
    assert list(loaded.disks) == [("", "n1", "/")]
    [answer] = v1(loaded, [{"node": "n1", "mountpoint": "/"}])
    assert "cluster" not in answer and answer["current_usage"] == pytest.approx(70.0)
    assert np.isfinite(answer["eta_days"]["ensemble"])
    loaded.save(tmp_path)  # written back in the new format, with the cluster
    saved = json.loads((tmp_path / "disks.json").read_text(encoding="utf-8"))
    assert saved["format"] == 2 and saved["disks"][0]["cluster"] == ""
