"""Both images: their own labels (not the base's), a run configuration for restricted-v2, their sizes.

The stand-in base carries UBI's descriptive label keys with its own values; the runtime
stage must declare every one of them itself, as its Dockerfile's LABEL says.
"""

from __future__ import annotations

import shlex

import pytest

from tests.chart.test_images import parse_dockerfile, stages
from tests.images import podman
from tests.images.conftest import IMAGES_TIMEOUT_S, REPO, Built, du_bytes

pytestmark = [pytest.mark.images, pytest.mark.timeout(IMAGES_TIMEOUT_S)]

#: labels the OpenShift console and catalog show: the runtime stage must set each itself
OWN_LABELS = ("name", "summary", "description", "usage", "io.k8s.description", "io.k8s.display-name")


def dockerfile_labels(kind: str) -> dict[str, str]:
    """The LABELs of the Dockerfile's runtime (last) stage."""
    runtime = stages(parse_dockerfile(REPO / f"Dockerfile.{kind}"))[-1]
    pairs = [word.split("=", 1) for instr, args in runtime if instr == "LABEL" for word in shlex.split(args)]
    return dict((key, value) for key, value in pairs)


@pytest.fixture(scope="module", params=["serve", "train"])
def image(request: pytest.FixtureRequest) -> Built:
    """Each built image in turn."""
    built: Built = request.getfixturevalue(f"{request.param}_image")
    return built


def test_runtime_stage_has_its_own_labels(image: Built, base_labels: dict[str, str]) -> None:
    declared = dockerfile_labels(image.kind)
    assert {key: image.config.labels.get(key) for key in declared} == declared
    for key in OWN_LABELS:
        assert key in declared, f"Dockerfile.{image.kind} does not set the {key} label: it inherits the base's"
        assert image.config.labels[key] != base_labels.get(key), key


def test_runs_as_a_non_root_uid_in_group_0_with_a_writable_home(image: Built) -> None:
    """The image's defaults when no pod overrides them: HOME and the model root writable by group 0."""
    env = image.config.env
    assert env["VIRTUAL_ENV"] == "/opt/metrics-ai/venv" and env["PATH"].startswith("/opt/metrics-ai/venv/bin:")
    assert "/usr/bin" in env["PATH"].split(":")
    with podman.mounted(image.config.name) as root:
        for folder in (env["HOME"], "/mnt/models"):
            info = (root / folder.lstrip("/")).stat()
            assert info.st_gid == 0 and info.st_mode & 0o070 == 0o070, f"{folder}: {oct(info.st_mode)}"
        venv = root / "opt/metrics-ai/venv"
        assert venv.stat().st_uid == 0 and not venv.stat().st_mode & 0o022, "the venv must stay root's, read-only"


def test_installed_size(image: Built, image_sizes: dict[str, tuple[int, int]]) -> None:
    """Recorded for the run's summary (docs/openshift.md lists these numbers)."""
    with podman.mounted(image.config.name) as root:
        venv = du_bytes(root / "opt/metrics-ai/venv")
    image_sizes[image.kind] = (image.config.size, venv)
    assert 0 < venv < image.config.size
