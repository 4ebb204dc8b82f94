"""Findings 4 and 6 through the CLI: a torn history line, repeated rejections, rollback's smoke test."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from metrics_ai.artifacts import HISTORY, MANIFEST, ModelStore
from metrics_ai.history import Event
from tests.training.test_cli_and_publish import run_cli

MODEL = "anomaly-detector"
RUN = ("run", "--models", MODEL, "--profile", "tiny")


def test_versions_rollback_and_run_work_past_a_torn_history_line(tmp_path: Path) -> None:
    assert run_cli(*RUN, "--out", str(tmp_path)).returncode == 0
    store = ModelStore(tmp_path, MODEL)
    first = store.current_version()
    with (store.dir / HISTORY).open("a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-11-28T20:00:00+00:00", "ev')  # the disk filled mid-line
    listing = run_cli("versions", "--out", str(tmp_path), "--model", MODEL)
    assert listing.returncode == 0, listing.stderr
    assert f"{first}  current" in listing.stdout and "skipped unreadable line(s) 3" in listing.stderr
    again = run_cli(*RUN, "--out", str(tmp_path), env={"METRICS_AI_GATE_MARGIN": "10"})
    assert again.returncode == 0, again.stdout + again.stderr  # switched, and reported as switched
    second = store.current_version()
    assert second != first and "FAILED" not in again.stdout
    back = run_cli("rollback", "--out", str(tmp_path), "--model", MODEL)
    assert back.returncode == 0, back.stderr
    assert store.current_version() == first
    history = store.read_history()
    assert history.skipped == [3]
    assert [e.event for e in history.entries][-3:] == [Event.published, Event.published_current, Event.rollback]


def test_rejections_are_pruned_and_rollback_smoke_tests_its_target(tmp_path: Path) -> None:
    env = {"METRICS_AI_KEEP_VERSIONS": "2"}
    assert run_cli(*RUN, "--out", str(tmp_path), env=env).returncode == 0
    store = ModelStore(tmp_path, MODEL)
    current = store.current_version()
    assert current is not None
    for _ in range(3):  # no anomalies in the data: every later run fails the gate
        worse = run_cli(*RUN, "--out", str(tmp_path), env={**env, "ANOMALY_RATE": "0"})
        assert worse.returncode == 3, worse.stdout + worse.stderr
    rejected = sorted(store.rejected())
    assert len(rejected) == 3
    assert store.versions() == sorted([current, rejected[-1]])  # KEEP_VERSIONS 2, rejections pruned first

    # an orphan (copied in, never current) whose state cannot load: the rollback refuses it
    orphan = rejected[-1][:-4] + "0rph"
    shutil.copytree(store.version_dir(current), store.version_dir(orphan))
    manifest = json.loads((store.version_dir(orphan) / MANIFEST).read_text())
    manifest["version"] = orphan
    (store.version_dir(orphan) / MANIFEST).write_text(json.dumps(manifest))
    for name in manifest["files"]:
        path = store.version_dir(orphan) / name
        path.write_bytes(b"\x00" * 16)
        manifest["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (store.version_dir(orphan) / MANIFEST).write_text(json.dumps(manifest))
    listing = run_cli("versions", "--out", str(tmp_path), "--model", MODEL).stdout
    assert f"{orphan}  orphaned: never current" in listing and f"{current}  current" in listing
    refused = run_cli("rollback", "--out", str(tmp_path), "--model", MODEL, "--version", orphan)
    assert refused.returncode == 2, refused.stderr
    assert "failed the smoke test, not made current" in " ".join(refused.stderr.split())
    assert store.current_version() == current

    # the rejected version loads and answers: forcing it is the operator's call
    forced = run_cli("rollback", "--out", str(tmp_path), "--model", MODEL, "--version", rejected[-1])
    assert forced.returncode == 0, forced.stderr
    assert store.current_version() == rejected[-1]
