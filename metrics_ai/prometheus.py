"""Prometheus access shared by the training job and the predictor.

:class:`PrometheusClient` wraps ``prometheus_api_client.PrometheusConnect`` with what
both sides need: bearer token and CA bundle from Settings, range queries split so no
request asks for more than :data:`MAX_POINTS` points per series (Prometheus refuses
more than 11,000), retries with exponential backoff on connection errors, timeouts and
5xx, and failures mapped to the one error hierarchy. :func:`canonical_series` turns
query results into canonical series (labels mapped, bare counters turned into rates,
non-finite samples dropped, duplicates from two scrapers removed).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests
import yaml
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from metrics_ai.errors import UpstreamTimeoutError, UpstreamUnavailableError
from metrics_ai.series import SIGNALS
from metrics_ai.settings import Settings

log = logging.getLogger(__name__)

MAX_POINTS = 11_000
"""Most points per series one range query may return (Prometheus' own limit)."""
MAX_FILL_STEPS = 5
"""Holes of at most this many steps are forward-filled; longer ones stay gaps."""
COUNTER_SUFFIXES = ("_total", "_count", "_sum")
CLUSTER_PLACEHOLDER = "$cluster_label"
_STATUS = re.compile(r"HTTP Status Code (\d{3})")
_PORT = re.compile(r"^\[?(.*?)\]?(?::\d+)?$")


class PrometheusQueryError(UpstreamUnavailableError):
    """Prometheus answered but refused the request (bad query, bad credentials: 4xx)."""


def load_queries(settings: Settings) -> dict[str, str]:
    """The PromQL per signal: package defaults, overridden by ``settings.queries_file``.

    A signal mapped to null in the override file is left out. ``$cluster_label`` is
    replaced by ``settings.cluster_label``.

    Raises:
        ValueError: the file is unreadable, not a mapping, or names an unknown signal.
    """
    text = resources.files("metrics_ai").joinpath("queries.yaml").read_text(encoding="utf-8")
    queries: dict[str, Any] = _parse_queries(text, "metrics_ai/queries.yaml")
    if settings.queries_file is not None:
        path = Path(settings.queries_file)
        try:
            override = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"QUERIES_FILE {path}: {exc.strerror or exc}") from None
        queries.update(_parse_queries(override, str(path)))
    return {
        signal: " ".join(str(q).split()).replace(CLUSTER_PLACEHOLDER, settings.cluster_label)
        for signal, q in queries.items()
        if q is not None and str(q).strip()
    }


def _parse_queries(text: str, where: str) -> dict[str, Any]:
    """Validate one queries file: a mapping of canonical signal -> PromQL string or null."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping of signal -> PromQL")
    unknown = sorted(str(k) for k in data if k not in SIGNALS)
    if unknown:
        raise ValueError(f"{where}: unknown signal(s) {unknown}; expected some of {list(SIGNALS)}")
    bad = sorted(str(k) for k, v in data.items() if v is not None and not isinstance(v, str))
    if bad:
        raise ValueError(f"{where}: the query of {bad} must be a string (or null to skip)")
    return dict(data)


@dataclass(frozen=True, slots=True)
class RawSeries:
    """One result series of a range query: its labels, unix seconds and values."""

    labels: Mapping[str, str]
    timestamps: np.ndarray
    values: np.ndarray


def plan_chunks(start: int, end: int, step: int, max_points: int = MAX_POINTS) -> list[tuple[int, int]]:
    """Split [start, end] into ranges of at most ``max_points`` points on the same grid.

    Every chunk starts on ``start + k * step``, so the concatenation evaluates exactly
    the timestamps one unlimited query would.
    """
    if end < start:
        return []
    span = (max_points - 1) * step
    chunks, t = [], start
    while t <= end:
        chunks.append((t, min(t + span, end)))
        t += span + step
    return chunks


class PrometheusClient:
    """Range queries against one Prometheus (or Thanos querier) URL.

    Args:
        settings: prometheus_url, prometheus_token_file, prometheus_ca_file, prometheus_timeout.
        timeout: seconds per HTTP request (default ``settings.prometheus_timeout``).
        retries: further attempts after a connection error, timeout or 5xx.
        backoff: seconds before the first retry; doubled for each further one.
        max_points: most points per series per request.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        max_points: int = MAX_POINTS,
    ) -> None:
        if not settings.prometheus_url:
            raise UpstreamUnavailableError("PROMETHEUS_URL is not set")
        self.url = settings.prometheus_url.rstrip("/")
        self.timeout = settings.prometheus_timeout if timeout is None else timeout
        self.retries, self.backoff, self.max_points = retries, backoff, max_points
        self._token_file = settings.prometheus_token_file
        session = requests.Session()
        session.verify = str(settings.prometheus_ca_file) if settings.prometheus_ca_file else True
        self._api = PrometheusConnect(
            url=self.url, session=session, retry=Retry(total=0, read=False), timeout=self.timeout
        )

    def close(self) -> None:
        """Release the HTTP connections."""
        self._api.close()

    def _headers(self) -> dict[str, str] | None:
        """Authorization from the token file, re-read per request (service-account tokens rotate)."""
        if self._token_file is None:
            return None
        try:
            token = Path(self._token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UpstreamUnavailableError(
                f"cannot read PROMETHEUS_TOKEN_FILE {self._token_file}: {exc.strerror or exc}"
            ) from None
        return {"Authorization": f"Bearer {token}"}

    def query_range(self, query: str, start: float, end: float, step: int) -> list[RawSeries]:
        """Evaluate ``query`` over [start, end] (unix s) at ``step`` s, in chunks.

        Raises:
            UpstreamTimeoutError: every attempt timed out.
            UpstreamUnavailableError: Prometheus could not be reached or answered 5xx.
            PrometheusQueryError: Prometheus refused the query or the credentials.
        """
        parts: dict[tuple[tuple[str, str], ...], tuple[list[np.ndarray], list[np.ndarray]]] = {}
        for chunk_start, chunk_end in plan_chunks(int(start), int(end), int(step), self.max_points):
            for item in self._range_chunk(query, chunk_start, chunk_end, int(step)):
                key = tuple(sorted(item.get("metric", {}).items()))
                ts, vs = _parse_values(item.get("values", []))
                stamps, values = parts.setdefault(key, ([], []))
                stamps.append(ts)
                values.append(vs)
        return [
            RawSeries(dict(key), np.concatenate(ts), np.concatenate(vs)) for key, (ts, vs) in parts.items()
        ]

    def _range_chunk(self, query: str, start: int, end: int, step: int) -> list[dict[str, Any]]:
        """One query_range request with retries and backoff."""
        error: Exception = UpstreamUnavailableError("no attempt made")
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                self._api.headers = self._headers()
                result = self._api.custom_query_range(
                    query,
                    datetime.fromtimestamp(start, tz=UTC),
                    datetime.fromtimestamp(end, tz=UTC),
                    step=str(step),
                )
                if not isinstance(result, list):
                    raise UpstreamUnavailableError(f"{self.url}: unexpected answer shape {type(result).__name__}")
                return result
            except requests.Timeout:
                error = UpstreamTimeoutError(f"{self.url}: no answer within {self.timeout:g} s")
            except requests.ConnectionError as exc:
                error = UpstreamUnavailableError(f"{self.url}: cannot connect ({_reason(exc)})")
            except (requests.JSONDecodeError, KeyError, TypeError):
                error = UpstreamUnavailableError(f"{self.url}: the answer is not a Prometheus API response")
            except PrometheusApiClientException as exc:
                match = _STATUS.search(str(exc))
                status = int(match.group(1)) if match else 0
                if status and status < 500 and status != 429:
                    raise PrometheusQueryError(f"{self.url} refused {query!r}: {exc}") from None
                error = UpstreamUnavailableError(f"{self.url}: {exc}")
            log.debug("prometheus attempt %d failed: %s", attempt + 1, error)
        raise error


def _reason(exc: BaseException) -> str:
    """The innermost, shortest description of a requests connection error."""
    text = str(exc)
    for hint in ("Connection refused", "Name or service not known", "certificate verify failed"):
        if hint in text:
            return hint
    return text[:200]


def _parse_values(pairs: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """``[[ts, "value"], ...]`` -> float64 arrays (``"NaN"``, ``"+Inf"`` parse)."""
    if not pairs:
        return np.empty(0), np.empty(0)
    ts = np.fromiter((p[0] for p in pairs), dtype=np.float64, count=len(pairs))
    vs = np.array([p[1] for p in pairs], dtype=np.float64)
    return ts, vs


@dataclass(frozen=True, slots=True)
class CanonicalSeries:
    """One signal of one entity, in canonical labels, finite values, increasing time."""

    signal: str
    cluster: str
    node: str
    mountpoint: str
    timestamps: np.ndarray
    values: np.ndarray
    source: Mapping[str, str]

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(signal, cluster, node, mountpoint)."""
        return (self.signal, self.cluster, self.node, self.mountpoint)


@dataclass(frozen=True, slots=True)
class Cleaning:
    """What :func:`canonical_series` removed, for the caller to log."""

    non_finite: int
    counters: list[str]
    duplicates: list[tuple[tuple[str, str, str, str], dict[str, str]]]


def node_of(labels: Mapping[str, str]) -> str:
    """The node a series belongs to: ``node``, else ``instance`` without ``:port``."""
    if labels.get("node"):
        return labels["node"]
    match = _PORT.match(labels.get("instance", ""))
    return match.group(1) if match else labels.get("instance", "")


def counter_rate(timestamps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-second rate of a raw counter; a drop is a reset (the counter restarted from 0).

    The first sample has no rate and is dropped.
    """
    if len(values) < 2:
        return timestamps[:0], values[:0]
    dt = np.diff(timestamps)
    dv = np.diff(values)
    increase = np.where(dv < 0, values[1:], dv)
    return timestamps[1:], increase / dt


def canonical_series(
    raw: Iterable[RawSeries], signal: str, cluster_label: str
) -> tuple[list[CanonicalSeries], Cleaning]:
    """Map result series to canonical labels, clean them, and keep one per entity.

    Bare counters (``__name__`` ending in ``_total``/``_count``/``_sum``) become
    per-second rates with resets handled; NaN and infinite samples are dropped; of
    several series with the same canonical labels (two scrapers) the one with the most
    samples is kept.
    """
    by_key: dict[tuple[str, str, str, str], list[CanonicalSeries]] = {}
    non_finite, counters = 0, []
    for series in raw:
        labels = dict(series.labels)
        ts, vs = series.timestamps, series.values
        order = np.argsort(ts, kind="stable")
        ts, vs = ts[order], vs[order]
        name = labels.get("__name__", "")
        if name.endswith(COUNTER_SUFFIXES):
            counters.append(name)
            finite = np.isfinite(vs)
            non_finite += int((~finite).sum())
            ts, vs = counter_rate(ts[finite], vs[finite])
        finite = np.isfinite(vs)
        non_finite += int((~finite).sum())
        ts, vs = ts[finite], vs[finite]
        if not len(ts):
            continue
        mount = labels.get("mountpoint", "") if signal == "disk_used_pct" else ""
        item = CanonicalSeries(signal, labels.get(cluster_label, ""), node_of(labels), mount, ts, vs, labels)
        by_key.setdefault(item.key, []).append(item)
    kept, duplicates = [], []
    for key, items in by_key.items():
        items.sort(key=lambda s: (-len(s.timestamps), -float(s.timestamps[-1]), sorted(s.source.items())))
        kept.append(items[0])
        duplicates.extend((key, dict(extra.source)) for extra in items[1:])
    return kept, Cleaning(non_finite, sorted(set(counters)), duplicates)


def name_unlabelled(series: Sequence[CanonicalSeries], cluster_name: str) -> list[CanonicalSeries]:
    """Series of a Prometheus that has no cluster label at all belong to ``cluster_name``.

    The rule (metrics_ai/queries.yaml's header): when no series of the whole read carries
    CLUSTER_LABEL, the Prometheus watches one cluster (OpenShift's in-cluster monitoring,
    thanos-querier without multi-cluster observability) and CLUSTER_NAME names it; when
    some do, the unlabelled ones are standalone nodes (cluster ""), as the data says.
    An empty ``cluster_name`` keeps every unlabelled series standalone.
    """
    if not cluster_name or any(s.cluster for s in series):
        return list(series)
    return [replace(s, cluster=cluster_name) for s in series]


def fill_short_gaps(
    timestamps: np.ndarray, values: np.ndarray, step: int, max_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Forward-fill holes of at most ``max_steps`` missing points on the ``step`` grid.

    Longer holes are left as they are (no invented data over an outage).
    """
    if len(timestamps) < 2 or max_steps <= 0:
        return timestamps, values
    missing = np.rint(np.diff(timestamps) / step).astype(np.int64) - 1
    fill = (missing > 0) & (missing <= max_steps)
    if not fill.any():
        return timestamps, values
    counts = np.where(fill, missing, 0)
    repeat = np.ones(len(values), dtype=np.int64)
    repeat[:-1] += counts
    new_values = np.repeat(values, repeat)
    starts = np.cumsum(repeat) - repeat
    offsets = (np.arange(int(repeat.sum())) - np.repeat(starts, repeat)) * float(step)
    new_ts = np.repeat(timestamps, repeat) + offsets
    return new_ts, new_values


def series_frame(series: Sequence[CanonicalSeries]) -> pd.DataFrame:
    """Long rows (timestamp, signal, value, cluster, node, mountpoint) of canonical series."""
    columns = ("signal", "cluster", "node", "mountpoint")
    if not series:
        return pd.DataFrame(columns=["timestamp", "value", *columns])
    lengths = [len(s.values) for s in series]
    nanos = np.rint(np.concatenate([s.timestamps for s in series]) * 1e9).astype("int64")
    out = {
        "timestamp": pd.DatetimeIndex(nanos.view("datetime64[ns]")).tz_localize("UTC"),
        "value": np.concatenate([s.values for s in series]),
    }
    for column in columns:
        names, codes = np.unique([getattr(s, column) for s in series], return_inverse=True)
        out[column] = pd.Categorical.from_codes(np.repeat(codes, lengths), categories=names.tolist())
    return pd.DataFrame(out)
