"""The S3 mirror of a model root, against moto's in-process S3: publish, pull, rollback, prune."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from metrics_ai.artifacts import DataWindow, ModelStore
from metrics_ai.errors import ArtifactError
from metrics_ai.s3store import Pulled, S3Location, S3Mirror
from metrics_ai.s3sync import app

BUCKET, PREFIX = "models", "team/metrics-ai"
MODEL = "anomaly-detector"


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto S3 with the bucket, and the data connection's variables set."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_S3_ENDPOINT", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def mirror(client: Any) -> S3Mirror:
    return S3Mirror(client, S3Location.parse(f"s3://{BUCKET}/{PREFIX}/"))


def publish(root: Path, payload: str, promote: bool = True) -> str:
    """Publish one version the way the trainer does (stage, commit, promote, alias)."""
    store = ModelStore(root, MODEL)
    with store.locked(), store.stage() as staging:
        (staging / "state.json").write_text(payload)
        (staging / "model.pkl").write_bytes(payload.encode())
        version = store.commit(staging, family="Test", data=DataWindow(source="test"), aliases=["model.pkl"]).version
        if promote:
            store.promote(version)
    return version


def publish_real(root: Path, trained: Path) -> str:
    """Publish a copy of a trained anomaly-detector version: rollback smoke-tests its target."""
    manifest, folder = ModelStore(trained, MODEL).verify()
    fields = manifest.model_dump(
        exclude={"schema_version", "model", "version", "created_at", "code_version", "libraries", "python", "files"}
    )
    store = ModelStore(root, MODEL)
    with store.locked(), store.stage() as staging:
        for path in folder.rglob("*"):
            if path.is_file() and path.name != "manifest.json":
                target = staging / path.relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        version = store.commit(staging, **fields).version
        store.promote(version)
    return version


def keys(client: Any) -> set[str]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"].removeprefix(f"{PREFIX}/") for o in listed}


def test_location_parsing() -> None:
    assert S3Location.parse("s3://b/a/b/") == S3Location("b", "a/b")
    assert S3Location.parse("s3://b").key("m/manifest.json") == "m/manifest.json"
    with pytest.raises(ArtifactError, match="expected s3://bucket/prefix"):
        S3Location.parse("pvc://claim/")
    with pytest.raises(ArtifactError, match="no bucket"):
        S3Location.parse("s3:///prefix")


def test_push_then_pull_gives_a_verified_store(s3: Any, tmp_path: Path) -> None:
    writer, reader = tmp_path / "writer", tmp_path / "reader"
    v1 = publish(writer, "one")
    assert mirror(s3).push(writer, Pulled()) == (5, 0)  # state, model.pkl, version manifest, history, switch
    assert keys(s3) == {
        f"{MODEL}/manifest.json",
        f"{MODEL}/history.jsonl",
        f"{MODEL}/versions/{v1}/manifest.json",
        f"{MODEL}/versions/{v1}/state.json",
        f"{MODEL}/versions/{v1}/model.pkl",
    }  # no lock file, no symlink
    mirror(s3).pull(reader)
    store = ModelStore(reader, MODEL)
    manifest, folder = store.verify()
    assert manifest.version == v1 and (folder / "state.json").read_text() == "one"
    assert (reader / MODEL / "model.pkl").resolve() == (folder / "model.pkl").resolve()
    assert [e.event for e in store.history()] == ["published", "promoted"]


def test_unchanged_versions_are_not_uploaded_again(s3: Any, tmp_path: Path) -> None:
    publish(tmp_path, "one")
    seen = mirror(s3).pull(tmp_path)
    mirror(s3).push(tmp_path, seen)
    publish(tmp_path, "two")
    uploaded, _ = mirror(s3).push(tmp_path, seen)
    assert uploaded == 5  # the new version's 3 files, history and the switch; v1 untouched


def test_rollback_on_s3_through_the_run_wrapper(s3: Any, tmp_path: Path, basic_models: Path) -> None:
    """Versions and rollback keep working: `run -- python -m training rollback` switches S3."""
    first = tmp_path / "first"
    v1 = publish_real(first, basic_models)
    v2 = publish_real(first, basic_models)
    mirror(s3).push(first, Pulled())
    work = tmp_path / "pod"
    result = CliRunner().invoke(
        app,
        ["run", "--remote", f"s3://{BUCKET}/{PREFIX}", "--local", str(work), "--",
         sys.executable, "-m", "training", "rollback", "--out", str(work), "--model", MODEL],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    after = tmp_path / "after"
    mirror(s3).pull(after)
    store = ModelStore(after, MODEL)
    assert store.current_version() == v1 and store.versions() == [v1, v2]
    assert store.history()[-1].event == "rollback"


def test_run_pushes_and_keeps_the_commands_status(s3: Any, tmp_path: Path) -> None:
    """A run that exits 3 (a rejected version) still publishes its record, then exits 3."""
    work = tmp_path / "pod"
    script = (
        "import sys; from pathlib import Path; from tests.metrics_ai.test_s3store import publish; "
        f"publish(Path({str(work)!r}), 'rejected', promote=False); sys.exit(3)"
    )
    result = CliRunner().invoke(
        app, ["run", "--remote", f"s3://{BUCKET}/{PREFIX}", "--local", str(work), "--", sys.executable, "-c", script]
    )
    assert result.exit_code == 3, result.output
    assert any(k.startswith(f"{MODEL}/versions/") for k in keys(s3))
    assert f"{MODEL}/manifest.json" not in keys(s3)  # never promoted: nothing current


def test_push_prunes_only_what_this_run_saw(s3: Any, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    old = publish(a, "old")
    mirror(s3).push(a, Pulled())
    seen_by_a, seen_by_b = mirror(s3).pull(a), mirror(s3).pull(b)
    # meanwhile another writer publishes a version that b never saw
    other = publish(a, "other")
    mirror(s3).push(a, seen_by_a)
    # b publishes and prunes to one version (the current one)
    mine = publish(b, "mine")
    ModelStore(b, MODEL).prune(keep=1)
    _, deleted = mirror(s3).push(b, seen_by_b)
    assert deleted == 3  # old's state.json, model.pkl and manifest
    versions = {k.split("/")[2] for k in keys(s3) if "/versions/" in k}
    assert versions == {other, mine} and old not in versions


def test_pull_removes_versions_pruned_elsewhere(s3: Any, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    v1 = publish(a, "one")
    mirror(s3).push(a, Pulled())
    seen = mirror(s3).pull(b)
    publish(a, "two")
    ModelStore(a, MODEL).prune(keep=1)
    mirror(s3).push(a, seen)
    mirror(s3).pull(b)
    assert v1 not in ModelStore(b, MODEL).versions()
    ModelStore(b, MODEL).verify()


def test_a_missing_bucket_is_a_clear_error(s3: Any, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["pull", "--remote", "s3://no-such-bucket/x", "--local", str(tmp_path)])
    assert result.exit_code == 1
    assert "NoSuchBucket" in result.output


def test_a_read_only_command_uploads_nothing(s3: Any, tmp_path: Path) -> None:
    """`run -- training versions` must not push its stale manifest over another writer's switch."""
    a, reader = tmp_path / "a", tmp_path / "reader"
    publish(a, "one")
    seen_by_a = mirror(s3).pull(a)
    mirror(s3).push(a, seen_by_a)
    seen_by_reader = mirror(s3).pull(reader)
    newer = publish(a, "two")  # another writer switches meanwhile
    mirror(s3).push(a, seen_by_a)
    assert mirror(s3).push(reader, seen_by_reader) == (0, 0)
    after = tmp_path / "after"
    mirror(s3).pull(after)
    assert ModelStore(after, MODEL).current_version() == newer
