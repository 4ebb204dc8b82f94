"""Report figures of resource-forecast: history, split, components, ensemble, actuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from metrics_ai.families.forecast.components import COMPONENTS
from training.families.forecast.backtest import Backtest, Fitted

_COLOURS = {**{c.name: c.colour for c in COMPONENTS}, "ensemble": "tab:red"}


def backtest_figure(fit: Fitted, bt: Backtest, days_before: float = 1.0) -> Figure:
    """The last ``days_before`` of training and the test tail, with each component's
    forecast at the end of the horizon (made ``H`` steps earlier) and the 80 % band."""
    d, h = fit.data, fit.horizon
    split_t = d.t[fit.n_train - 1]
    show = d.t >= split_t - days_before * 86400
    when = lambda t: pd.to_datetime(t, unit="s", utc=True)  # noqa: E731
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(when(d.t[show]), d.y[show], color="0.55", lw=0.8, label="actual")
    target_t = when(d.t[bt.test_cuts + h])
    ens = bt.test_forecasts["ensemble"][:, -1]
    ax.fill_between(
        target_t,
        ens - bt.test_halfwidth[:, -1],
        ens + bt.test_halfwidth[:, -1],
        color="tab:red",
        alpha=0.12,
        label=f"80 % interval (coverage {bt.metrics.get('coverage_80', float('nan')):.2f})",
    )
    for name, f in bt.test_forecasts.items():
        mae = bt.metrics.get(f"mae_{name}", np.nan)
        ax.plot(
            target_t,
            f[:, -1],
            color=_COLOURS.get(name, "k"),
            lw=1.6 if name == "ensemble" else 0.9,
            alpha=1.0 if name == "ensemble" else 0.8,
            label=f"{name} (MAE {mae:.3g})",
        )
    ax.axvline(when(split_t), color="k", ls="--", lw=1, label="train | test")
    ax.set_title(
        f"resource-forecast {d.signal} / {d.entity}: {h}-step-ahead backtest "
        f"(naive MAE {bt.metrics.get('mae_naive', np.nan):.3g})"
    )
    ax.legend(loc="upper left", fontsize=7, ncol=3)
    ax.set_ylabel(d.signal)
    return fig


def pick_for_figures(fits: list[Fitted], limit: int = 4) -> list[Fitted]:
    """The first series of each signal, up to ``limit``."""
    seen: dict[str, Fitted] = {}
    for f in fits:
        seen.setdefault(f.data.signal, f)
    return list(seen.values())[:limit]
