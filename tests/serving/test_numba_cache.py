"""Issue 18, finding 9: both forest models load where Numba can write no cache anywhere.

Run as OpenShift runs the image (an arbitrary UID, read-only root, no HOME of its own): every
place Numba looks for a cache directory (NUMBA_CACHE_DIR, ``__pycache__`` beside the source,
``~/.cache``) is made unusable by putting a plain file where the directory would be, which
stops root as well as any other user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _read_only_copy(dest: Path) -> Path:
    """The serving code where no ``__pycache__`` directory can be created."""
    for package in ("metrics_ai", "serving"):
        shutil.copytree(REPO / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
        for folder in [dest / package, *(p for p in (dest / package).rglob("*") if p.is_dir())]:
            (folder / "__pycache__").write_text("not a directory")
    return dest


def test_forest_models_load_without_any_writable_numba_cache(tmp_path: Path, basic_models: Path) -> None:
    code = _read_only_copy(tmp_path / "code")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".cache").write_text("not a directory")
    blocked = tmp_path / "blocked"
    blocked.write_text("not a directory")
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "NUMBA_CACHE_DIR")}
    env.update(
        PYTHONPATH=str(code),
        HOME=str(home),
        NUMBA_CACHE_DIR=str(blocked / "numba"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    cmd = [sys.executable, "-m", "serving", "--model-dir", str(basic_models), "--models",
           "anomaly-detector,node-outliers", "--dry-run"]  # fmt: skip
    done = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "anomaly-detector: ready" in out and "node-outliers: ready" in out, out
    assert out.count("no writable Numba cache directory") == 1, out  # said once, not per model
    assert not list(code.rglob("*.nbi")), "nothing was cached"
