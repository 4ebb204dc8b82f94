"""Dockerfiles and the commands the chart runs: the CLIs they name exist and accept their flags.

No container engine runs here, so the images are checked by reading the Dockerfiles and by
running their ENTRYPOINT/CMD (and the chart's container commands) with the venv's Python,
which has the same packages the images install from constraints.txt.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from tests.chart.conftest import REPO

BASE = "registry.access.redhat.com/ubi9/python-311"
IMAGES = {"serve": "Dockerfile.serve", "train": "Dockerfile.train"}


def parse_dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in path.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        logical.append(current.strip())
        current = ""
    return [
        (ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in logical
    ]


def stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage (the ARGs before the first FROM are dropped)."""
    groups: list[list[tuple[str, str]]] = []
    for instr in instructions:
        if instr[0] == "FROM":
            groups.append([])
        if groups:
            groups[-1].append(instr)
    return groups


def exec_form(instructions: list[tuple[str, str]], name: str) -> list[str]:
    """The last ENTRYPOINT or CMD, which must be in exec (JSON) form."""
    value = [args for instr, args in instructions if instr == name][-1]
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed), f"{name} {value}"
    return parsed


def run_cli(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run an image or chart command with the venv's interpreter in place of `python`."""
    assert argv[0] == "python", argv
    clean = {k: v for k, v in os.environ.items() if not k.startswith("METRICS_AI_")}
    return subprocess.run(
        [sys.executable, *argv[1:]],
        cwd=REPO,
        env={**clean, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _entrypoint_cmd(image: str) -> tuple[list[str], list[str]]:
    instructions = parse_dockerfile(REPO / IMAGES[image])
    return exec_form(instructions, "ENTRYPOINT"), exec_form(instructions, "CMD")


# ---------------------------------------------------------------- reading the Dockerfiles


@pytest.mark.parametrize("image", IMAGES)
def test_dockerfile_is_multi_stage_ubi_and_non_root(image: str) -> None:
    instructions = parse_dockerfile(REPO / IMAGES[image])
    base_arg = next(
        args for instr, args in instructions if instr == "ARG" and args.startswith("BASE_IMAGE=")
    )
    assert base_arg.split("=", 1)[1].split(":")[0] == BASE
    builder, final = stages(instructions)
    assert builder[0][1] == "${BASE_IMAGE} AS builder" and final[0][1] == "${BASE_IMAGE}"
    builder_runs = " ".join(args for instr, args in builder if instr == "RUN")
    assert re.search(r'pip"? install -c constraints\.txt', builder_runs)
    assert re.search(
        r'pip"? wheel', builder_runs
    )  # the project is installed as the wheel it builds
    final_text = " ".join(f"{i} {a}" for i, a in final)
    assert "COPY --from=builder /opt/metrics-ai/venv /opt/metrics-ai/venv" in final_text
    assert "chgrp -R 0 /mnt/models" in final_text and "chmod -R g=u /mnt/models" in final_text
    users = [args for instr, args in final if instr == "USER"]
    assert users[-1] in ("1001", "1001:0")
    final_pip = [args for instr, args in final if instr == "RUN" and "pip" in args]
    assert not final_pip, "the final stage copies the venv; it must not install anything"


def test_serve_image_installs_only_the_serve_extra() -> None:
    runs = " ".join(a for i, a in parse_dockerfile(REPO / IMAGES["serve"]) if i == "RUN")
    extras = re.findall(r"metrics_ai-\*\.whl\)\[([^\]]+)\]", runs)
    assert extras == ["serve"]
    assert "tensorflow" in runs and "must not contain" in runs  # the build fails if TF sneaks in


def test_train_image_installs_the_train_and_s3_extras() -> None:
    instructions = parse_dockerfile(REPO / IMAGES["train"])
    assert ("ARG", "EXTRAS=train,s3") in instructions  # s3: the chart's S3 storage runs metrics_ai.s3sync
    runs = " ".join(a for i, a in instructions if i == "RUN")
    assert "metrics_ai-*.whl)[${EXTRAS}]" in runs


def test_serve_extra_excludes_the_fitting_libraries() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    serve = " ".join(project["optional-dependencies"]["serve"] + project["dependencies"]).lower()
    for heavy in ("tensorflow", "prophet", "statsmodels", "keras"):
        assert heavy not in serve


def _dockerignored(patterns: list[str], path: str) -> bool:
    """Docker semantics: the last matching pattern wins, `!` re-includes, dirs cover files."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, f"{pat}/*"):
            ignored = not negate
    return ignored


def test_dockerignore_sends_only_the_sources() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    kept = ["pyproject.toml", "README.md", "constraints.txt", "metrics_ai/settings.py"]
    kept += ["training/cli.py", "serving/cli.py", "alerting/cli.py"]  # Dockerfile.serve copies alerting/
    for path in kept:
        assert not _dockerignored(patterns, path), path
    dropped = [".venv/bin/python", ".git/HEAD", "models/anomaly-detector/manifest.json", ".env"]
    dropped += [
        "tests/conftest.py",
        "metrics_ai/__pycache__/settings.cpython-311.pyc",
        "charts/x.yaml",
    ]
    for path in dropped:
        assert _dockerignored(patterns, path), path


def test_constraints_lock_what_the_venv_runs() -> None:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = (
        project["dependencies"]
        + project["optional-dependencies"]["serve"]
        + project["optional-dependencies"]["train"]
    )
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", requirement)[0]).lower()
        assert name in pins, f"{name} is not locked in constraints.txt"
        assert metadata.version(name) == pins[name], (
            f"{name}: venv {metadata.version(name)}, lock {pins[name]}"
        )


def test_package_data_ships_every_data_file() -> None:
    """The images install the built wheel, not the checkout: data files must be package-data."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    package_data: dict[str, list[str]] = setuptools.get("package-data", {})
    listing = subprocess.run(
        [
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "metrics_ai",
            "training",
            "serving",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    data_files = [Path(f) for f in listing if not f.endswith(".py") and "__pycache__" not in f]
    for path in data_files:
        parts = path.parts
        shipped = any(
            fnmatch.fnmatch("/".join(parts[k:]), pattern)
            for k in range(1, len(parts))
            for pattern in package_data.get(".".join(parts[:k]), []) + package_data.get("*", [])
        )
        assert shipped, f"{path} is not in [tool.setuptools.package-data]: the images would lack it"


# ---------------------------------------------------------------- running the commands


@pytest.mark.parametrize("image", IMAGES)
def test_entrypoint_help_runs(image: str) -> None:
    entrypoint, _ = _entrypoint_cmd(image)
    assert entrypoint == ["python", "-m", "serving" if image == "serve" else "training"]
    result = run_cli([*entrypoint, "--help"])
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_train_image_default_command_dry_run(tmp_path: Path) -> None:
    entrypoint, cmd = _entrypoint_cmd("train")
    argv = [*entrypoint, *(str(tmp_path) if a == "/mnt/models" else a for a in cmd), "--dry-run"]
    result = run_cli(argv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run" in result.stdout + result.stderr


def test_serve_image_default_command_loads_a_model(basic_models: Path) -> None:
    entrypoint, cmd = _entrypoint_cmd("serve")
    argv = [*entrypoint, *(str(basic_models) if a == "/mnt/models" else a for a in cmd)]
    result = run_cli([*argv, "--models", "anomaly-detector", "--dry-run"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "anomaly-detector: ready" in result.stdout


def _container_env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


@pytest.mark.parametrize(
    ("values", "expect_ready"),
    [
        ({}, ["anomaly-detector"]),
        (
            {
                "combined": {"enabled": True},
                "models": {
                    m: {"enabled": False} for m in ("resource-forecast", "disk-eta", "io-crisis")
                },
            },
            ["anomaly-detector", "node-outliers"],
        ),
    ],
    ids=["per-model", "combined"],
)
def test_serving_runtime_command_runs(
    render: Any, pick: Any, basic_models: Path, values: dict[str, Any], expect_ready: list[str]
) -> None:
    """The ServingRuntime command, `{{.Name}}` filled in by KServe for anomaly-detector."""
    (container,) = pick.runtime(render(values))["spec"]["containers"]
    argv = [
        str(basic_models) if a == "/mnt/models" else a.replace("{{.Name}}", "anomaly-detector")
        for a in container["command"] + container["args"]
    ]
    result = run_cli([*argv, "--dry-run"], env=_container_env(container))
    assert result.returncode == 0, result.stdout + result.stderr
    for model in expect_ready:
        assert f"{model}: ready" in result.stdout


@pytest.fixture(scope="module")
def training_help() -> Callable[[str], str]:
    """`python -m training [SUBCOMMAND] --help` output, each run once per module."""
    cache: dict[str, str] = {}

    def _help(subcommand: str = "") -> str:
        if subcommand not in cache:
            argv = ["python", "-m", "training", *([subcommand] if subcommand else []), "--help"]
            cache[subcommand] = run_cli(argv).stdout
        return cache[subcommand]

    return _help


def test_training_cronjob_commands_run(
    ci_objects: list[dict[str, Any]], pick: Any, tmp_path: Path, training_help: Callable[[str], str]
) -> None:
    """Each CronJob's command with its rendered environment: the settings accept every value."""
    for cron in pick.by_kind(ci_objects, "CronJob"):
        (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        argv = [
            str(tmp_path) if a == "/mnt/models" else a
            for a in container["command"] + container["args"]
        ]
        if argv[:3] == ["python", "-m", "metrics_ai.s3sync"]:  # s3.enabled: the wrapped command
            argv = argv[argv.index("--") + 1 :]  # (the wrapper: tests/chart/test_chart_storage.py)
        env = _container_env(container)
        subcommand, name = container["args"][0], cron["metadata"]["name"]
        assert re.search(rf"^\W*{subcommand}\s", training_help(""), flags=re.MULTILINE), (
            f"`python -m training {subcommand}` does not exist (CronJob {name})"
        )
        assert "--dry-run" in training_help(subcommand), f"{subcommand} has no --dry-run (CronJob {name})"
        result = run_cli([*argv, "--dry-run"], env=env)
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
        assert f"source={env['DATA_SOURCE']}" in result.stdout + result.stderr
