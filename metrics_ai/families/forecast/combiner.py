"""resource-forecast's ensemble: the per-series gate, the combiner, and the signal pools' weights.

:class:`Combiner` is the one place that knows the weighting schemes (``ForecastConfig.weighting``):
how calibration errors become per-step weights and how the components that ran are
pooled into one forecast. The backtest scores every scheme with it, the predictor and the
update answer with the model's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

#: the weighting schemes (``ForecastConfig.weighting``, ENSEMBLE_WEIGHTING)
WEIGHTINGS: tuple[str, ...] = ("equal", "backtest", "median")


def gate_components(errors: Mapping[str, float], naive: float, k: float) -> dict[str, float]:
    """Components not to serve for a series: calibration MAE over ``k`` times the naive MAE.

    Args:
        errors: component -> MAE on the series' calibration cuts.
        naive: the last-value naive MAE on the same cuts.
        k: the gate (``ForecastConfig.gate_k``).

    Returns:
        component -> its MAE / naive MAE, for each gated one. The best component is never
        gated: a series always keeps at least one.
    """
    if not errors or naive <= 0:
        return {}
    ratios = {name: mae / naive for name, mae in errors.items()}
    best = min(ratios, key=ratios.__getitem__)
    return {name: r for name, r in ratios.items() if r > k and name != best}


def served(forecasts: dict[str, np.ndarray | None], gated: Mapping[str, float]) -> dict[str, np.ndarray | None]:
    """The forecasts with every gated component set to None (not served, not combined)."""
    return {name: None if name in gated else f for name, f in forecasts.items()}


def combine(
    forecasts: Mapping[str, np.ndarray | None],
    weights: Mapping[str, np.ndarray],
    method: str = "weighted",
) -> np.ndarray:
    """The ensemble of the components that ran.

    Args:
        forecasts: component -> ``[N, H]`` (None: did not run).
        weights: component -> ``[H]`` non-negative weights (``"weighted"``), renormalised
            per step over the components that ran (an all-zero step: plain mean).
        method: ``"weighted"`` (mean with ``weights``) or ``"median"`` (per point median
            of the components; with two components, their mean).
    """
    ran = [(name, np.asarray(f, dtype=np.float64)) for name, f in forecasts.items() if f is not None]
    if not ran:
        raise ValueError("no component ran")
    stack = np.stack([f for _, f in ran])  # [C, N, H]
    if method == "median":
        return np.median(stack, axis=0)
    w = np.stack([np.asarray(weights[name], dtype=np.float64) for name, _ in ran])  # [C, H]
    den = w.sum(axis=0)
    w = np.where(den > 0, w / np.where(den > 0, den, 1.0), 1.0 / len(ran))
    return np.einsum("ch,cnh->nh", w, stack)


def inverse_mae_weights(errors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per horizon step, weights proportional to 1 / MAE of each component."""
    inv = {k: 1.0 / np.maximum(np.mean(np.abs(e), axis=0), 1e-12) for k, e in errors.items()}
    total = sum(inv.values())
    return {k: v / total for k, v in inv.items()}


@dataclass(frozen=True, slots=True)
class Combiner:
    """One weighting scheme: calibrates weights and pools the components' forecasts.

    Attributes:
        weighting: ``equal`` (mean, the original), ``backtest`` (inverse calibration MAE
            per step) or ``median`` (per point median of the components).
    """

    weighting: str

    def __post_init__(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"unknown weighting {self.weighting!r}; expected one of {list(WEIGHTINGS)}")

    @property
    def method(self) -> str:
        """How :func:`combine` pools: ``median`` or ``weighted``."""
        return "median" if self.weighting == "median" else "weighted"

    def calibrate(self, errors: Mapping[str, np.ndarray], horizon: int) -> dict[str, np.ndarray]:
        """Per-step weights of each component from its calibration errors ``[N, H]``."""
        if self.weighting == "backtest":
            return inverse_mae_weights(errors)
        return {k: np.ones(horizon) for k in errors}

    def combine(self, forecasts: Mapping[str, np.ndarray | None], weights: Mapping[str, np.ndarray]) -> np.ndarray:
        """The ensemble of the components that ran (:func:`combine` with this scheme's method)."""
        return combine(forecasts, weights, self.method)


def pool_weights(members: Iterable[Mapping[str, np.ndarray]], names: Iterable[str]) -> dict[str, np.ndarray]:
    """A signal pool's weights: per component in ``names``, the mean over the members that have it.

    A component may be gated or unfitted for some series; the mean is over those that have it.
    """
    rows = list(members)
    return {k: np.mean(ws, axis=0) for k in names if (ws := [w[k] for w in rows if k in w])}
