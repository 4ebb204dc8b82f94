"""What disk-eta and io-crisis share as crossing predictors, held for both.

A malformed V1 instance or V2 tensor is a 400 naming the field; a series the model does
not know, sent without history, is a 404 naming it; a saved predictor loads and answers
as it did. The families' own answers are in ``test_disk_eta_predictor.py`` and
``test_io_crisis_predictor.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from metrics_ai.crossing import DAY, HOUR
from metrics_ai.errors import InvalidInputError, UnknownEntityError
from metrics_ai.families.crossing import CrossingPredictor
from tests.metrics_ai import test_disk_eta_predictor as disk
from tests.metrics_ai import test_io_crisis_predictor as crisis
from tests.metrics_ai.crossing_helpers import v2
from tests.serving.codec_calls import smoke, v1
from tests.serving.codec_calls import v2 as v2_call

#: model -> its hand-built predictor (test_disk_eta_predictor's, test_io_crisis_predictor's)
PREDICTORS: dict[str, Callable[[], CrossingPredictor]] = {
    "disk-eta": disk.disk_predictor,
    "io-crisis": crisis.crisis_predictor,
}

DISK_GOOD = {"timestamps": [disk.END + 60 * i for i in range(5)], "values": [50.0, 51.0, 52.0, 53.0, 54.0]}
CRISIS_GOOD = {"timestamps": [crisis.END + 60 * i for i in range(3)], "values": [0.1, 0.1, 0.1]}


def _disk(**history: Any) -> list[dict[str, Any]]:
    return [{"node": "n1", "mountpoint": "/", "history": {**DISK_GOOD, **history}}]


V1_MALFORMED: list[tuple[str, Any, str]] = [
    ("disk-eta", {"node": "n1"}, "instances"),
    ("disk-eta", [], "instances"),
    ("disk-eta", ["n1"], "instances[0]"),
    ("disk-eta", [{"mountpoint": "/"}], "instances[0].node"),
    ("disk-eta", [{"node": "n1", "mountpoint": ""}], "instances[0].mountpoint"),
    ("disk-eta", [{"node": "n1", "mountpoint": "/", "hist": DISK_GOOD}], "instances[0].hist"),
    ("disk-eta", _disk(values=[50, 51, 52, 120, 54]), "instances[0].history.values[3]"),
    ("disk-eta", _disk(values=[50, 51, -1, 53, 54]), "instances[0].history.values[2]"),
    ("disk-eta", _disk(values=[50, 51, float("nan"), 53, 54]), "instances[0].history.values[2]"),
    ("disk-eta", _disk(timestamps=DISK_GOOD["timestamps"][::-1]), "instances[0].history.timestamps[1]"),
    (
        "disk-eta",
        [{"node": "n1", "mountpoint": "/", "history": {"timestamps": [1.0], "values": []}}],
        "instances[0].history",
    ),
    ("io-crisis", "io_wait", "instances"),
    ("io-crisis", [{"signal": "io_wait"}], "instances[0].node"),
    ("io-crisis", [{"node": "n1", "signal": "cpu"}], "instances[0].signal"),
    ("io-crisis", [{"node": "n1"}], "instances[0].signal"),
    ("io-crisis", [{"node": "n1", "signal": "io_wait", "extra": 1}], "instances[0].extra"),
    (
        "io-crisis",
        [{"node": "n1", "signal": "io_wait", "history": {**CRISIS_GOOD, "values": [0.1, 1.5, 0.1]}}],
        "instances[0].history.values[1]",
    ),
    (
        "io-crisis",
        [{"node": "n1", "signal": "net_rx", "history": {**CRISIS_GOOD, "values": [1e8, -5.0, 1e8]}}],
        "instances[0].history.values[1]",
    ),
    (
        "io-crisis",
        [{"node": "n1", "signal": "net_rx", "history": {**CRISIS_GOOD, "values": [1e8, "x", 1e8]}}],
        "instances[0].history.values[1]",
    ),
    ("io-crisis", [{"node": "n1", "signal": "io_wait", "history": [0.1, 0.2]}], "instances[0].history"),
]


@pytest.mark.parametrize(("model", "instances", "field"), V1_MALFORMED)
def test_malformed_v1_is_400_naming_the_field(model: str, instances: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        v1(PREDICTORS[model](), instances)
    assert err.value.field == field and err.value.status == 400


def _disk_rows(predictor: CrossingPredictor) -> dict[str, np.ndarray]:
    h = disk.fill(70.0, disk.RATE, days=0.5)
    return v2(predictor, ["n1", "n1"], ["/", "/"], [h, h], len(h))


def _crisis_rows(predictor: CrossingPredictor) -> dict[str, np.ndarray]:
    h = crisis.series(crisis.RISING, days=6 * HOUR / DAY)
    return v2(predictor, ["n1", "n1"], ["io_wait", "io_wait"], [h, h], len(h))


#: model -> two valid V2 rows of it, bent by each case below
ROWS = {"disk-eta": _disk_rows, "io-crisis": _crisis_rows}

V2_MALFORMED: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("disk-eta", lambda d: d.update(values=d["values"][:, :-1]), "values"),
    ("disk-eta", lambda d: d.update(node=d["node"][:1]), "node"),
    ("disk-eta", lambda d: d["values"].__setitem__((1, 3), np.inf), "values[1][3]"),
    ("disk-eta", lambda d: d["values"].__setitem__((0, 2), 101.0), "values[0][2]"),
    ("disk-eta", lambda d: d["timestamps"].__setitem__((0, 2), 0), "timestamps[0][2]"),
    ("disk-eta", lambda d: d.update(mountpoint=np.array([b"/", b""], dtype=object)), "mountpoint[1]"),
    ("disk-eta", lambda d: d.update(timestamps=d["timestamps"][0]), "inputs.timestamps"),
    ("io-crisis", lambda d: d.update(signal=np.array([b"io_wait", b"disk"], dtype=object)), "signal[1]"),
    ("io-crisis", lambda d: d.update(entity=np.array([b"n1"], dtype=object)), "entity"),
    ("io-crisis", lambda d: d["values"].__setitem__((0, 1), 2.0), "values[0][1]"),
    ("io-crisis", lambda d: d.update(values=d["values"].astype(object)), "inputs.values"),
    ("io-crisis", lambda d: d.update(timestamps=d["timestamps"].astype(str)), "inputs.timestamps"),
]


@pytest.mark.parametrize(("model", "mutate", "field"), V2_MALFORMED)
def test_malformed_v2_is_400_naming_the_field(model: str, mutate: Any, field: str) -> None:
    predictor = PREDICTORS[model]()
    inputs = ROWS[model](predictor)
    mutate(inputs)
    with pytest.raises(InvalidInputError) as err:
        v2_call(predictor, inputs)
    assert err.value.field == field and err.value.status == 400


@pytest.mark.parametrize(
    ("model", "instances", "named"),
    [
        (
            "disk-eta",
            [{"node": "n1", "mountpoint": "/"}, {"node": "ghost", "mountpoint": "/data"}],
            ["instances[1]", "ghost", "/data"],
        ),
        ("io-crisis", [{"node": "ghost", "signal": "net_tx"}], ["instances[0]", "ghost", "net_tx"]),
    ],
)
def test_unknown_series_without_history_is_404_naming_it(model: str, instances: Any, named: list[str]) -> None:
    with pytest.raises(UnknownEntityError) as err:
        v1(PREDICTORS[model](), instances)
    assert err.value.status == 404
    assert all(part in err.value.message for part in named), err.value.message


@pytest.mark.parametrize(
    ("model", "files", "also"),
    [
        ("disk-eta", ["disks.json", "recent.npz"], {"node": "n1", "mountpoint": "/var"}),
        ("io-crisis", ["recent.npz", "series.json"], {"node": "n1", "signal": "net_rx"}),
    ],
)
def test_save_load_same_predictions(model: str, files: list[str], also: dict[str, str], tmp_path: Path) -> None:
    predictor = PREDICTORS[model]()
    predictor.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    again = type(predictor).load(tmp_path, None)  # type: ignore[arg-type]
    instances = smoke(predictor) + [also]
    assert v1(again, instances) == v1(predictor, instances)
    assert again.config == predictor.config
