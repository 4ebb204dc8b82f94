"""The one canonical time-series shape, checked at every boundary.

Training data is a *long frame* (statsforecast style): one row per sample with
``timestamp`` (UTC), ``signal``, ``value`` and the labels that apply (``cluster``,
``node``, ``mountpoint``; empty string when not applicable), plus ``anomaly`` (the
label of injected anomalies; False for real data). Requests carry a *history*:
``{"timestamps": [...], "values": [...]}``, parsed by :func:`parse_history`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from metrics_ai.errors import InvalidInputError

SIGNALS: tuple[str, ...] = (
    "cpu",
    "memory",
    "io_wait",
    "net_rx",
    "net_tx",
    "disk_used_pct",
    "pod_restarts",
    "network_in",
    "network_out",
    "pod_cpu",
    "pod_mem",
)
#: the physical range of each signal's values: the one place forecasts are bounded by
#: (ratios in [0, 1], percent in [0, 100], rates, counts and bytes >= 0; pod_cpu and pod_mem
#: are shares of the node's capacity, which overcommitted pods can exceed)
SIGNAL_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "cpu": (0.0, 1.0),
        "memory": (0.0, 1.0),
        "io_wait": (0.0, 1.0),
        "net_rx": (0.0, math.inf),
        "net_tx": (0.0, math.inf),
        "disk_used_pct": (0.0, 100.0),
        "pod_restarts": (0.0, math.inf),
        "network_in": (0.0, math.inf),
        "network_out": (0.0, math.inf),
        "pod_cpu": (0.0, math.inf),
        "pod_mem": (0.0, math.inf),
    }
)
LABELS: tuple[str, ...] = ("cluster", "node", "mountpoint")
COLUMNS: tuple[str, ...] = ("timestamp", "signal", "value", *LABELS, "anomaly")


def clip_to_range(values: np.ndarray, signal: str) -> np.ndarray:
    """``values`` clipped to the signal's physical range (:data:`SIGNAL_RANGES`)."""
    lo, hi = SIGNAL_RANGES[signal]
    return np.clip(np.asarray(values, dtype=np.float64), lo, hi)


def empty_frame() -> pd.DataFrame:
    """An empty canonical frame with the right dtypes."""
    return validate_frame(pd.DataFrame({c: [] for c in ("timestamp", "signal", "value")}))


def validate_frame(frame: pd.DataFrame, where: str = "data") -> pd.DataFrame:
    """Coerce a long frame to the canonical dtypes, or raise naming the bad column.

    Args:
        frame: rows with at least ``timestamp``, ``signal`` and ``value``.
        where: how errors name the source (a file path, say).

    Returns:
        A new frame with exactly :data:`COLUMNS`, sorted by labels, signal, time,
        with exact duplicate samples dropped.
    """
    missing = [c for c in ("timestamp", "signal", "value") if c not in frame.columns]
    if missing:
        raise InvalidInputError(where, f"missing column(s) {missing}; expected {list(COLUMNS)}")
    out = pd.DataFrame(index=frame.index)
    out["timestamp"] = _parse_timestamps(frame["timestamp"], f"{where}.timestamp")
    out["signal"] = frame["signal"].astype(object).astype(str)
    unknown = sorted(set(out["signal"].unique()) - set(SIGNALS))
    if unknown:
        raise InvalidInputError(f"{where}.signal", f"unknown signal(s) {unknown}; expected {list(SIGNALS)}")
    values = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    bad = frame["value"].notna() & values.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInputError(f"{where}.value", f"row {row} is not a number: {frame['value'].iloc[row]!r}")
    out["value"] = values
    for label in LABELS:
        out[label] = frame[label].astype(object).fillna("").astype(str) if label in frame.columns else ""
    out["anomaly"] = frame["anomaly"].fillna(False).astype(bool) if "anomaly" in frame.columns else False
    out = out.dropna(subset=["value"])
    out = out[np.isfinite(out["value"].to_numpy())]
    out = out.drop_duplicates(subset=["timestamp", "signal", *LABELS], keep="last")
    out = out.sort_values([*LABELS, "signal", "timestamp"], kind="stable").reset_index(drop=True)
    for column in ("signal", *LABELS):
        out[column] = out[column].astype("category")
    return out


def _parse_timestamps(column: pd.Series, field: str) -> pd.Series:
    """Parse RFC 3339 strings or unix seconds into UTC timestamps."""
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.to_datetime(column, utc=True)
    elif pd.api.types.is_numeric_dtype(column):
        parsed = pd.to_datetime(column.astype("float64"), unit="s", utc=True)
    else:
        try:
            parsed = pd.to_datetime(column, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            numeric = pd.to_numeric(column, errors="coerce")
            if numeric.notna().all():
                parsed = pd.to_datetime(numeric, unit="s", utc=True)
            else:
                raise InvalidInputError(field, "expected RFC 3339 strings or unix seconds") from None
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InvalidInputError(field, f"row {row} has no timestamp")
    return parsed


def entity_series(frame: pd.DataFrame, signal: str, **labels: str) -> pd.Series:
    """One signal of one entity as a time-indexed Series (values, sorted)."""
    mask = frame["signal"] == signal
    for key, value in labels.items():
        mask &= frame[key] == value
    sub = frame.loc[mask, ["timestamp", "value"]]
    return pd.Series(sub["value"].to_numpy(), index=pd.DatetimeIndex(sub["timestamp"]), name=signal)


@dataclass(frozen=True, slots=True)
class History:
    """A request's history: unix seconds (float64, increasing) and finite values."""

    timestamps: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def step(self) -> float:
        """The series' sampling step in seconds (median spacing; 60 for one point)."""
        if len(self) < 2:
            return 60.0
        return float(np.median(np.diff(self.timestamps)))


def parse_history(raw: Any, field: str, min_points: int = 1) -> History:
    """Validate ``{"timestamps": [...], "values": [...]}`` from a request.

    Errors name the field and entry and say what to do, e.g.
    ``history.timestamps[17]: goes back 300 s; timestamps must increase``.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInputError(field, 'expected an object {"timestamps": [...], "values": [...]}')
    extra = sorted(set(raw) - {"timestamps", "values"})
    if extra:
        raise InvalidInputError(field, f"unexpected key(s) {extra}; expected timestamps and values")
    ts_raw, val_raw = raw.get("timestamps"), raw.get("values")
    if not isinstance(ts_raw, list):
        raise InvalidInputError(f"{field}.timestamps", "expected a list of RFC 3339 strings or unix seconds")
    if not isinstance(val_raw, list):
        raise InvalidInputError(f"{field}.values", "expected a list of numbers")
    if len(ts_raw) != len(val_raw):
        raise InvalidInputError(
            field, f"timestamps has {len(ts_raw)} entries but values has {len(val_raw)}; they must match"
        )
    if len(val_raw) < max(1, min_points):
        raise InvalidInputError(f"{field}.values", f"needs at least {max(1, min_points)} points, got {len(val_raw)}")
    values = as_finite_vector(val_raw, f"{field}.values")
    timestamps = parse_timestamps(ts_raw, f"{field}.timestamps")
    steps = np.diff(timestamps)
    if steps.size and not (steps > 0).all():
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        back = -steps[i - 1]
        problem = "repeats the previous one" if back == 0 else f"goes back {back:g} s"
        raise InvalidInputError(f"{field}.timestamps[{i}]", f"{problem}; timestamps must increase")
    return History(timestamps=timestamps, values=values)


def parse_timestamps(raw: Sequence[Any], field: str) -> np.ndarray:
    """Unix seconds (float64) from a list of numbers or RFC 3339 strings."""
    if all(isinstance(t, int | float) and not isinstance(t, bool) for t in raw):
        out = np.asarray(raw, dtype=np.float64)
        if not np.isfinite(out).all():
            raise InvalidInputError(f"{field}[{int(np.flatnonzero(~np.isfinite(out))[0])}]", "not a finite number")
        return out
    for i, t in enumerate(raw):
        if not isinstance(t, str) and not (isinstance(t, int | float) and not isinstance(t, bool)):
            raise InvalidInputError(f"{field}[{i}]", f"expected an RFC 3339 string or unix seconds, got {t!r}")
    try:
        parsed = pd.to_datetime(pd.Series(raw, dtype=object).map(_normalise_ts), utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        for i, t in enumerate(raw):
            try:
                pd.Timestamp(_normalise_ts(t))
            except (ValueError, TypeError, OverflowError):
                raise InvalidInputError(f"{field}[{i}]", f"cannot parse {t!r} as RFC 3339") from None
        raise InvalidInputError(field, "cannot parse timestamps as RFC 3339") from None
    if parsed.isna().any():
        i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InvalidInputError(f"{field}[{i}]", "empty timestamp")
    return parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9


def _normalise_ts(value: Any) -> Any:
    """Unix seconds inside a mixed list become ISO strings so one parser reads all."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return pd.Timestamp(value, unit="s", tz="UTC").isoformat()
    return value


def as_finite_vector(raw: Any, field: str) -> np.ndarray:
    """A 1-D float64 vector of finite numbers, or an error naming the first bad entry."""
    if not isinstance(raw, list | tuple | np.ndarray):
        raise InvalidInputError(field, "expected a list of numbers")
    try:
        arr = np.asarray(raw)
    except (ValueError, TypeError):
        arr = np.asarray(raw, dtype=object)
    if arr.dtype.kind not in "iuf" or arr.ndim != 1:
        for i, v in enumerate(raw):
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise InvalidInputError(f"{field}[{i}]", f"expected a number, got {v!r}")
        raise InvalidInputError(field, "expected a flat list of numbers")
    out = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(out)
    if bad.any():
        raise InvalidInputError(f"{field}[{int(np.flatnonzero(bad)[0])}]", "NaN or infinity where a number is required")
    return out
