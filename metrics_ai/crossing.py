"""Threshold crossings, robust trends and severities shared by disk-eta and io-crisis.

Everything here is NumPy on unix-second timestamps; no fitting happens. The two
families ask the same questions of a series: what is its trend, when does a curve
first reach a threshold, and how urgent is that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from metrics_ai.entities import Key
from metrics_ai.errors import ArtifactError
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History
from metrics_ai.state_format import StateFormat

if TYPE_CHECKING:
    from metrics_ai.families.base import HistoryFetcher

DAY = 86400.0
HOUR = 3600.0

#: severity grades, most urgent first, with the upper bound (days) of each
SEVERITY_DAYS: tuple[tuple[str, float], ...] = (("CRITICAL", 3.0), ("WARNING", 7.0), ("SOON", 30.0))


def severity(eta_days: float | None) -> str:
    """CRITICAL < 3 d, WARNING < 7 d, SOON < 30 d, else OK (None = never = OK)."""
    if eta_days is None or not np.isfinite(eta_days):
        return "OK"
    for name, bound in SEVERITY_DAYS:
        if eta_days < bound:
            return name
    return "OK"


def earliest(*etas: float | None) -> float | None:
    """The earliest of some ETAs (None = never), None when all are None."""
    known = [e for e in etas if e is not None]
    return min(known) if known else None


def bin_means(t: np.ndarray, v: np.ndarray, width: float = HOUR) -> tuple[np.ndarray, np.ndarray]:
    """Means over bins aligned to the absolute ``width`` grid, stamped at the mean time of each bin.

    Empty bins are left out, so the result can have gaps.
    """
    t = np.asarray(t, dtype=np.float64)
    _, inverse = np.unique(np.floor(t / width), return_inverse=True)
    counts = np.bincount(inverse)
    return np.bincount(inverse, weights=t) / counts, np.bincount(
        inverse, weights=np.asarray(v, np.float64)
    ) / counts


def theil_sen(t: np.ndarray, v: np.ndarray, max_points: int = 120) -> float:
    """Median of pairwise slopes (units per second), on at most ``max_points`` points."""
    if t.size < 2:
        return 0.0
    if t.size > max_points:
        idx = np.linspace(0, t.size - 1, max_points).round().astype(int)
        t, v = t[idx], v[idx]
    i, j = np.triu_indices(t.size, k=1)
    dt = t[j] - t[i]
    ok = dt > 0
    return float(np.median((v[j] - v[i])[ok] / dt[ok])) if ok.any() else 0.0


def robust_slope(
    t: np.ndarray, v: np.ndarray, window: float = 2 * DAY, lag: float = DAY, min_pairs: int = 6
) -> float:
    """Recent trend in units per second, insensitive to daily patterns, noise and spikes.

    Why this estimator: disks (and I/O) follow daily rhythms: logs grow all day and
    are rotated at night, backups run at 02:00. A least-squares line over a few hours
    (Prometheus ``predict_linear``) sees the daily climb and raises false alarms. Here
    the last ``window`` (48 h) is reduced to hourly means and the slope is the median
    of the day-over-day differences ``(h[i + 24 h] - h[i]) / 24 h``: any pattern that
    repeats daily cancels exactly, the median ignores a few bad hours, and two days is
    still recent enough to follow a change of pace within a day or two. A step (a
    deploy) counts as growth until it is more than a day old inside the window, then
    leaves the estimate; after 48 h it is gone entirely.

    Shorter histories cannot separate a daily rhythm from a trend: with fewer than
    ``min_pairs`` day-over-day pairs the slope is Theil-Sen over the hourly means
    (8+ hours), else over the raw points.
    """
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if t.size < 2:
        return 0.0
    recent = t >= t[-1] - window
    t, v = t[recent], v[recent]
    keys = np.floor(t / HOUR).astype(np.int64)
    hours, inverse = np.unique(keys - keys[0], return_inverse=True)
    vb = np.bincount(inverse, weights=v) / np.bincount(inverse)
    tb = np.bincount(inverse, weights=t) / np.bincount(inverse)
    lag_h = int(round(lag / HOUR))
    if hours[-1] >= lag_h:
        full = np.full(int(hours[-1]) + 1, np.nan)
        full[hours] = vb
        diffs = full[lag_h:] - full[:-lag_h]
        diffs = diffs[np.isfinite(diffs)]
        if diffs.size >= min_pairs:
            return float(np.median(diffs)) / lag
    if tb.size >= 8:
        return theil_sen(tb, vb)
    return theil_sen(t, v)


def without_one_off_jump(
    t: np.ndarray,
    v: np.ndarray,
    window: float = 2 * DAY,
    width: float = 900.0,
    min_jump: float = 1.0,
    k: float = 8.0,
) -> np.ndarray:
    """``v`` with a single one-off upward jump in the last ``window`` taken out of the trend.

    A deploy that lands a container image, or a one-off copy, lifts a disk in minutes
    and then nothing changes: a trend over a window that holds the jump reads it as
    growth and raises a false alarm for as long as the jump stays in the window. Here
    the last ``window`` is reduced to ``width`` (15-minute) means; a rise between two
    consecutive means above ``max(min_jump, k * robust spread of those rises)`` is a
    jump (adjacent ones merge). When there is exactly one, everything before it is
    raised by its height (less the normal growth over those bins), so the series keeps
    today's level and loses the step. Two or more jumps (a daily backup dump that is
    never deleted) are growth and are left alone, and so are drops (nightly rotation).

    Returns:
        A new array (or ``v`` itself when there is nothing to take out).
    """
    t = np.asarray(t, dtype=np.float64)
    recent = t >= t[-1] - window
    tb, vb = bin_means(t[recent], np.asarray(v, dtype=np.float64)[recent], width)
    d = np.diff(vb)
    if d.size < 8:
        return v
    centre = float(np.median(d))
    spread = 1.4826 * float(np.median(np.abs(d - centre)))
    big = d - centre > max(min_jump, k * spread)
    starts = np.flatnonzero(big & ~np.concatenate(([False], big[:-1])))
    if starts.size != 1:
        return v
    first = int(starts[0])
    last = first + int(np.argmin(np.concatenate((big[first:], [False])))) - 1
    height = float(np.sum(d[first : last + 1]) - centre * (last - first + 1))
    before = (
        t < np.floor(tb[first] / width) * width + width
    )  # up to the end of the bin before the jump
    out = np.array(v, dtype=np.float64)
    out[before] += height
    return out


def linear_eta_seconds(level: float, slope: float, threshold: float) -> float | None:
    """Seconds until ``level + slope * dt`` reaches ``threshold`` (0: already; None: never)."""
    if level >= threshold:
        return 0.0
    if slope <= 0 or not np.isfinite(slope):
        return None
    return (threshold - level) / slope


def curve_crossing(
    curve: Callable[[np.ndarray], np.ndarray],
    t0: float,
    horizon: float,
    threshold: float,
    step: float = HOUR,
    refine: int = 60,
) -> tuple[float | None, float]:
    """First time after ``t0`` that ``curve`` reaches ``threshold``, and its peak.

    The curve is evaluated on a coarse grid (``step``) over ``horizon`` seconds; the
    first bracketing interval is then evaluated at ``refine`` points and the crossing
    interpolated linearly between the two points that straddle it.

    Returns:
        (seconds after ``t0`` or None when not reached within the horizon, the
        curve's maximum over the horizon).
    """
    grid = t0 + np.arange(0.0, horizon + step / 2, step)
    y = np.asarray(curve(grid), dtype=np.float64)
    peak = max(float(np.max(y)), 0.0)  # the signals counted here are never negative
    above = np.flatnonzero(y >= threshold)
    if above.size == 0:
        return None, peak
    k = int(above[0])
    if k == 0:
        return 0.0, peak
    fine_t = np.linspace(grid[k - 1], grid[k], refine + 1)
    fine_y = np.asarray(curve(fine_t), dtype=np.float64)
    j = int(np.flatnonzero(fine_y >= threshold)[0])
    if j == 0:
        return float(fine_t[0] - t0), peak
    y0, y1 = fine_y[j - 1], fine_y[j]
    frac = (threshold - y0) / (y1 - y0) if y1 != y0 else 1.0
    return float(fine_t[j - 1] + frac * (fine_t[j] - fine_t[j - 1]) - t0), peak


def level_offset(
    t: np.ndarray,
    v: np.ndarray,
    fitted: Callable[[np.ndarray], np.ndarray],
    window: float = 6 * HOUR,
) -> float:
    """Median of ``v - fitted(t)`` over the last ``window``: how far the series sits off the curve.

    Added to a saved curve when a request brings fresher data than the fit saw.
    """
    t = np.asarray(t, dtype=np.float64)
    if t.size == 0:
        return 0.0
    recent = t >= t[-1] - window
    return float(np.median(np.asarray(v, dtype=np.float64)[recent] - fitted(t[recent])))


def to_days(seconds: float | None) -> float | None:
    """Seconds -> days, keeping None."""
    return None if seconds is None else float(seconds) / DAY


def drift_curve(
    t: np.ndarray, v: np.ndarray, window: float = 2 * DAY
) -> Callable[[np.ndarray], np.ndarray]:
    """A model-free forecast for series without a fitted model: daily profile plus drift.

    With a day or more of history, the last day's hourly means repeat daily (the
    daily rhythm of I/O and traffic), shifted by the robust trend of
    :func:`robust_slope`; with less, the last hour's median plus that trend.
    """
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    t_last = float(t[-1])
    slope = robust_slope(t, v, window=window)
    if t_last - t[0] >= DAY:
        last_day = t > t_last - DAY
        keys = np.floor(t[last_day] / HOUR).astype(np.int64) % 24
        sums = np.bincount(keys, weights=v[last_day], minlength=24)
        counts = np.bincount(keys, minlength=24)
        profile = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        profile = np.where(np.isnan(profile), np.nanmedian(profile), profile)

        def seasonal(g: np.ndarray) -> np.ndarray:
            g = np.asarray(g, dtype=np.float64)
            days_back = np.maximum(
                np.ceil((g - t_last) / DAY), 0.0
            )  # whole days to the observed hour
            return profile[np.floor(g / HOUR).astype(np.int64) % 24] + slope * DAY * days_back

        return seasonal
    level = float(np.median(v[t >= t_last - HOUR]))
    return lambda g: level + slope * (np.asarray(g, dtype=np.float64) - t_last)


def recent_window(t: np.ndarray, v: np.ndarray, hours: float, step: int) -> History:
    """The last ``hours`` of a series as ``step``-second means (what is kept per entity)."""
    keep = t >= t[-1] - hours * HOUR
    tb, vb = bin_means(t[keep], v[keep], float(step))
    return History(timestamps=tb, values=vb)


def save_recent(path: Path, recents: list[History]) -> None:
    """Concatenated histories with offsets, in one .npz (no pickle)."""
    sizes = np.array([len(h) for h in recents], dtype=np.int64)
    np.savez(
        path,
        t=np.concatenate([h.timestamps for h in recents]) if recents else np.zeros(0),
        v=np.concatenate([h.values for h in recents]) if recents else np.zeros(0),
        offsets=np.concatenate([[0], np.cumsum(sizes)]),
    )


def load_recent(path: Path) -> list[History]:
    """Inverse of :func:`save_recent`."""
    with np.load(path, allow_pickle=False) as data:
        t, v, offsets = data["t"], data["v"], data["offsets"]
    return [
        History(t[a:b].copy(), v[a:b].copy())
        for a, b in zip(offsets[:-1], offsets[1:], strict=True)
    ]


@dataclass(frozen=True)
class TrendState:
    """What a crossing model keeps about one series (a disk, or a node's signal)."""

    prophet: ProphetState | None
    recent: History
    reason: str | None = None


def latest_history(
    fetcher: HistoryFetcher | None,
    signal: str,
    labels: dict[str, str],
    state: TrendState | None,
    hours: float,
    step: int,
    min_points: int,
) -> tuple[History | None, str]:
    """A request without history: the live source's last ``hours``, else the saved recent history.

    Only a series the model knows is fetched (a caller cannot make the predictor query
    Prometheus for names it invents), and the live window is taken only when it has
    ``min_points`` (a short fetch would answer worse than the saved history).

    Returns:
        (history, source): source "prometheus" or "training-state"; (None, "") when neither has it.
    """
    if fetcher is not None and state is not None:
        fetched = fetcher.fetch(signal, labels, hours * HOUR, step)
        if fetched is not None and len(fetched) >= min_points:
            return fetched, "prometheus"
    if state is not None and len(state.recent):
        return state.recent, "training-state"
    return None, ""


def state_format(name: str) -> StateFormat:
    """``<name>.json``'s layout: 2 records its format; 1 (no ``format``) may lack ``cluster``.

    A state saved before the cluster was part of the key loads with cluster ``""``,
    answering as before.
    """
    return StateFormat(f"{name}.json", version=2, upgrades={1: partial(_with_cluster, name)})


def _with_cluster(name: str, body: dict[str, Any]) -> dict[str, Any]:
    for entry in body.get(name, ()):
        if isinstance(entry, dict):
            entry.setdefault("cluster", "")
    return body


def save_states(
    folder: Path, name: str, labels: tuple[str, str, str], config: dict[str, Any], states: Mapping[Key, TrendState]
) -> None:
    """``<name>.json`` (config, Prophet states, reasons) and ``recent.npz`` (recent values)."""
    keys = sorted(states)
    meta = [
        {
            **dict(zip(labels, key, strict=True)),
            "prophet": None if states[key].prophet is None else states[key].prophet.to_dict(),  # type: ignore[union-attr]
            "reason": states[key].reason,
        }
        for key in keys
    ]
    state_format(name).write(folder, {"config": config, name: meta})
    save_recent(folder / "recent.npz", [states[k].recent for k in keys])


def load_states(
    folder: Path, name: str, labels: tuple[str, str, str], model: str
) -> tuple[dict[str, Any], dict[Key, TrendState]]:
    """Inverse of :func:`save_states`: the config dict and the states by key."""
    try:
        doc = state_format(name).read(folder)
        recents = load_recent(folder / "recent.npz")
        states = {
            tuple(str(d[label]) for label in labels): TrendState(
                None if d["prophet"] is None else ProphetState.from_dict(d["prophet"]), recent, d["reason"]
            )
            for d, recent in zip(doc[name], recents, strict=True)
        }
        return doc["config"], states  # type: ignore[return-value]
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{model} state in {folder} is unreadable: {exc}") from exc
