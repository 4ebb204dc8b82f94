"""``--source files``: long-format CSV or Parquet (README, "Command line"), validated on read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metrics_ai.series import validate_frame

SUFFIXES = (".csv", ".parquet", ".pq", ".csv.gz")


def read_files(path: Path) -> pd.DataFrame:
    """Read one file or every CSV/Parquet file in a folder into the canonical frame."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.name.endswith(SUFFIXES)) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"{path}: no {', '.join(SUFFIXES)} files")
    frames = []
    for file in files:
        if not file.exists():
            raise FileNotFoundError(f"{file}: no such file")
        raw = pd.read_parquet(file) if file.suffix in (".parquet", ".pq") else pd.read_csv(file)
        frames.append(validate_frame(raw, where=str(file)))
    return validate_frame(pd.concat(frames, ignore_index=True), where=str(path))
