"""docs/api.md runs: every example against a real predictor, every answer shaped as the page shows.

Each fenced block marked ``example=ID`` (bash with curl, or Python) is run with the
predictor's ports put in for ``localhost:8080`` / ``localhost:8081``; its output (one JSON
value a line) must have the shape of the block marked ``answer=ID``: the same keys, the
same types (a number may be ``null``, the page's lists may be shortened), the same status
codes. The V2 tensor tables must match what each family declares (and serves as metadata).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from metrics_ai.families import FAMILIES, MODEL_NAMES
from serving.tensor_specs import input_specs, output_specs
from tests.conftest import Predictor

API = Path(__file__).resolve().parents[2] / "docs" / "api.md"
#: keys a prediction may or may not carry, depending on the data (why there is no answer, what was done)
OPTIONAL_KEYS = frozenset({"note", "reason"})
FENCE = re.compile(r"^```(\w+)[ \t]+(example|answer)=([\w-]+)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Example:
    """One runnable block of the page and the answer it documents."""

    name: str
    language: str
    code: str
    answer: str


def examples(text: str) -> list[Example]:
    """The page's examples, each paired with its answer block."""
    blocks: dict[tuple[str, str], tuple[str, str]] = {}
    for language, kind, name, body in FENCE.findall(text):
        assert (kind, name) not in blocks, f"two blocks marked {kind}={name}"
        blocks[(kind, name)] = (language, body)
    names = [name for kind, name in blocks if kind == "example"]
    unanswered = sorted({name for name in names if ("answer", name) not in blocks})
    orphans = sorted({name for kind, name in blocks if kind == "answer" and ("example", name) not in blocks})
    assert not unanswered and not orphans, f"examples without answers {unanswered}, answers without examples {orphans}"
    return [Example(n, blocks[("example", n)][0], blocks[("example", n)][1], blocks[("answer", n)][1]) for n in names]


EXAMPLES = examples(API.read_text(encoding="utf-8"))


def json_lines(text: str) -> list[Any]:
    """Each JSON value of ``text``: one per line, or the whole text when it is one value over several lines."""
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        decoder, out, i = json.JSONDecoder(), [], 0
        while i < len(text):
            if text[i].isspace():
                i += 1
                continue
            value, i = decoder.raw_decode(text, i)
            out.append(value)
        return out


def kind(value: Any) -> str:
    """The JSON type of ``value``, numbers as one kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_shaped_like(documented: Any, got: Any, where: str = "answer") -> None:
    """``got`` has the keys and types of ``documented`` (numbers may be null; lists may be shortened)."""
    want, have = kind(documented), kind(got)
    if {want, have} <= {"number", "null"}:
        return
    assert want == have, f"{where}: the page shows a {want}, the server answered a {have}: {got!r}"[:500]
    if isinstance(documented, dict):
        missing = set(documented) - set(got) - OPTIONAL_KEYS
        extra = set(got) - set(documented) - OPTIONAL_KEYS
        assert not missing and not extra, f"{where}: keys not answered {sorted(missing)}, not shown {sorted(extra)}"
        for key in set(documented) & set(got):
            assert_shaped_like(documented[key], got[key], f"{where}.{key}")
    elif isinstance(documented, list) and documented and got:
        for i, item in enumerate(got):
            assert_shaped_like(documented[min(i, len(documented) - 1)], item, f"{where}[{i}]")


@pytest.fixture(scope="module")
def server(all_models: Path) -> Iterator[Predictor]:
    """The demo server: all five models, no Prometheus (history from the request or the training state)."""
    predictor = Predictor(all_models, env={"PROMETHEUS_URL": "", "METRICS_AI_PROMETHEUS_URL": ""})
    try:
        predictor.wait_ready()
        yield predictor
    finally:
        predictor.stop()


def run(example: Example, server: Predictor, tmp_path: Path) -> str:
    """Run one example against ``server``; its standard output."""
    code = example.code.replace("localhost:8080", f"127.0.0.1:{server.http_port}")
    code = code.replace("localhost:8081", f"127.0.0.1:{server.grpc_port}")
    if example.language == "bash":
        command = ["bash", "-euo", "pipefail", "-c", code]
    else:
        assert example.language == "python", f"{example.name}: cannot run {example.language}"
        (tmp_path / "example.py").write_text(code, encoding="utf-8")
        command = [sys.executable, str(tmp_path / "example.py")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert done.returncode == 0, f"{example.name} failed ({done.returncode}):\n{done.stderr}\n{done.stdout}"
    return done.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_answers_as_documented(example: Example, server: Predictor, tmp_path: Path) -> None:
    documented, got = json_lines(example.answer), json_lines(run(example, server, tmp_path))
    assert len(got) == len(documented), f"{example.name}: {len(got)} values printed, the page shows {len(documented)}"
    for i, (want, have) in enumerate(zip(documented, got, strict=True)):
        if isinstance(want, int) and not isinstance(want, bool):  # a status code printed by curl -w
            assert have == want, f"{example.name}: status {have}, the page shows {want}"
        assert_shaped_like(want, have, f"{example.name}[{i}]")


def test_every_model_has_v1_and_v2_rest_examples_and_grpc_is_shown() -> None:
    code = "\n".join(e.code for e in EXAMPLES)
    for name in MODEL_NAMES:
        assert f"/v1/models/{name}:predict" in code, f"no V1 example for {name}"
        assert f"/v2/models/{name}/infer" in code, f"no V2 REST example for {name}"
    assert any("tritonclient.grpc" in e.code and "localhost:8081" in e.code for e in EXAMPLES), "no gRPC example"


def model_sections(text: str) -> dict[str, str]:
    """``## <model>`` heading -> that section's text."""
    parts = re.split(r"^## (\S+)\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_v2_tables_match_the_declared_tensors(model: str) -> None:
    """Each tensor row (``| input | `name` | DATATYPE | [shape] |``) is what the family declares, and all of them."""
    section = model_sections(API.read_text(encoding="utf-8"))[model]
    rows = re.findall(r"^\| (input|output) \| `(\w+)` \| (\w+) \| \[([-\d, ]+)\] \|", section, re.M)
    shown = {(role, name): (datatype, tuple(int(d) for d in shape.split(","))) for role, name, datatype, shape in rows}
    family = FAMILIES[model]
    declared = {("input", n): (t.datatype, t.shape) for n, t in input_specs(family).items()}
    declared |= {("output", n): (t.datatype, t.shape) for n, t in output_specs(family).items()}
    assert shown == declared


def test_shape_check_catches_drift() -> None:
    """The comparison fails on a renamed key, a changed type and a missing field: it is not vacuous."""
    page = {"predictions": [{"score": 0.5, "severity": "OK", "eta_days": {"linear": None}}]}
    assert_shaped_like(page, {"predictions": [{"score": 0.1, "severity": "SOON", "eta_days": {"linear": 3.0}}]})
    for drifted in (
        {"predictions": [{"score": 0.1, "severity": "OK", "eta_days": {"linear_days": 3.0}}]},
        {"predictions": [{"score": "0.1", "severity": "OK", "eta_days": {"linear": 3.0}}]},
        {"predictions": [{"score": 0.1, "eta_days": {"linear": 3.0}}]},
    ):
        with pytest.raises(AssertionError):
            assert_shaped_like(page, drifted)
