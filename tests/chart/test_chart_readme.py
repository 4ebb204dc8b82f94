"""The chart README exists and its values tables are generated from values.yaml (never stale)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from types import ModuleType

from tests.chart.conftest import CHART_DIR, REPO


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chart_readme", REPO / "scripts" / "chart_readme.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_match_values_yaml() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/chart_readme.py", "--check"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_every_value_has_a_row_with_its_default() -> None:
    readme = (CHART_DIR / "README.md").read_text()
    values = (CHART_DIR / "values.yaml").read_text()
    for row in ("| `s3.enabled` |", "| `prometheus.queries` |", "| `persistence.accessModes` |"):
        assert row in readme
    assert (
        '| `predictor.image.registry` | Registry of the predictor image (built from Dockerfile.serve) | `"quay.io"` |'
        in readme
    )
    assert readme.count("\n| `") == len(re.findall(r"^\s*## @param \S+ ", values, flags=re.MULTILINE))


def test_the_check_catches_a_stale_table() -> None:
    generator = _generator()
    readme = (CHART_DIR / "README.md").read_text()
    values = (CHART_DIR / "values.yaml").read_text()
    assert generator.render(readme, values) == readme
    changed = values.replace("## @param s3.region Region", "## @param s3.region The region")
    assert generator.render(readme, changed) != readme


def test_readme_links_the_walk_through() -> None:
    readme = (CHART_DIR / "README.md").read_text()
    assert "](../../docs/openshift.md)" in readme and (REPO / "docs" / "openshift.md").is_file()
    assert "helm test" in readme
