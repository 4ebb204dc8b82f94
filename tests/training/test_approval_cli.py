"""APPROVAL=manual through the real training CLI: pending, versions, reject (why, who, when), approve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.history import Event
from tests.training.test_cli_and_publish import run_cli

MODEL = "anomaly-detector"
MANUAL = {"APPROVAL": "manual", "SEED": "7", "GATE_MARGIN": "10"}


def said(text: str) -> str:
    """The CLI's message with rich's line wrapping undone."""
    return " ".join(text.split())


def test_manual_run_is_pending_reject_records_why_and_who(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APPROVER", "METRICS_AI_APPROVER"):
        monkeypatch.delenv(name, raising=False)
    assert run_cli("run", "--out", str(tmp_path), "--models", MODEL, "--profile", "tiny").returncode == 0
    store = ModelStore(tmp_path, MODEL)
    current = store.current_version()
    assert current is not None

    held = run_cli("run", "--out", str(tmp_path), "--models", MODEL, "--profile", "tiny", env=MANUAL)
    assert held.returncode == 0, held.stdout + held.stderr
    assert "PENDING" in held.stdout
    [pending] = store.awaiting_approval()
    assert store.current_version() == current  # held, not current
    assert [e.event for e in store.history() if e.version == pending] == [Event.published, Event.pending]
    [report] = sorted((tmp_path / "reports").glob("2*"))[-1:]
    assert json.loads((report / "summary.json").read_text())["models"][0]["status"] == "PENDING"
    listing = run_cli("versions", "--out", str(tmp_path), "--model", MODEL)
    assert f"{pending}  PENDING approval" in listing.stdout and f"{current}  current" in listing.stdout

    no_reason = run_cli("reject", "--out", str(tmp_path), "--model", MODEL, "--reason", " ")
    assert no_reason.returncode == 2 and "--reason" in said(no_reason.stderr)
    wrong = run_cli("reject", "--out", str(tmp_path), "--model", MODEL, "--version", current, "--reason", "x")
    assert wrong.returncode == 2 and "does not await approval" in said(wrong.stderr)

    why = "flags twice as many nodes"
    refused = run_cli("reject", "--out", str(tmp_path), "--model", MODEL, "--reason", why, env={"USER": "bob"})
    assert refused.returncode == 0, refused.stderr
    last = store.history()[-1]
    assert (last.event, last.version, last.reason, last.by) == (Event.rejected, pending, why, "bob")
    assert last.time.startswith("20")
    assert store.current_version() == current and store.awaiting_approval() == []
    listing = run_cli("versions", "--out", str(tmp_path), "--model", MODEL)
    assert f"{pending}  rejected: flags twice as many nodes (by bob," in listing.stdout

    nothing = run_cli("approve", "--out", str(tmp_path), "--model", MODEL)
    assert nothing.returncode == 2 and "no version awaits approval" in said(nothing.stderr)
    assert run_cli("approve", "--out", str(tmp_path), "--model", "nope").returncode == 2
