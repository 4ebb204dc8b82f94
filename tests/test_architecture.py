"""The layering, as code: who may import whom, no import circles, no heavy library when serving.

``training -> metrics_ai <- serving`` and ``alerting -> metrics_ai``: the shared core imports
none of the sides, the sides import none of each other. Every import counts (top level,
inside functions, under ``TYPE_CHECKING``), read from the source, so a lazy import that
would only fail in the other image is caught here too.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: product package -> the first-party packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "metrics_ai": set(),
    "serving": {"metrics_ai"},
    "training": {"metrics_ai"},
    "alerting": {"metrics_ai"},
}
#: libraries the predictor image does not ship (the training job's, and Ray)
HEAVY = ("tensorflow", "keras", "prophet", "statsmodels", "ray")
#: the product packages in this tree (alerting/ joins the contract when it appears)
PRESENT = sorted(p for p in ALLOWED if (REPO / p / "__init__.py").is_file())


def modules(package: str) -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module of ``package`` in the repository."""
    for path in sorted((REPO / package).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imported(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports anywhere in its source, as dotted names.

    ``from pkg import x`` counts as ``pkg.x`` when that is a module of the repository,
    else as ``pkg``; relative imports are resolved against ``name``.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if _is_module(candidate) else base)
    return found


def _is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    """First-party import graph over every product package present."""
    nodes = {name: path for package in PRESENT for name, path in modules(package)}
    return {name: {m for m in imported(name, path) if m in nodes} for name, path in nodes.items()}


@pytest.mark.parametrize("package", PRESENT)
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    first_party = set(ALLOWED)
    wrong = sorted(
        f"{name} imports {target}"
        for name, path in modules(package)
        for target in imported(name, path)
        if (top := target.split(".")[0]) in first_party and top != package and top not in ALLOWED[package]
    )
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    edges = graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not circles, "\n".join(" -> ".join(c) for c in circles)


def test_the_contract_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The scanner is not vacuous: it reads imports inside functions and TYPE_CHECKING blocks."""
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from training.executor import X\n"
        "def f():\n    import serving.model\n    from . import sibling\n",
        encoding="utf-8",
    )
    found = imported("metrics_ai.m", source)
    assert {"training.executor", "serving.model", "metrics_ai"} <= found


def test_serving_path_loads_no_training_library() -> None:
    """Everything the predictor process imports, in a fresh interpreter, leaves the heavy libraries out."""
    code = (
        "import sys\n"
        "import serving.cli, serving.server, serving.errors, serving.reload\n"
        "import kserve.model_server\n"
        "import metrics_ai.fetch\n"
        "from metrics_ai.families import FAMILIES\n"
        "assert FAMILIES\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY + ('training', 'alerting')!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]", done.stdout


def _product_modules() -> list[str]:
    """Every importable module of the product packages (``__main__`` runs its CLI: left out)."""
    return [name for package in PRESENT for name, _ in modules(package) if not name.endswith("__main__")]


#: imports each module named on the command line as if it were the first product import:
#: product modules are dropped from ``sys.modules`` before each one (third-party libraries
#: stay loaded, so the walk takes seconds, not an interpreter per module)
_FIRST_IMPORT = """
import importlib, json, sys
roots = tuple(sys.argv[1].split(","))
failed = []
for name in sys.argv[2:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in roots]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {exc!r}")
print(json.dumps(failed))
"""


def test_every_module_imports_first() -> None:
    """Importing any product module first works: no runtime import circle.

    The graph test above sees module-to-module edges; a circle through a package's
    ``__init__`` (a module imported before its package finished importing) only shows
    when that module is the first one imported, so each is imported with every product
    module unloaded (this caught ``metrics_ai.forecast_state`` before resource-forecast
    became a package).
    """
    names = _product_modules()
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_IMPORT, ",".join(PRESENT), *names],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(names) > 100
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
