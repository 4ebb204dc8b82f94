"""The artifact store: checksums, schema version, atomic promote, aliases, prune, safe unpickle."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest

from metrics_ai.artifacts import SCHEMA_VERSION, DataWindow, ModelStore, load_pickle_verified, sha256_file
from metrics_ai.errors import ArtifactError


def publish(store: ModelStore, payload: str, alias: bool = False) -> str:
    with store.stage() as staging:
        (staging / "state.json").write_text(payload)
        if alias:
            joblib.dump({"x": payload}, staging / "model.pkl")
        manifest = store.commit(
            staging, family="Test", data=DataWindow(source="test"), aliases=["model.pkl"] if alias else []
        )
    return manifest.version


def test_commit_records_every_file_and_promote_switches(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    v1 = publish(store, "one", alias=True)
    assert store.current_version() is None  # committed is not current
    store.promote(v1)
    manifest = store.current()
    assert manifest.schema_version == SCHEMA_VERSION and manifest.version == v1
    folder = store.version_dir(v1)
    assert manifest.files == {
        "model.pkl": sha256_file(folder / "model.pkl"),
        "state.json": sha256_file(folder / "state.json"),
    }
    assert (tmp_path / "m" / "model.pkl").resolve() == (folder / "model.pkl").resolve()
    v2 = publish(store, "two", alias=True)
    store.promote(v2)
    assert (tmp_path / "m" / "model.pkl").resolve().parent.name == v2
    assert [e.event for e in store.history()] == ["published", "promoted", "published", "promoted"]
    assert not list((tmp_path / "m" / "versions").glob(".staging-*"))


@pytest.mark.parametrize("damage", ["truncate", "rewrite", "delete"])
def test_verify_detects_damage(tmp_path: Path, damage: str) -> None:
    store = ModelStore(tmp_path, "m")
    version = publish(store, "payload" * 100)
    target = store.version_dir(version) / "state.json"
    if damage == "truncate":
        target.write_text(target.read_text()[:10])
    elif damage == "rewrite":
        target.write_text("P" * len(target.read_text()))
    else:
        target.unlink()
    with pytest.raises(ArtifactError, match="state.json"):
        store.verify(version)


def test_unsupported_schema_version_says_so(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    version = publish(store, "x")
    path = store.version_dir(version) / "manifest.json"
    raw = json.loads(path.read_text())
    raw["schema_version"] = 99
    path.write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match="schema_version 99 is not supported"):
        store.verify(version)


def test_staging_failure_leaves_nothing(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    with pytest.raises(RuntimeError), store.stage() as staging:
        (staging / "half.json").write_text("{")
        raise RuntimeError("disk full")
    assert store.versions() == [] and not list((tmp_path / "m" / "versions").iterdir())


def test_prune_keeps_newest_and_current(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    versions = [publish(store, str(i)) for i in range(6)]
    for version in versions:
        store.promote(version)
    store.promote(versions[0])  # rolled back to the oldest
    removed = store.prune(keep=3)
    assert store.versions() == sorted([versions[0], *versions[-3:]])
    assert removed == versions[1:3]


def test_rejected_and_orphaned_versions_count_against_keep_and_go_first(tmp_path: Path) -> None:
    """Finding 6: repeated rejections (and orphans) never pile up past KEEP_VERSIONS."""
    store = ModelStore(tmp_path, "m")
    good = []
    for i in range(3):
        good.append(publish(store, f"good {i}"))
        store.promote(good[-1])
    bad = []
    for i in range(8):  # an hourly update rejected all day, and a run killed before its switch
        bad.append(publish(store, f"bad {i}"))
        if i != 5:
            store.reject(bad[-1], "quality gate: worse")
        store.prune(keep=4)
    # the three that were current, and the newest rejected one in the fourth slot
    assert store.versions() == sorted([*good, bad[-1]])
    assert store.current_version() == good[-1]
    more = publish(store, "good 3")
    store.promote(more)
    store.prune(keep=2, also_keep={good[0]})
    assert store.versions() == sorted([good[0], good[2], more])  # the rejected one went first


def test_pickle_is_loaded_only_when_checksum_matches(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    joblib.dump({"a": 1}, path)
    assert load_pickle_verified(path, sha256_file(path)) == {"a": 1}
    with pytest.raises(ArtifactError, match="refusing to unpickle"):
        load_pickle_verified(path, "0" * 64)
