"""PNG figures of the benchmark results (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def throughput_plot(results: Mapping[tuple[str, str, str, int], Mapping[str, float]], path: Path) -> Path:
    """Requests/s (single) and instances/s (batch) against clients, one line per model, V1 and V2."""
    sizes = sorted({k[2] for k in results if k[2].isdigit() and k[2] != "1"}, key=int)
    batch = sizes[0] if sizes else "1"
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    for row, proto in enumerate(("V1", "V2")):
        for col, size in enumerate(("1", batch)):
            ax = axes[row][col]
            models = list(dict.fromkeys(k[0] for k in results if k[1] == proto and k[2] == size))
            for model in models:
                points = sorted((k[3], v["rps"] * int(size)) for k, v in results.items()
                                if k[:3] == (model, proto, size))
                style = "--" if model in ("noop", "sklearn-iforest") else "-"
                ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", label=model)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks([1, 8, 32], ["1", "8", "32"])
            unit = "requests/s" if size == "1" else f"instances/s (batch {size})"
            ax.set_title(f"{proto}, {'single instance' if size == '1' else f'batch of {size}'}")
            ax.set_ylabel(unit)
            ax.grid(True, which="both", alpha=0.3)
            if row == 1:
                ax.set_xlabel("concurrent keep-alive clients")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Throughput against concurrent clients (median of interleaved rounds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def grouped_bars(
    groups: Sequence[str], series: Mapping[str, Sequence[float | None]], title: str, ylabel: str, path: Path,
    log: bool = False, note: str | None = None,
) -> Path:
    """Bars per group (x) for each named series (colour); None is left out."""
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        xs = [g + i * width for g, v in enumerate(values) if v is not None]
        ax.bar(xs, [v for v in values if v is not None], width, label=name)
    ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], list(groups))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    if note:
        fig.text(0.01, 0.01, note, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lines(
    x: Sequence[float], series: Mapping[str, Sequence[float]], title: str, xlabel: str, ylabel: str, path: Path,
    **kwargs: Any,
) -> Path:
    """Simple line plot of several named series over one x."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for name, ys in series.items():
        ax.plot(list(x), list(ys), marker="o", label=name, **kwargs)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
