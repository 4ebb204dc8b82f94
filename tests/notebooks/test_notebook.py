"""notebooks/anomaly-detector.ipynb runs end to end on the tiny profile, so it cannot rot.

Executed with nbclient in a kernel of this interpreter (the venv's: ipykernel's spec written
for ``sys.executable`` and put first on JUPYTER_PATH, so no other ``python3`` kernel installed
on the machine is picked), in ``tmp_path``, publishing into ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from metrics_ai.artifacts import ModelStore
from tests.conftest import REPO

NOTEBOOK = REPO / "notebooks" / "anomaly-detector.ipynb"
MODEL = "anomaly-detector"
#: folders whose contents a run may change (caches, bytecode, the venv); everything else is the source tree
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"}


def source_tree() -> set[Path]:
    """Every path under the repository, less caches and the venv."""
    found: set[Path] = set()
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        found.update(Path(root, name) for name in [*dirs, *files])
    return found


def with_parameters(nb: Any, **values: str) -> None:
    """Insert a cell setting ``values`` after the cell tagged ``parameters`` (papermill's convention)."""
    [index] = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))


def text_of(cell: Any) -> str:
    """A code cell's stream output."""
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata.kernelspec.name == "python3"


def test_notebook_trains_publishes_and_predicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jupyter = tmp_path / "jupyter"
    write_kernel_spec(jupyter / "kernels" / "python3")  # argv: this interpreter, -m ipykernel_launcher
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == sys.executable  # the kernel nbclient starts
    out = tmp_path / "models"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with_parameters(nb, PROFILE="tiny", OUT_DIR=str(out))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
    }
    before = source_tree()

    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)

    assert source_tree() == before, "the notebook wrote into the source tree"
    cells = {c.get("id"): c for c in nb.cells}
    assert f"out={out}" in text_of(cells["setup"])
    store = ModelStore(out, MODEL)
    manifest, _ = store.verify()
    assert manifest.data.source == "synthetic:tiny" and manifest.entities
    assert store.versions() == [manifest.version]
    assert f"gate: {manifest.gate}" in text_of(cells["evaluate"])  # the figures the gate held
    assert f"version {manifest.version}: current" in text_of(cells["publish"])
    answer = json.loads(text_of(nb.cells[-1]))
    assert answer["model_version"] == manifest.version
    predictions = answer["predictions"]
    assert len(predictions) == 3
    assert all(isinstance(p["is_anomaly"], bool) and isinstance(p["score"], float) for p in predictions)
