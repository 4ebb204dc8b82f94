"""Updates as a lifecycle: writer lock, stale windows, what pruning keeps, the full run's gate.

disk-eta and node-outliers (the cheap families) trained on the tiny profile up to 12 hours
before its end, then updated from windows ending 8, 4 and 0 hours before it.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import ArtifactError
from metrics_ai.manifest import FULL_RUN_GATE
from metrics_ai.settings import Settings, load_settings
from tests.conftest import FIXED_END, train_into
from tests.training.test_cli_and_publish import run_cli
from training.families.base import no_progress
from training.report import prune_reports
from training.sources import window_of
from training.update import FamilyUpdate, latest, run_update

MODELS = ["disk-eta", "node-outliers"]
HOUR = pd.Timedelta(hours=1)


@pytest.fixture(scope="module")
def few_versions() -> Settings:
    """Two versions kept (so that three updates would push the full run's out), one process."""
    return load_settings(keep_versions=2, workers=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, few_versions: Settings) -> Path:
    """The two families trained up to 12 hours before the end (read-only: copy to mutate)."""
    frame = tiny_frame[tiny_frame["timestamp"] <= FIXED_END - 12 * HOUR]
    return train_into(tmp_path_factory.mktemp("trained"), frame, few_versions, MODELS)


def update_until(
    root: Path, tiny_frame: pd.DataFrame, settings: Settings, end: pd.Timestamp, models: list[str] = MODELS
) -> dict[str, FamilyUpdate]:
    frame = latest(tiny_frame[tiny_frame["timestamp"] <= end], 2.0)
    done = run_update(frame, window_of(frame, "synthetic:tiny"), settings, root, models, lambda _: no_progress)
    return {u.run.model: u for u in done}


def test_updates_keep_the_full_runs_version_and_carry_its_gate(
    trained: Path, tiny_frame: pd.DataFrame, few_versions: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "models"
    shutil.copytree(trained, root)
    store = ModelStore(root, "disk-eta")
    full = store.current()
    for hours in (8, 4, 0):
        runs = update_until(root, tiny_frame, few_versions, FIXED_END - hours * HOUR)
        assert all(u.run.ok and u.kept is None for u in runs.values()), runs
    now = store.current()
    assert now.version != full.version and now.metrics["update"]["from_version"] in store.versions()
    assert full.version in store.versions()  # the weekly version stays within a rollback's reach
    assert len(store.versions()) == 3  # the newest two and the full run's
    assert now.metrics["update"][FULL_RUN_GATE] == full.metrics["gate"]  # carried through three updates
    assert now.full_run_gate == full.metrics["gate"] and full.full_run_gate == full.metrics["gate"]
    assert now.is_update and not full.is_update and now.update is not None and full.update is None


def test_a_window_with_no_newer_data_keeps_the_current_version(
    trained: Path, tiny_frame: pd.DataFrame, few_versions: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "models"
    shutil.copytree(trained, root)
    before = {m: ModelStore(root, m).current_version() for m in MODELS}
    runs = update_until(root, tiny_frame, few_versions, FIXED_END - 12 * HOUR)
    for model in MODELS:
        kept = runs[model].kept
        assert kept is not None and kept.startswith("kept: no data newer")
        assert ModelStore(root, model).current_version() == before[model]


def test_node_outliers_keeps_its_version_when_no_cluster_can_be_fitted(
    trained: Path, tiny_frame: pd.DataFrame, few_versions: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "models"
    shutil.copytree(trained, root)
    before = ModelStore(root, "node-outliers").current_version()
    standalone = tiny_frame[tiny_frame["node"].str.startswith("standalone")]
    [(name, done)] = update_until(root, standalone, few_versions, FIXED_END, ["node-outliers"]).items()
    assert done.run.error is None and done.kept is not None and done.kept.startswith("kept:")
    assert ModelStore(root, name).current_version() == before


def test_a_second_writer_waits_for_the_lock_and_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "disk-eta")
    order: list[str] = []

    def second() -> None:
        with store.locked():
            order.append("second")

    with store.locked():
        with pytest.raises(ArtifactError, match="another job has held"), store.locked(wait_s=0.3):
            pass
        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.5)
        order.append("first released")
    waiter.join(timeout=5)
    assert order == ["first released", "second"]


def test_update_reports_are_pruned_apart_from_the_full_runs(tmp_path: Path) -> None:
    base = tmp_path / "reports"
    for name in ("20261101T020000Z", "20261108T020000Z", "20261115T020000Z", "updates"):
        (base / name).mkdir(parents=True)
    prune_reports(base, keep=2)
    assert sorted(p.name for p in base.iterdir()) == ["20261108T020000Z", "20261115T020000Z", "updates"]


def test_rollback_of_an_unknown_model_fails_and_creates_nothing(tmp_path: Path) -> None:
    done = run_cli("rollback", "--out", str(tmp_path), "--model", "disk-etaa")
    assert done.returncode == 2 and "no model 'disk-etaa'" in done.stderr
    assert list(tmp_path.iterdir()) == []
