"""The built-in synthetic cluster: seeded, realistic, labelled.

Every signal the five families read, per node (in clusters, and standalone):
host cpu and memory, pod cpu and memory, pod restarts, network in/out, I/O wait,
network rx/tx bytes per second, and used percent per mountpoint. Daily and weekly
seasonality (business-hours peak, quieter weekends), slow trends, AR(1) noise, one
peer-unlike node per cluster, disks of every realistic shape (steady fill, nightly
log-rotation sawtooth, deploy step then flat, accelerating, shrinking, noisy flat),
and anomalies injected at ANOMALY_RATE with their labels in ``anomaly``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics_ai.series import validate_frame
from training.sources.profiles import SyntheticProfile

ANOMALY_SIGNALS: tuple[str, ...] = ("cpu", "memory", "pod_restarts", "network_in", "network_out")
DISK_SHAPES: tuple[str, ...] = ("steady", "sawtooth", "step_flat", "accelerating", "shrinking", "noisy_flat")


@dataclass(frozen=True)
class NodeSpec:
    """One generated node."""

    cluster: str
    node: str
    outlier: bool


def node_specs(profile: SyntheticProfile) -> list[NodeSpec]:
    """The nodes a profile makes; node 1 of each cluster behaves unlike its peers."""
    regions = ["prod-east", "prod-west", "staging", "edge-lab"]
    specs = []
    for c in range(profile.clusters):
        name = regions[c] if c < len(regions) else f"cluster-{c}"
        for n in range(profile.nodes_per_cluster):
            specs.append(NodeSpec(name, f"{name}-worker-{n}", outlier=(n == 1 and profile.nodes_per_cluster >= 3)))
    specs += [NodeSpec("", f"standalone-{i}", False) for i in range(profile.standalone_nodes)]
    return specs


def generate(
    profile: SyntheticProfile,
    days: float,
    step: int = 60,
    anomaly_rate: float = 0.03,
    seed: int = 42,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Generate the canonical long frame for a profile.

    Args:
        profile: clusters, nodes and mountpoints.
        days: length of the window.
        step: sample spacing in seconds.
        anomaly_rate: share of samples (per node) inside labelled anomaly episodes.
        seed: everything is a function of the seed and the window.
        end: last timestamp (default: now, floored to the step).
    """
    end = (end or pd.Timestamp.now(tz="UTC")).floor(f"{step}s")
    n = int(days * 86400 // step)
    index = pd.date_range(end=end, periods=n, freq=f"{step}s")
    hours = np.asarray(index.hour + index.minute / 60.0)
    weekend = np.asarray(index.dayofweek >= 5)
    t_days = np.arange(n) * step / 86400.0
    daily = np.exp(-0.5 * ((hours - 14.0) / 3.5) ** 2)  # business-hours bump, peak 14:00
    weekly = np.where(weekend, 0.6, 1.0)
    frames = []
    for i, spec in enumerate(node_specs(profile)):
        rng = np.random.default_rng([seed, i])
        frames.append(_node_frame(spec, profile, index, daily, weekly, t_days, step, anomaly_rate, rng))
    return validate_frame(pd.concat(frames, ignore_index=True), where="synthetic")


def _ar1(rng: np.random.Generator, n: int, phi: float = 0.9) -> np.ndarray:
    """Unit-variance AR(1) noise."""
    eps = rng.normal(size=n) * np.sqrt(1 - phi**2)
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -phi], eps)


def _node_frame(
    spec: NodeSpec,
    profile: SyntheticProfile,
    index: pd.DatetimeIndex,
    daily: np.ndarray,
    weekly: np.ndarray,
    t_days: np.ndarray,
    step: int,
    anomaly_rate: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    n = len(index)
    load = daily * weekly  # 0..1 activity
    boost = 1.6 if spec.outlier else 1.0
    base_cpu = rng.uniform(0.15, 0.35) * boost
    cpu = base_cpu + rng.uniform(0.15, 0.3) * load + 0.002 * t_days + 0.02 * _ar1(rng, n)
    memory = rng.uniform(0.35, 0.55) * (1.25 if spec.outlier else 1.0) + 0.08 * load + 0.004 * t_days
    memory = memory + 0.01 * _ar1(rng, n, 0.98)
    signals = {
        "cpu": np.clip(cpu, 0.0, 1.0),
        "memory": np.clip(memory, 0.0, 1.0),
        "pod_cpu": np.clip(cpu * rng.uniform(0.7, 0.85) + 0.01 * _ar1(rng, n), 0.0, 1.0),
        "pod_mem": np.clip(memory * rng.uniform(0.75, 0.9) * boost + 0.01 * _ar1(rng, n), 0.0, 1.0),
        "pod_restarts": np.abs(0.3 + 0.15 * _ar1(rng, n, 0.7)) * boost,
        "network_in": 100.0 * (0.6 + 0.8 * load) * boost + 8.0 * _ar1(rng, n),
        "network_out": 80.0 * (0.6 + 0.8 * load) * boost + 6.0 * _ar1(rng, n),
    }
    # I/O wait and NIC bytes: one node in five trends towards its crisis threshold.
    trending = rng.uniform() < 0.2
    io = 0.03 + 0.05 * load + 0.01 * _ar1(rng, n) + (0.035 * t_days if trending else 0.0)
    signals["io_wait"] = np.clip(io, 0.0, 1.0)
    rx_base = rng.uniform(5e7, 2e8)
    rx = rx_base * (0.5 + load) + 0.05 * rx_base * _ar1(rng, n) + (6e7 * t_days if trending else 0.0)
    signals["net_rx"] = np.maximum(rx, 0.0)
    signals["net_tx"] = np.maximum(0.6 * rx + 0.03 * rx_base * _ar1(rng, n), 0.0)
    signals["network_in"] = np.maximum(signals["network_in"], 0.0)
    signals["network_out"] = np.maximum(signals["network_out"], 0.0)

    labels = inject_anomalies(signals, anomaly_rate, step, rng)
    parts = []
    for name, values in signals.items():
        parts.append(
            pd.DataFrame(
                {
                    "timestamp": index,
                    "signal": name,
                    "value": values,
                    "cluster": spec.cluster,
                    "node": spec.node,
                    "mountpoint": "",
                    "anomaly": labels if name in ANOMALY_SIGNALS else False,
                }
            )
        )
    for m, mount in enumerate(profile.mountpoints):
        shape = DISK_SHAPES[int(rng.integers(len(DISK_SHAPES)))] if m else "steady"
        parts.append(
            pd.DataFrame(
                {
                    "timestamp": index,
                    "signal": "disk_used_pct",
                    "value": disk_usage(shape, t_days, index, rng),
                    "cluster": spec.cluster,
                    "node": spec.node,
                    "mountpoint": mount,
                    "anomaly": False,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def inject_anomalies(
    signals: dict[str, np.ndarray], rate: float, step: int, rng: np.random.Generator
) -> np.ndarray:
    """Spikes, drops and bursts on 1-3 of the anomaly-detector metrics; returns labels.

    Modifies ``signals`` (equal-length arrays keyed by :data:`ANOMALY_SIGNALS`) in place;
    also used on real windows by the hybrid source.
    """
    n = len(signals["cpu"])
    labels = np.zeros(n, dtype=bool)
    target = int(rate * n)
    per_sample = max(1, 300 // step)  # episodes last 1-6 anomaly-detector samples (5 min each)
    while labels.sum() < target:
        length = int(rng.integers(1, 7)) * per_sample
        start = int(rng.integers(0, max(1, n - length)))
        span = slice(start, start + length)
        labels[span] = True
        for name in rng.choice(ANOMALY_SIGNALS, size=int(rng.integers(1, 4)), replace=False):
            x = signals[name]
            scale = float(np.std(x)) + 1e-9
            kind = rng.integers(3)
            if name == "pod_restarts":
                x[span] += rng.uniform(3, 10)  # a crash loop
            elif kind == 0:
                x[span] += rng.uniform(4, 8) * scale
            elif kind == 1:
                x[span] = np.maximum(x[span] - rng.uniform(4, 8) * scale, 0.0)
            else:
                x[span] *= rng.uniform(2.0, 3.5)
            if name in ("cpu", "memory"):
                np.clip(x, 0.0, 1.0, out=x)
    return labels


def disk_usage(shape: str, t_days: np.ndarray, index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Used percent of one filesystem following a named realistic shape."""
    n = len(t_days)
    noise = 0.05 * rng.normal(size=n)
    start = rng.uniform(30, 60)
    if shape == "steady":
        usage = start + rng.uniform(0.5, 3.0) * t_days
    elif shape == "sawtooth":  # logs grow all day, rotation at 00:00 frees most of it
        frac_day = np.asarray(index.hour + index.minute / 60.0) / 24.0
        usage = start + 0.3 * t_days + rng.uniform(5, 12) * frac_day
    elif shape == "step_flat":  # a deploy lands a big image, then nothing changes
        cut = t_days[-1] * rng.uniform(0.3, 0.7)
        usage = start + np.where(t_days > cut, rng.uniform(10, 20), 0.0)
    elif shape == "accelerating":
        usage = start + 0.4 * t_days + 0.25 * t_days**2
    elif shape == "shrinking":
        usage = start + 20 - 1.5 * t_days
    else:  # noisy_flat
        usage = start + 1.5 * rng.normal(size=n)
    return np.clip(usage + noise, 0.0, 100.0)
