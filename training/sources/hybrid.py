"""``--source hybrid``: real Prometheus windows mixed with synthetic ones (decision record).

HYBRID_REAL_RATIO is the share of samples that come from Prometheus (the record's
phases: 0.0, 0.5, 0.8). The synthetic part covers the same time window with whole
synthetic nodes of the profile (named ``synthetic-...`` so they never merge with real
ones), as many as bring the real share closest to the ratio. Labelled anomalies are
injected at ANOMALY_RATE into the real windows (the same injection as the synthetic
generator), so the anomaly-detector backtest has ground truth on real behaviour.

When Prometheus cannot be reached (connection error, timeout, 5xx after retries) the
source falls back to pure synthetic data, logs a warning and says so in the returned
note (the manifest's ``data.source``); with STRICT_SOURCE it raises instead. A refused
query or credential (4xx) is a configuration error and always raises.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from metrics_ai.errors import UpstreamTimeoutError, UpstreamUnavailableError
from metrics_ai.prometheus import PrometheusClient, PrometheusQueryError
from metrics_ai.series import LABELS, validate_frame
from metrics_ai.settings import Settings
from training.sources.profiles import SyntheticProfile
from training.sources.prometheus import read_prometheus, window_bounds
from training.sources.synthetic import ANOMALY_SIGNALS, generate, inject_anomalies
from training.sources.windows import read_days

log = logging.getLogger(__name__)

SYNTHETIC_PREFIX = "synthetic-"


def read_hybrid(
    settings: Settings,
    profile: SyntheticProfile,
    client: PrometheusClient | None = None,
    days: float | None = None,
) -> tuple[pd.DataFrame, str]:
    """Real and synthetic windows at HYBRID_REAL_RATIO over ``days`` (default: the run's window,
    :func:`training.sources.windows.read_days`); returns (frame, note for the manifest).

    Raises:
        UpstreamUnavailableError: Prometheus is unreachable and STRICT_SOURCE is set, or it
            refused the query or credentials.
    """
    ratio = settings.hybrid_real_ratio
    if ratio <= 0:
        return _synthetic(settings, profile, days), f"hybrid:real=0.00 synthetic:{profile.name}"
    try:
        real = read_prometheus(settings, client, days=days)
    except PrometheusQueryError:
        raise
    except (UpstreamUnavailableError, UpstreamTimeoutError) as exc:
        if settings.strict_source:
            raise UpstreamUnavailableError(f"hybrid: Prometheus unreachable and STRICT_SOURCE is set: {exc}") from exc
        log.warning("hybrid: Prometheus unreachable (%s); falling back to synthetic data", exc)
        note = f"hybrid:fallback-synthetic (prometheus unreachable: {exc})"
        return _synthetic(settings, profile, days), note
    real = inject_into_real(real, settings.anomaly_rate, settings.step, settings.seed)
    end = real["timestamp"].max()
    span = read_days(settings) if days is None else days
    synthetic = _renamed(generate(profile, span, settings.step, settings.anomaly_rate, settings.seed, end=end))
    chosen = choose_nodes(synthetic, len(real), ratio)
    frame = validate_frame(pd.concat([_plain(real), _plain(chosen)], ignore_index=True), where="hybrid")
    achieved = len(real) / max(1, len(frame))
    note = (f"hybrid:real={achieved:.2f} (requested {ratio:.2f}) prometheus:{settings.prometheus_url} "
            f"+ synthetic:{profile.name}, anomalies injected at {settings.anomaly_rate:g}")
    log.info("%s", note)
    return frame, note


def _synthetic(settings: Settings, profile: SyntheticProfile, days: float | None) -> pd.DataFrame:
    days = profile.days or (read_days(settings) if days is None else days)
    end = pd.Timestamp(window_bounds(settings)[1], unit="s", tz="UTC")
    return generate(profile, days, settings.step, settings.anomaly_rate, settings.seed, end=end)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Label columns as plain strings so frames with different categories concatenate."""
    return frame.astype({c: str for c in ("signal", *LABELS)})


def _renamed(frame: pd.DataFrame) -> pd.DataFrame:
    """Synthetic clusters and nodes get a prefix so they never merge with real entities."""
    out = _plain(frame)
    for column in ("cluster", "node"):
        named = out[column] != ""
        out.loc[named, column] = SYNTHETIC_PREFIX + out.loc[named, column]
    return out


def choose_nodes(synthetic: pd.DataFrame, real_rows: int, ratio: float) -> pd.DataFrame:
    """Whole synthetic nodes, in generator order, bringing the real share closest to ``ratio``."""
    if ratio >= 1 or synthetic.empty:
        return synthetic.iloc[:0]
    target = real_rows * (1 - ratio) / ratio
    sizes = synthetic.groupby(["cluster", "node"], sort=False, observed=True).size()
    cumulative = np.concatenate([[0], np.cumsum(sizes.to_numpy())])
    count = int(np.argmin(np.abs(cumulative - target)))
    keep = set(sizes.index[:count])
    mask = [key in keep for key in zip(synthetic["cluster"], synthetic["node"], strict=True)]
    return synthetic[np.asarray(mask, dtype=bool)]


def inject_into_real(frame: pd.DataFrame, rate: float, step: int, seed: int) -> pd.DataFrame:
    """Inject labelled anomalies into each real node's anomaly-detector metrics.

    Only timestamps where all of :data:`ANOMALY_SIGNALS` are present take part; the
    injected rows get ``anomaly`` True, as in the synthetic generator.
    """
    if rate <= 0:
        return frame
    out = _plain(frame)
    signals = list(ANOMALY_SIGNALS)
    sub = out[out["signal"].isin(signals)]
    if sub.empty:
        return frame
    wide = sub.pivot_table(index=["cluster", "node", "timestamp"], columns="signal", values="value")
    wide = wide.reindex(columns=signals).dropna()
    updates = []
    for i, ((cluster, node), group) in enumerate(wide.groupby(level=[0, 1], sort=True)):
        arrays = {name: group[name].to_numpy(dtype=np.float64, copy=True) for name in signals}
        labels = inject_anomalies(arrays, rate, step, np.random.default_rng([seed, 7919, i]))
        stamps = group.index.get_level_values("timestamp")
        for name in signals:
            updates.append(pd.DataFrame({"cluster": cluster, "node": node, "timestamp": stamps, "signal": name,
                                         "new_value": arrays[name], "new_anomaly": labels}))
    if not updates:
        return frame
    merged = out.merge(pd.concat(updates, ignore_index=True), how="left",
                       on=["cluster", "node", "timestamp", "signal"])
    hit = merged["new_value"].notna().to_numpy()
    out["value"] = np.where(hit, merged["new_value"].to_numpy(), out["value"].to_numpy())
    out["anomaly"] = np.where(hit, merged["new_anomaly"].eq(True).to_numpy(), out["anomaly"].to_numpy())
    return validate_frame(out, where="hybrid")
