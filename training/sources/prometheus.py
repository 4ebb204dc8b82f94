"""``--source prometheus``: every signal at STEP over the run's window, cleaned.

The window is the longest family lookback (:func:`training.sources.windows.read_days`:
START_HOURS_AGO for the forecasting families, TRAINING_DAYS for the others) unless the
caller names its days (an update reads UPDATE_DAYS).

Data hygiene (each case has a test in tests/training/test_prometheus_source.py):

- NaN and infinite samples are dropped; they become gaps.
- Gaps: holes of at most ``MAX_FILL_STEPS`` (5) steps are forward-filled; longer ones
  (an exporter or node down) stay gaps, so no family trains on invented data.
- Counter resets: the queries use ``rate()``, which handles them; a query that returns
  a bare counter is turned into a per-second rate client-side, resets handled.
- Stale series (no sample in the last LOOKBACK_HOURS of the window) are dropped and
  logged: they cannot describe the present.
- Duplicated series (two scrapers of one target: same canonical labels, different
  ``job``/``instance``) are de-duplicated, keeping the one with the most samples.
- Clusters: a Prometheus with no CLUSTER_LABEL on any series watches one cluster,
  named CLUSTER_NAME; when some series have the label, the others are standalone nodes
  (:func:`metrics_ai.prometheus.name_unlabelled`).
- Series that start mid-window are kept (shorter); nodes that vanish before the window
  end are kept for what they have. Both are logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import pandas as pd

from metrics_ai.errors import TrainingError
from metrics_ai.prometheus import (
    MAX_FILL_STEPS,
    CanonicalSeries,
    Cleaning,
    PrometheusClient,
    canonical_series,
    fill_short_gaps,
    load_queries,
    name_unlabelled,
    series_frame,
)
from metrics_ai.series import validate_frame
from metrics_ai.settings import Settings
from training.sources.windows import read_days

log = logging.getLogger(__name__)


def window_bounds(
    settings: Settings, end: pd.Timestamp | None = None, days: float | None = None
) -> tuple[int, int]:
    """(start, end) unix seconds on the STEP grid: ``days`` (default: the run's window) back from ``end`` (now)."""
    step = settings.step
    end_s = int((end or pd.Timestamp.now(tz="UTC")).timestamp()) // step * step
    span = read_days(settings) if days is None else days
    return end_s - int(span * 86400) // step * step, end_s


def read_prometheus(
    settings: Settings,
    client: PrometheusClient | None = None,
    end: pd.Timestamp | None = None,
    days: float | None = None,
) -> pd.DataFrame:
    """Every configured signal over the training window (``days``, default the run's), as the canonical long frame.

    Raises:
        UpstreamUnavailableError: Prometheus cannot be reached (after retries) or refused.
        UpstreamTimeoutError: Prometheus did not answer in time (after retries).
        TrainingError: Prometheus answered, but with no usable sample at all.
    """
    start, stop = window_bounds(settings, end, days)
    queries = load_queries(settings)
    api = client or PrometheusClient(settings)
    collected: list[CanonicalSeries] = []
    try:
        for signal, query in queries.items():
            raw = api.query_range(query, start, stop, settings.step)
            series, cleaning = canonical_series(raw, signal, settings.cluster_label)
            if not series:
                log.warning("%s: no series in the window (query: %s)", signal, query)
            _log_cleaning(signal, cleaning)
            collected.extend(series)
    finally:
        if client is None:
            api.close()
    if collected and not any(s.cluster for s in collected) and settings.cluster_name:
        log.info("prometheus: no series has the %r label: all belong to cluster %r (CLUSTER_NAME)",
                 settings.cluster_label, settings.cluster_name)
    collected = name_unlabelled(collected, settings.cluster_name)
    fresh = drop_stale(collected, stop, settings.lookback_hours * 3600)
    log_lifecycle(fresh, start, stop, settings.step)
    filled = []
    for s in fresh:
        ts, vs = fill_short_gaps(s.timestamps, s.values, settings.step, MAX_FILL_STEPS)
        filled.append(CanonicalSeries(s.signal, s.cluster, s.node, s.mountpoint, ts, vs, s.source))
    frame = validate_frame(series_frame(filled), where=f"prometheus:{api.url}")
    if frame.empty:
        raise TrainingError(
            f"Prometheus at {api.url} has no usable samples for {sorted(queries)} between "
            f"{pd.Timestamp(start, unit='s', tz='UTC')} and {pd.Timestamp(stop, unit='s', tz='UTC')}"
        )
    log.info("prometheus: %d series, %d samples, %s .. %s", len(filled), len(frame),
             frame["timestamp"].min(), frame["timestamp"].max())
    return frame


def _log_cleaning(signal: str, cleaning: Cleaning) -> None:
    if cleaning.non_finite:
        log.info("%s: dropped %d NaN/infinite samples (left as gaps)", signal, cleaning.non_finite)
    if cleaning.counters:
        log.warning("%s: query returned raw counter(s) %s; converted to per-second rates, resets handled",
                    signal, cleaning.counters)
    for (_, cluster, node, mountpoint), labels in cleaning.duplicates:
        entity = "/".join(p for p in (cluster, node, mountpoint) if p)
        log.warning("%s: duplicate series for %s (another scraper?) dropped: %s", signal, entity, labels)


def drop_stale(series: list[CanonicalSeries], end: int, max_age: float) -> list[CanonicalSeries]:
    """Series whose last sample is older than ``max_age`` s before ``end`` are dropped (logged)."""
    kept, stale = [], defaultdict(list)
    for s in series:
        if s.timestamps[-1] < end - max_age:
            stale[(s.cluster, s.node)].append(s)
        else:
            kept.append(s)
    for (cluster, node), items in sorted(stale.items()):
        last = max(float(s.timestamps[-1]) for s in items)
        log.warning(
            "stale: dropped %d series of %s (last sample %s, %.1f h before the window end): %s",
            len(items), "/".join(p for p in (cluster, node) if p), pd.Timestamp(last, unit="s", tz="UTC"),
            (end - last) / 3600, sorted({s.signal for s in items}),
        )
    return kept


def log_lifecycle(series: list[CanonicalSeries], start: int, end: int, step: int) -> None:
    """Log nodes that start after the window start or vanish before its end (all kept)."""
    grace = max(900, 3 * step)
    spans: dict[tuple[str, str], list[float]] = {}
    for s in series:
        first, last = float(s.timestamps[0]), float(s.timestamps[-1])
        span = spans.setdefault((s.cluster, s.node), [first, last])
        span[0], span[1] = min(span[0], first), max(span[1], last)
    for (cluster, node), (first, last) in sorted(spans.items()):
        name = "/".join(p for p in (cluster, node) if p)
        if first > start + grace:
            log.info("%s: starts mid-window at %s (kept, shorter)", name, pd.Timestamp(first, unit="s", tz="UTC"))
        if last < end - grace:
            log.warning("%s: vanished at %s, %.1f h before the window end (kept for what it has)",
                        name, pd.Timestamp(last, unit="s", tz="UTC"), (end - last) / 3600)
