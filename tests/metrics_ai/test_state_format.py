"""State files carry a format version; a loader reads the previous layout and refuses newer ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics_ai.errors import ArtifactError
from metrics_ai.state_format import StateFormat, unchanged


def _rename_total(body: dict) -> dict:
    body["total"] = body.pop("sum")
    return body


FMT = StateFormat("state.json", version=3, upgrades={1: unchanged, 2: _rename_total})


def test_written_state_records_its_format_and_reads_back(tmp_path: Path) -> None:
    FMT.write(tmp_path, {"total": 5})
    assert json.loads((tmp_path / "state.json").read_text())["format"] == 3
    assert FMT.read(tmp_path) == {"total": 5}


@pytest.mark.parametrize("body", [{"sum": 5}, {"format": 2, "sum": 5}])
def test_previous_layouts_are_upgraded(tmp_path: Path, body: dict) -> None:
    (tmp_path / "state.json").write_text(json.dumps(body))
    assert FMT.read(tmp_path) == {"total": 5}


@pytest.mark.parametrize("found", [4, 0, "3", True])
def test_a_layout_this_release_cannot_read_names_the_format(tmp_path: Path, found: object) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"format": found, "total": 5}))
    with pytest.raises(ArtifactError, match=r"format .*reads formats 1 to 3"):
        FMT.read(tmp_path)


def test_missing_or_malformed_files_are_artifact_errors(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="unreadable state"):
        FMT.read(tmp_path)
    (tmp_path / "state.json").write_text("[1, 2]")
    with pytest.raises(ArtifactError, match="expected a JSON object"):
        FMT.read(tmp_path)


def test_a_format_without_an_upgrade_path_is_refused_at_definition() -> None:
    with pytest.raises(ValueError, match=r"no upgrade from format\(s\) \[2\]"):
        StateFormat("x.json", version=3, upgrades={1: unchanged})
