"""State files carry a format version; a loader reads the previous layout and refuses newer ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import ArtifactError
from metrics_ai.families import MODEL_NAMES, predictor_class
from metrics_ai.state_format import StateFormat, unchanged
from tests.serving import codec_calls


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


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_family_versions_its_state_and_reads_the_previous_release(all_models: Path, model: str) -> None:
    """Each published version has one JSON index with a ``format``; without it (as the previous
    release wrote it) the version loads and answers its smoke request exactly as before."""
    store = ModelStore(all_models, model)
    manifest = store.current()
    folder = store.version_dir(manifest.version)
    predictor = predictor_class(model).load(folder, manifest)
    before = codec_calls.v1(predictor, codec_calls.smoke(predictor))

    old = Path(shutil.copytree(folder, all_models.parent / f"previous-{model}"))
    indexes = [p for p in sorted(old.glob("*.json")) if "format" in json.loads(p.read_text())]
    assert len(indexes) == 1, indexes
    body = json.loads(indexes[0].read_text())
    assert isinstance(body.pop("format"), int)
    indexes[0].write_text(json.dumps(body))
    again = predictor_class(model).load(old, manifest)
    assert codec_calls.v1(again, codec_calls.smoke(predictor)) == before
