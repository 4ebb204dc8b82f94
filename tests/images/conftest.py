"""Fixtures for the image tests: podman, the stand-in base, both images built, a pod's volumes.

These tests build Dockerfile.serve and Dockerfile.train, so they are marked ``images`` and
deselected from the default run (pyproject's addopts: ``-m "not images"``); ``make images``
runs them (``pytest -m images tests/images``) after scripts/install-image-deps.sh.
They need root (podman storage, mounts, chroot) and fail, never skip, without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.chart import conftest as chart_fixtures
from tests.chart.conftest import REPO, Pick, Render, pod_spec
from tests.images import podman, pods
from tests.images.base import BASE_LABELS, ensure_base_image

# the chart's fixtures, to render what the pods run
chart, render_raw, render = chart_fixtures.chart, chart_fixtures.render_raw, chart_fixtures.render

CACHE = REPO / ".cache" / "images"
TAGS = {"serve": "localhost/metrics-ai-serve:make-images", "train": "localhost/metrics-ai-train:make-images"}
#: per test, fixtures included: the first one builds an image (pip installs TensorFlow on 2 cores)
IMAGES_TIMEOUT_S = 5400
SIZES = pytest.StashKey[dict[str, tuple[int, int]]]()


@dataclass(frozen=True)
class Built:
    """A built image: its configuration (ENV, WORKDIR, ENTRYPOINT, labels, size)."""

    kind: str
    config: podman.ImageConfig


@pytest.fixture(scope="session")
def podman_ready() -> None:
    """podman and debootstrap on PATH and root: what `make images` installs and needs."""
    missing = [tool for tool in ("podman", "debootstrap", "mount", "tar") if shutil.which(tool) is None]
    assert not missing, f"{missing} not installed: run `bash scripts/install-image-deps.sh` (or `make images`)"
    assert os.geteuid() == 0, "the image tests mount filesystems and chroot: run them as root"


@pytest.fixture(scope="session")
def base_image(podman_ready: None) -> str:
    """The stand-in base image (Debian bookworm + python3.11), built once and cached."""
    return ensure_base_image(CACHE)


@pytest.fixture(scope="session")
def base_labels(base_image: str) -> dict[str, str]:
    """The stand-in base's labels, as podman reads them."""
    labels = podman.inspect(base_image).labels
    assert {key: labels.get(key) for key in BASE_LABELS} == BASE_LABELS
    return labels


def _built(kind: str, base_image: str) -> Built:
    podman.build(REPO / f"Dockerfile.{kind}", TAGS[kind], base_image, CACHE / f"build-{kind}.log")
    return Built(kind, podman.inspect(TAGS[kind]))


@pytest.fixture(scope="session")
def serve_image(base_image: str) -> Built:
    """Dockerfile.serve built on the stand-in base."""
    return _built("serve", base_image)


@pytest.fixture(scope="session")
def train_image(base_image: str) -> Built:
    """Dockerfile.train built on the stand-in base."""
    return _built("train", base_image)


@pytest.fixture(scope="session")
def image_sizes(request: pytest.FixtureRequest) -> dict[str, tuple[int, int]]:
    """(image bytes, venv bytes) per image, printed at the end of the run."""
    return request.config.stash.setdefault(SIZES, {})


@pytest.fixture(scope="session")
def model_volume(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The models PVC: a host folder group 0 may write (the train image fills it, the serve image reads it)."""
    return podman.volume(tmp_path_factory.mktemp("pvc") / "models", 0o2775)


@dataclass(frozen=True)
class TrainRun:
    """The retrain CronJob's container, run once from the train image into the models volume."""

    container: dict[str, Any]
    returncode: int
    output: str


#: the chart's values for a run that needs no Prometheus: synthetic data, the tiny profile
TRAIN_VALUES = {"train": {"dataSource": "synthetic", "profile": "tiny"}}
TRAIN_TIMEOUT_S = 1800


@pytest.fixture(scope="session")
def train_run(
    train_image: Built, model_volume: Path, render: Render, tmp_path_factory: pytest.TempPathFactory
) -> TrainRun:
    """The `run` CronJob of the chart, from the train image, read-only root, as an arbitrary UID."""
    crons = Pick.by_kind(render(TRAIN_VALUES), "CronJob")
    (cron,) = [c for c in crons if pod_spec(c)["containers"][0]["args"][0] == "run"]
    spec = pod_spec(cron)
    (container,) = spec["containers"]
    scratch = tmp_path_factory.mktemp("train-volumes")
    mounts = pods.pod_mounts(container, spec["volumes"], model_volume, scratch)
    config = train_image.config
    with podman.container_root(config.name) as rw_layer, podman.read_only_root(rw_layer, mounts, scratch) as root:
        argv = container["command"] + container["args"]
        done = podman.run_to_end(root, argv, pods.pod_env(config, container), config.workdir, TRAIN_TIMEOUT_S)
    return TrainRun(container, done.returncode, done.stdout)


def du_bytes(path: Path) -> int:
    """Apparent size of a folder (``du -sb``)."""
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Each image's installed size and its venv's, as docs/openshift.md lists them."""
    sizes = config.stash.get(SIZES, {})
    if not sizes:
        return
    terminalreporter.section("image sizes")
    for kind, (image, venv) in sorted(sizes.items()):
        terminalreporter.write_line(
            f"{kind}: image {image / 1e6:,.0f} MB (podman image inspect .Size), venv {venv / 1e6:,.0f} MB (du -sb)"
        )
