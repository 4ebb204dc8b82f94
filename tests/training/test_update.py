"""``python -m training update``: a day later, with a level shift, a new node and a vanished one.

The tiny profile is trained on three weekdays; the update sees the next day, in which
the cluster's cpu steps up by 0.2, ``standalone-0`` appears and ``prod-east-worker-2``
stops reporting io_wait and disk usage; the six hours after the update window are the
check that neither version has seen.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.artifacts import ModelStore
from metrics_ai.drift import read_reference
from metrics_ai.families import predictor_class
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.settings import Settings, load_settings
from tests.conftest import train_into
from tests.serving.codec_calls import v1
from training.cli import app
from training.families.base import no_progress
from training.families.forecast.series import SeriesData, forecast_series
from training.sources import window_of
from training.sources.profiles import get_profile
from training.sources.synthetic import generate
from training.update import FamilyUpdate, latest, run_update

pytestmark = pytest.mark.slow

CL = "prod-east"
"""The tiny profile's cluster (disk-eta and io-crisis keys carry it)."""
END = pd.Timestamp("2026-11-20 12:00", tz="UTC")  # a Friday: training, window and check are weekdays
DAY = pd.Timedelta(days=1)
TRAINED_UNTIL = END - 1.25 * DAY
UPDATED_UNTIL = END - 0.25 * DAY
MODELS = ["resource-forecast", "disk-eta", "io-crisis", "node-outliers", "anomaly-detector"]
SIGNALS = [
    "cpu",
    "memory",
    "io_wait",
    "disk_used_pct",
    "pod_cpu",
    "pod_mem",
    "pod_restarts",
    "network_in",
    "network_out",
]
VANISHED = ("prod-east-worker-2", ["io_wait", "disk_used_pct"])


@pytest.fixture(scope="module")
def fast() -> Settings:
    """One LSTM epoch (so the fine-tune is one too), fits inline (monkeypatches reach them)."""
    return load_settings(lstm_epochs=1, workers=1)


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    """full (with the step), train (three days, no standalone-0), update (the next UPDATE_DAYS window)."""
    frame = generate(get_profile("tiny"), 4.25, 60, 0.03, 42, end=END)
    frame = frame[frame["signal"].isin(SIGNALS)].reset_index(drop=True)
    step = (frame["signal"] == "cpu") & (frame["cluster"] == "prod-east") & (frame["timestamp"] > TRAINED_UNTIL)
    frame.loc[step, "value"] += 0.2
    train = frame[(frame["timestamp"] <= TRAINED_UNTIL) & (frame["node"] != "standalone-0")]
    update = frame[frame["timestamp"] <= UPDATED_UNTIL]
    node, signals = VANISHED
    update = update[~((update["node"] == node) & update["signal"].isin(signals))]
    return {"full": frame, "train": train, "update": latest(update, 2.0)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, world: dict[str, pd.DataFrame], fast: Settings) -> Path:
    """Every family trained on the three days (read-only: copy to mutate)."""
    return train_into(tmp_path_factory.mktemp("trained"), world["train"], fast, MODELS)


def copy_of(root: Path, target: Path) -> Path:
    shutil.copytree(root, target)
    return target


def update(root: Path, world: dict[str, pd.DataFrame], settings: Settings, models: list[str]) -> list[FamilyUpdate]:
    frame = world["update"]
    return run_update(frame, window_of(frame, "synthetic:tiny"), settings, root, models, lambda _: no_progress)


@pytest.fixture(scope="module")
def updated(
    tmp_path_factory: pytest.TempPathFactory, trained: Path, world: dict[str, pd.DataFrame], fast: Settings
) -> tuple[Path, dict[str, FamilyUpdate]]:
    root = copy_of(trained, tmp_path_factory.mktemp("updated") / "models")
    return root, {u.run.model: u for u in update(root, world, fast, MODELS)}


def current(root: Path, model: str) -> Any:
    manifest, folder = ModelStore(root, model).verify()
    return predictor_class(model).load(folder, manifest)


def check_errors(predictor: Any, series: SeriesData) -> dict[str, float]:
    """MAE of the ensemble and of each component over the six hours neither version saw (as served)."""
    cuts = np.flatnonzero(series.t > UPDATED_UNTIL.timestamp())[:-15][::10]
    errors: dict[str, list[float]] = {}
    for c in cuts:
        history = {"timestamps": series.t[c - 239 : c + 1].tolist(), "values": series.y[c - 239 : c + 1].tolist()}
        [answer] = v1(predictor, [{"entity": series.entity, "signal": series.signal, "history": history}])
        actual = series.y[c + 1 : c + 16]
        for name, forecast in {"ensemble": answer["ensemble"], **answer["components"]}.items():
            errors.setdefault(name, []).append(float(np.mean(np.abs(np.asarray(forecast) - actual))))
    return {name: float(np.mean(values)) for name, values in errors.items()}


def test_shifted_series_error_drops_and_untouched_series_is_no_worse(
    trained: Path, updated: tuple[Path, dict[str, FamilyUpdate]], world: dict[str, pd.DataFrame]
) -> None:
    root, runs = updated
    assert runs["resource-forecast"].run.ok, runs["resource-forecast"].run
    series = {s.key: s for s in forecast_series(world["full"], 60, ("cpu", "memory"))}
    before, after = current(trained, "resource-forecast"), current(root, "resource-forecast")
    shifted_before, shifted_after = (
        check_errors(before, series["cpu/prod-east"]),
        check_errors(after, series["cpu/prod-east"]),
    )
    assert shifted_after["ensemble"] < shifted_before["ensemble"]
    # Prophet's answer is anchored to the level the history shows, so the current version already follows
    # the 0.2 step (its error a fraction of it); the refitted curve keeps that (the gate's own margin)
    assert shifted_before["prophet"] < 0.05
    assert shifted_after["prophet"] <= 1.1 * shifted_before["prophet"]
    calm_before, calm_after = (
        check_errors(before, series["memory/prod-east"]),
        check_errors(after, series["memory/prod-east"]),
    )
    assert calm_after["ensemble"] <= 1.1 * calm_before["ensemble"]  # the gate's own margin
    manifest = ModelStore(root, "resource-forecast").current()
    report = manifest.metrics["update"]
    assert report["from_version"] == ModelStore(trained, "resource-forecast").current_version()
    assert report["updated"] == 4 and report["baseline_gate"]["mae_ensemble_rel"] > 0


@pytest.mark.parametrize(
    ("model", "new", "stale"),
    [
        (
            "resource-forecast",
            {"cpu/standalone-0", "memory/standalone-0", "io_wait/standalone-0"},
            {"io_wait/prod-east-worker-2"},
        ),
        (
            "disk-eta",
            {"standalone-0:/", "standalone-0:/var/log"},
            {"prod-east/prod-east-worker-2:/", "prod-east/prod-east-worker-2:/var/log"},
        ),
        ("io-crisis", {"standalone-0/io_wait"}, {"prod-east/prod-east-worker-2/io_wait"}),
    ],
)
def test_new_entities_get_models_and_vanished_ones_are_kept_and_reported(
    trained: Path, updated: tuple[Path, dict[str, FamilyUpdate]], model: str, new: set[str], stale: set[str]
) -> None:
    root, runs = updated
    assert runs[model].run.ok, runs[model].run
    report = ModelStore(root, model).current().metrics["update"]
    assert set(report["new"]) == new and set(report["kept_stale"]) == stale
    before, after = current(trained, model), current(root, model)
    if model == "resource-forecast":
        assert after.state.series[("standalone-0", "cpu")].prophet is not None  # type: ignore[attr-defined]
        old, kept = (p.state.series[("prod-east-worker-2", "io_wait")] for p in (before, after))  # type: ignore[attr-defined]
        assert kept.to_dict() == old.to_dict()
        [answer] = v1(after, [{"entity": "standalone-0", "signal": "cpu"}])
        assert answer["source"] == "training-state" and len(answer["ensemble"]) == 15
    elif model == "disk-eta":
        assert after.disks[("", "standalone-0", "/")].prophet is not None  # type: ignore[attr-defined]
        old, kept = (p.disks[(CL, "prod-east-worker-2", "/")].prophet for p in (before, after))  # type: ignore[attr-defined]
        assert kept.to_dict() == old.to_dict()
        [answer] = v1(after, [{"node": "standalone-0", "mountpoint": "/"}])
        assert "note" not in answer  # a Prophet model of its own, not the unknown-disk fallback
    else:
        state = after.series[("", "standalone-0", "io_wait")]  # type: ignore[attr-defined]
        assert state.prophet is not None
        kept = after.series[(CL, "prod-east-worker-2", "io_wait")].prophet  # type: ignore[attr-defined]
        assert kept.to_dict() == before.series[(CL, "prod-east-worker-2", "io_wait")].prophet.to_dict()  # type: ignore[attr-defined]


def test_anomaly_detector_is_kept_and_node_outliers_refit(
    trained: Path, updated: tuple[Path, dict[str, FamilyUpdate]]
) -> None:
    root, runs = updated
    assert runs["anomaly-detector"].kept and "kept" in runs["anomaly-detector"].kept
    assert (
        ModelStore(root, "anomaly-detector").current_version()
        == ModelStore(trained, "anomaly-detector").current_version()
    )
    assert runs["node-outliers"].run.ok
    store = ModelStore(root, "node-outliers")
    assert store.current_version() != ModelStore(trained, "node-outliers").current_version()
    assert store.current().metrics["update"]["updated"] == 1


def test_every_family_publishes_a_drift_reference_and_updates_keep_it(
    trained: Path, updated: tuple[Path, dict[str, FamilyUpdate]]
) -> None:
    features = {
        "anomaly-detector": {"cpu_usage", "memory_usage", "pod_restarts", "network_in", "network_out"}
        | {"score", "anomaly"},
        "node-outliers": set(),  # three nodes: too few rows for deciles
        "resource-forecast": {"cpu", "memory", "io_wait"},
        "disk-eta": {"disk_used_pct"},
        "io-crisis": {"io_wait"},
    }
    root, runs = updated
    for model in MODELS:
        manifest, folder = ModelStore(trained, model).verify()
        reference = read_reference(folder, manifest.files)
        assert reference is not None and set(reference.features) == features[model], model
        published = runs[model].run.published
        if published is not None and published.accepted:
            manifest, folder = ModelStore(root, model).verify()  # an update keeps the full run's
            assert read_reference(folder, manifest.files) == reference, model


def overshooting(old: ProphetState) -> Callable[..., ProphetState]:
    """A broken 'refit': the saved trend tilted to climb hundreds of times its scale over the window.

    (A level error alone would be taken out on the fly by the anchoring to the history's level.)
    """

    def fit(*_: Any, **__: Any) -> ProphetState:
        return dataclasses.replace(old, k=old.k + 500.0)

    return fit


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Prophet refit or trend re-estimate overshoots, every ARIMA re-estimate explodes."""
    monkeypatch.setattr("training.updates.prophet.warm_fitter", overshooting)
    monkeypatch.setattr("training.updates.prophet.retrend_fitter", overshooting)
    monkeypatch.setattr("training.updates.forecast.fit_arima_state", lambda *_, **__: ArimaState((3.0, -1.0)))


def cpu_only(world: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {"update": world["update"][world["update"]["signal"] == "cpu"]}


def test_worse_update_is_rejected_and_current_stays(
    trained: Path, world: dict[str, pd.DataFrame], fast: Settings, tmp_path: Path, broken: None
) -> None:
    root = copy_of(trained, tmp_path / "models")
    store = ModelStore(root, "resource-forecast")
    before = store.current_version()
    [done] = update(root, cpu_only(world), fast, ["resource-forecast"])
    assert done.run.published is not None and not done.run.published.accepted
    assert done.run.published.reason.startswith("quality gate: mae_ensemble_rel")
    assert store.current_version() == before
    assert store.rejected()[done.run.published.version].startswith("quality gate")


def test_disk_keeps_its_saved_fit_where_the_refit_forecasts_worse(
    trained: Path, world: dict[str, pd.DataFrame], fast: Settings, tmp_path: Path, broken: None
) -> None:
    root = copy_of(trained, tmp_path / "models")
    [done] = update(root, world, fast, ["disk-eta"])
    assert done.run.ok, done.run
    before, after = current(trained, "disk-eta"), current(root, "disk-eta")
    report = ModelStore(root, "disk-eta").current().metrics["update"]
    assert set(report["kept_fit"]) == {
        "prod-east/prod-east-worker-0:/",
        "prod-east/prod-east-worker-0:/var/log",
        "prod-east/prod-east-worker-1:/",
        "prod-east/prod-east-worker-1:/var/log",
    }
    old, kept = (p.disks[(CL, "prod-east-worker-0", "/")] for p in (before, after))  # type: ignore[attr-defined]
    assert kept.prophet.to_dict() == old.prophet.to_dict()
    assert kept.recent.timestamps[-1] > old.recent.timestamps[-1] + 20 * 3600  # the recent usage moved on


@pytest.mark.parametrize("model", ["disk-eta", "io-crisis"])
def test_update_sharing_no_series_with_current_fails_and_current_stays(
    trained: Path, world: dict[str, pd.DataFrame], fast: Settings, tmp_path: Path, model: str
) -> None:
    """Every node renamed: no series to hold both versions against each other on the same tail."""
    root = copy_of(trained, tmp_path / "models")
    before = ModelStore(root, model).current_version()
    frame = world["update"].assign(node="renamed-" + world["update"]["node"].astype(str))
    [done] = update(root, {"update": frame}, fast, [model])
    assert not done.run.ok
    assert done.run.error is not None and "shares no" in done.run.error, done.run.error
    assert ModelStore(root, model).current_version() == before


@pytest.fixture
def cli(world: dict[str, pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run the CLI in this process (monkeypatches reach it) on the update window as a files source."""
    monkeypatch.setenv("WORKERS", "1")

    def invoke(*args: str, data: pd.DataFrame | None = None) -> Any:
        path = tmp_path / f"update-{len(list(tmp_path.glob('update-*')))}.parquet"
        (world["update"] if data is None else data).to_parquet(path, index=False)
        return CliRunner().invoke(app, ["update", "--source", "files", "--data", str(path), *args])

    return invoke


def test_cli_exit_codes(
    cli: Callable[..., Any], trained: Path, tmp_path: Path, world: dict[str, pd.DataFrame], broken: None
) -> None:
    dry = cli("--out", "/mnt/models", "--models", "all", "--dry-run")
    assert dry.exit_code == 0 and "source=files" in dry.output
    assert cli("--out", str(tmp_path), "--models", "nope").exit_code == 2
    missing = cli("--out", str(tmp_path / "empty"), "--models", "node-outliers")
    assert missing.exit_code == 1 and "no current version" in missing.output
    root = copy_of(trained, tmp_path / "models")
    done = cli("--out", str(root), "--models", "node-outliers,anomaly-detector")
    assert done.exit_code == 0, done.output
    assert "unchanged" in done.output and "current" in done.output
    rejected = cli("--out", str(root), "--models", "resource-forecast", data=cpu_only(world)["update"])
    assert rejected.exit_code == 3, rejected.output
    assert "REJECTED" in rejected.output
