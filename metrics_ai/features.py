"""Feature engineering of the anomaly-detector decision record, in one place.

Per metric: the raw value, rolling mean / std / min / max over ``window`` samples
and lags 1, 3 and 6. Training and serving call the same function on the same
shape (consecutive rows of one entity), so the features can never drift apart.
With fewer rows than the window the statistics are *expanding* (over the rows so
far) and a lag that reaches before the first row repeats the first row: short
requests are answered, never refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATS: tuple[str, ...] = ("value", "mean", "std", "min", "max")


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Shape of the rolling features (ADR defaults)."""

    window: int = 24
    lags: tuple[int, ...] = (1, 3, 6)

    @property
    def per_metric(self) -> int:
        """Features per metric."""
        return len(STATS) + len(self.lags)

    def names(self, metrics: tuple[str, ...] | list[str]) -> list[str]:
        """Feature names in column order: metric-major, then statistic."""
        kinds = [*STATS, *(f"lag{lag}" for lag in self.lags)]
        return [f"{m}__{k}" for m in metrics for k in kinds]


def rolling_features(rows: np.ndarray, spec: FeatureSpec = FeatureSpec()) -> np.ndarray:
    """Features for consecutive samples of one entity.

    Args:
        rows: ``[N, M]`` raw metric values, oldest first (finite floats).
        spec: window and lags.

    Returns:
        ``[N, M * spec.per_metric]`` float64, metric-major (see :meth:`FeatureSpec.names`).
    """
    x = np.asarray(rows, dtype=np.float64)
    n, m = x.shape
    k = spec.per_metric
    out = np.empty((n, m, k), dtype=np.float64)
    if n == 1:  # the common single-row request: every statistic is the value itself, std 0
        out[:] = x[:, :, None]
        out[:, :, 2] = 0.0
        return out.reshape(n, m * k)
    out[:, :, 0] = x
    w = spec.window
    counts = np.minimum(np.arange(1, n + 1), w).astype(np.float64)[:, None]
    # Window sums via cumulative sums of values centred on the column mean (stable).
    centre = x.mean(axis=0)
    xc = x - centre
    c1 = np.cumsum(np.vstack([np.zeros((1, m)), xc]), axis=0)
    c2 = np.cumsum(np.vstack([np.zeros((1, m)), xc * xc]), axis=0)
    hi = np.arange(1, n + 1)
    lo = np.maximum(hi - w, 0)
    s1 = c1[hi] - c1[lo]
    s2 = c2[hi] - c2[lo]
    mean_c = s1 / counts
    out[:, :, 1] = mean_c + centre
    out[:, :, 2] = np.sqrt(np.maximum(s2 / counts - mean_c * mean_c, 0.0))
    out[:, :, 3] = _window_extreme(x, w, np.minimum, np.inf)
    out[:, :, 4] = _window_extreme(x, w, np.maximum, -np.inf)
    idx = np.arange(n)
    for j, lag in enumerate(spec.lags):
        out[:, :, len(STATS) + j] = x[np.maximum(idx - lag, 0)]
    return out.reshape(n, m * k)


def _window_extreme(x: np.ndarray, w: int, op: np.ufunc, pad: float) -> np.ndarray:
    """Trailing-window min or max by doubling: O(N log w), no [N, w] temporary."""
    n = x.shape[0]
    padded = np.vstack([np.full((w - 1, x.shape[1]), pad), x])
    acc, span = padded, 1
    while span * 2 <= w:
        nxt = acc.copy()
        op(acc[span:], acc[:-span], out=nxt[span:])
        acc, span = nxt, span * 2
    if span < w:  # two overlapping power-of-two spans cover the window
        acc = op(acc[w - span :], acc[: acc.shape[0] - (w - span)])
        return acc[-n:]
    return acc[-n:]
