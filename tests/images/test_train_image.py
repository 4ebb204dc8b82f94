"""The train image runs the chart's retrain CronJob: tiny synthetic training into the models volume.

Read-only root filesystem, an arbitrary UID in group 0, only the pod's volumes writable
(/mnt/models, the PVC; /tmp, an emptyDir): every model must be published there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics_ai.artifacts import MANIFEST, ModelStore
from metrics_ai.families import MODEL_NAMES
from tests.images import podman
from tests.images.conftest import IMAGES_TIMEOUT_S, Built, TrainRun

pytestmark = [pytest.mark.images, pytest.mark.timeout(IMAGES_TIMEOUT_S)]


def test_the_cronjob_runs_the_images_entrypoint(train_image: Built, train_run: TrainRun) -> None:
    assert train_run.container["command"] == train_image.config.entrypoint == ["python", "-m", "training"]
    assert train_image.config.workdir == "/opt/metrics-ai/home"


def test_tiny_training_publishes_every_model_as_the_arbitrary_uid(train_run: TrainRun, model_volume: Path) -> None:
    assert train_run.returncode == 0, train_run.output[-4000:]
    for model in MODEL_NAMES:
        manifest, folder = ModelStore(model_volume, model).verify()  # every file's sha256
        assert manifest.model == model and folder.is_dir()
        owner = (model_volume / model / MANIFEST).stat()
        assert (owner.st_uid, owner.st_gid) == (podman.UID, podman.GID), f"{model}: written by {owner.st_uid}"


def test_training_log_has_no_error_line(train_run: TrainRun) -> None:
    """No ERROR for expected conditions (no GPU, no plotly) in the pod's log."""
    errors = [line for line in train_run.output.splitlines() if "ERROR" in line or "Traceback" in line]
    assert not errors, errors
