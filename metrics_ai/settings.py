"""Every knob in one place, read from the environment once at start and passed in.

Each field is settable as ``METRICS_AI_<NAME>`` or by the original system's bare
name (``HORIZON_MIN``, ``DATA_SOURCE``, ``PROMETHEUS_URL`` ...), so the decision
record's CronJob environment keeps working. Unknown ``METRICS_AI_*`` variables are
rejected (a typo fails at start, not silently).
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from metrics_ai.resolution import horizon_points

ENV_PREFIX = "METRICS_AI_"


class DataSource(StrEnum):
    """Where training data comes from."""

    synthetic = "synthetic"
    prometheus = "prometheus"
    hybrid = "hybrid"
    files = "files"


class DeviationMode(StrEnum):
    """How resource-forecast's deviation check joins its absolute and percentage tests."""

    both = "both"
    either = "either"


class Approval(StrEnum):
    """Whether a version that passes the quality gate becomes current by itself."""

    auto = "auto"
    manual = "manual"


class ShadowMode(StrEnum):
    """Which version the predictor scores in shadow beside the current one."""

    off = "off"
    pending = "pending"
    """The newest version awaiting approval."""
    newest = "newest"
    """The newest version, newer than the current one, that was not rejected."""


class EnsembleWeighting(StrEnum):
    """How resource-forecast combines its components."""

    equal = "equal"
    backtest = "backtest"
    median = "median"


def _env(name: str) -> Any:
    """Field whose value may come from METRICS_AI_<NAME> or the bare original NAME."""
    return AliasChoices(name.lower(), f"{ENV_PREFIX}{name}", name)


def parse_duration_seconds(value: Any) -> int:
    """Parse ``60``, ``"60"``, ``"60s"``, ``"5m"`` or ``"1h"`` into whole seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = int(value)
    else:
        match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", str(value))
        if not match:
            raise ValueError(f"expected a duration like 60, 60s, 5m or 1h, got {value!r}")
        seconds = int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[
            match.group(2)
        ]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


class Settings(BaseSettings):
    """Configuration of the training job and the predictor (validated once)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    # --- original system -------------------------------------------------
    horizon_min: int = Field(15, ge=1, le=1440, validation_alias=_env("HORIZON_MIN"))
    """Forecast horizon in minutes (resource-forecast)."""
    lookback_hours: int = Field(24, ge=1, le=24 * 90, validation_alias=_env("LOOKBACK_HOURS"))
    """Window whose means node-outliers compares."""
    contamination: float = Field(0.12, gt=0, le=0.5, validation_alias=_env("CONTAMINATION"))
    """Expected outlier share per cluster (node-outliers)."""
    step: int = Field(60, validation_alias=_env("STEP"))
    """Resolution of forecasting data in seconds (``60s`` accepted)."""
    start_hours_ago: int = Field(360, ge=1, validation_alias=_env("START_HOURS_AGO"))
    """How far back forecasting data reaches."""
    lstm_seq_len: int = Field(60, ge=4, le=2000, validation_alias=_env("LSTM_SEQ_LEN"))
    """LSTM input window length."""
    lstm_epochs: int = Field(10, ge=1, le=1000, validation_alias=_env("LSTM_EPOCHS"))
    """LSTM training epochs (EarlyStopping patience 3)."""
    train_fraction: float = Field(0.8, gt=0.1, lt=1.0, validation_alias=_env("TRAIN_FRACTION"))
    """Chronological share of each series used for fitting; the rest is the backtest."""

    # --- anomaly-detector decision record -------------------------------
    data_source: DataSource = Field(DataSource.synthetic, validation_alias=_env("DATA_SOURCE"))
    """synthetic | prometheus | hybrid | files."""
    prometheus_url: str | None = Field(None, validation_alias=_env("PROMETHEUS_URL"))
    """Prometheus or Thanos querier URL; also lets the predictor fetch history."""
    training_days: float = Field(7, gt=0, le=90, validation_alias=_env("TRAINING_DAYS"))
    """Days of data the training job reads."""
    anomaly_rate: float = Field(0.03, ge=0, le=0.5, validation_alias=_env("ANOMALY_RATE"))
    """Share of synthetic samples with injected, labelled anomalies."""
    sample_interval: int = Field(300, validation_alias=_env("SAMPLE_INTERVAL"))
    """Anomaly-detector sample interval in seconds (5 minutes)."""

    # --- Prometheus access ------------------------------------------------
    prometheus_token_file: Path | None = Field(None, validation_alias=_env("PROMETHEUS_TOKEN_FILE"))
    """Bearer token file (OpenShift: the service account token)."""
    prometheus_ca_file: Path | None = Field(None, validation_alias=_env("PROMETHEUS_CA_FILE"))
    """CA bundle for the Prometheus URL (OpenShift: the service CA)."""
    prometheus_timeout: float = Field(30.0, gt=0, le=600, validation_alias=_env("PROMETHEUS_TIMEOUT"))
    """Seconds per Prometheus request (training)."""
    prometheus_fetch_timeout: float = Field(
        5.0, gt=0, le=120, validation_alias=_env("PROMETHEUS_FETCH_TIMEOUT")
    )
    """Seconds the predictor waits for Prometheus before answering 504."""
    prometheus_fetch_budget: float = Field(10.0, gt=0, le=600, validation_alias=_env("PROMETHEUS_FETCH_BUDGET"))
    """Seconds of Prometheus fetches one request may start; later instances use the training-time state."""
    prometheus_cache_seconds: float = Field(30.0, ge=0, validation_alias=_env("PROMETHEUS_CACHE_SECONDS"))
    """How long the predictor reuses a fetched window."""
    cluster_label: str = Field("cluster", min_length=1, validation_alias=_env("CLUSTER_LABEL"))
    """Prometheus label that names the cluster."""
    cluster_name: str = Field("local-cluster", validation_alias=_env("CLUSTER_NAME"))
    """Cluster of the series without CLUSTER_LABEL when no series has it (one unlabelled cluster).

    ``local-cluster`` is what Red Hat ACM's observability labels its own (hub) cluster, so
    the entities keep their names if the cluster joins a fleet; empty: unlabelled series are
    standalone nodes."""
    queries_file: Path | None = Field(None, validation_alias=_env("QUERIES_FILE"))
    """YAML file overriding the built-in PromQL queries."""
    hybrid_real_ratio: float = Field(0.5, ge=0, le=1, validation_alias=_env("HYBRID_REAL_RATIO"))
    """Share of real windows in hybrid mode (record phases: 0, 0.5, 0.8)."""
    strict_source: bool = Field(False, validation_alias=_env("STRICT_SOURCE"))
    """Fail instead of falling back to synthetic when Prometheus is unreachable."""

    # --- models -------------------------------------------------------------
    seed: int = Field(42, validation_alias=_env("SEED"))
    """Seed of the synthetic generator and of every model."""
    ensemble_weighting: EnsembleWeighting = Field(
        EnsembleWeighting.median, validation_alias=_env("ENSEMBLE_WEIGHTING")
    )
    """resource-forecast combiner: equal mean, inverse-backtest-MAE weights, or the components' median
    (default: measured best on the real NAB series, bench/accuracy_forecast.py)."""
    forecast_components: str = Field("prophet,arima,lstm", validation_alias=_env("FORECAST_COMPONENTS"))
    """Components resource-forecast must train; leaving one out is explicit."""
    deviation_rule: DeviationMode = Field(DeviationMode.both, validation_alias=_env("DEVIATION_RULE"))
    """resource-forecast deviation check: ``both`` the absolute (calibrated half-widths) and the
    percentage test must hold, or ``either`` one (the original's OR; default: measured better on
    NAB, bench/nab_detector.py)."""
    disk_threshold: float = Field(90.0, gt=0, le=100, validation_alias=_env("DISK_THRESHOLD"))
    """Used percent at which a filesystem counts as full."""
    io_wait_threshold: float = Field(0.30, gt=0, le=1, validation_alias=_env("IO_WAIT_THRESHOLD"))
    """io_wait ratio crisis threshold."""
    net_threshold: float = Field(9.5e8, gt=0, validation_alias=_env("NET_THRESHOLD"))
    """net_rx / net_tx bytes/s crisis threshold."""

    # --- lifecycle ----------------------------------------------------------
    update_days: float = Field(2.0, gt=0, le=90, validation_alias=_env("UPDATE_DAYS"))
    """Days of the latest data an incremental update (``python -m training update``) reads."""
    keep_versions: int = Field(5, ge=1, le=100, validation_alias=_env("KEEP_VERSIONS"))
    """Published versions kept per model."""
    gate_margin: float = Field(0.10, ge=0, le=10, validation_alias=_env("GATE_MARGIN"))
    """A new version may be at most this much worse than the current one."""
    approval: Approval = Field(Approval.auto, validation_alias=_env("APPROVAL"))
    """auto: a version that passes the gate becomes current; manual: it waits, pending, for
    ``python -m training approve`` (or ``reject``)."""
    approver: str | None = Field(
        None, validation_alias=AliasChoices("approver", f"{ENV_PREFIX}APPROVER", "APPROVER", "USER", "LOGNAME")
    )
    """Who approves or rejects, as history.jsonl records it: APPROVER, else the login name
    (USER, LOGNAME); none of them set: the numeric uid."""
    shadow: ShadowMode = Field(ShadowMode.off, validation_alias=_env("SHADOW"))
    """Predictor: off | pending | newest: which newer version also scores every V1 request, off
    the request path, for the agreement figures on /metrics."""
    shadow_queue: int = Field(4096, ge=1, le=1_000_000, validation_alias=_env("SHADOW_QUEUE"))
    """Predictor: V1 instances waiting for the shadow version of one model; a request that would
    pass it is not shadowed (and counted)."""
    shadow_budget: float = Field(0.01, gt=0, le=1, validation_alias=_env("SHADOW_BUDGET"))
    """Predictor: share of one core's time the shadow scoring of one model may take; past it,
    requests are skipped (counted as dropped), so the figures rest on a sample under heavy load."""
    reload_interval: float = Field(10.0, ge=0, validation_alias=_env("RELOAD_INTERVAL"))
    """Seconds between manifest polls in the predictor (0: never)."""
    reload_timeout: float = Field(60.0, gt=0, le=3600, validation_alias=_env("RELOAD_TIMEOUT"))
    """Seconds one model's reload (read, verify, load) may take before it is reported as hung
    (a stuck volume); each model reloads on its own thread, so the others carry on."""
    reverify_interval: float = Field(300.0, ge=0, validation_alias=_env("REVERIFY_INTERVAL"))
    """Seconds between re-verifications of each serving version's files on disk (0: never);
    a version deleted or altered under a running predictor is logged and counted."""
    # --- predictor: access and limits ---------------------------------------
    model_management: bool = Field(False, validation_alias=_env("MODEL_MANAGEMENT"))
    """Allow KServe's model repository endpoints (REST ``/v2/repository/models/<name>/load|unload``,
    gRPC ``RepositoryModelLoad|Unload``); off, they answer 403 and no client can remove a model."""
    max_body_bytes: int = Field(4 << 20, ge=1024, le=1 << 30, validation_alias=_env("MAX_BODY_BYTES"))
    """Largest request body (REST, 413 past it) and gRPC message the predictor reads."""
    max_instances: int = Field(10_000, ge=1, le=10_000_000, validation_alias=_env("MAX_INSTANCES"))
    """Most instances (V1) or rows (V2) in one request (400 past it)."""
    max_history_points: int = Field(50_000, ge=10, le=10_000_000, validation_alias=_env("MAX_HISTORY_POINTS"))
    """Most history points per instance (400 past it)."""
    max_string_length: int = Field(1024, ge=16, le=1 << 20, validation_alias=_env("MAX_STRING_LENGTH"))
    """Longest string field (entity, node, mountpoint, signal, cluster) in characters (400 past it)."""
    header_timeout: float = Field(10.0, gt=0, le=600, validation_alias=_env("HEADER_TIMEOUT"))
    """Seconds a client has to send a request's headers (from connecting, or from the first byte
    of a further request on a kept-alive connection); slower connections are closed."""
    max_header_bytes: int = Field(64 << 10, ge=1024, le=16 << 20, validation_alias=_env("MAX_HEADER_BYTES"))
    """Largest request head (request line and headers, REST); past it the client gets a 431 and
    the connection is closed."""
    predict_workers: int = Field(2, ge=1, le=64, validation_alias=_env("PREDICT_WORKERS"))
    """Threads that answer heavy requests off the event loop (NumPy and Numba release the GIL)."""
    predict_queue: int = Field(2, ge=0, le=10_000, validation_alias=_env("PREDICT_QUEUE"))
    """Heavy requests that may wait for a worker; more at once are answered 503 (retry later)."""
    inline_max_bytes: int = Field(16 << 10, ge=0, le=1 << 20, validation_alias=_env("INLINE_MAX_BYTES"))
    """Requests up to this size (REST body bytes; V2 tensors at 8 bytes an element) are answered
    on the event loop without a thread hop, unless they need a Prometheus fetch (0: none inline)."""
    drift_window: int = Field(10_000, ge=0, le=1_000_000, validation_alias=_env("DRIFT_WINDOW"))
    """Latest request samples per model and feature the predictor compares with the version's drift
    reference (metrics_ai_drift_psi; 2 bytes a sample; 0: drift monitoring off)."""
    request_trace: bool = Field(False, validation_alias=_env("REQUEST_TRACE"))
    """Log KServe's two per-request timing lines (logger ``kserve.trace``); the access log stays on either way."""
    docs_url: bool = Field(False, validation_alias=_env("DOCS_URL"))
    """Serve KServe's OpenAPI page (Swagger UI) at ``/docs``; ``/openapi.json`` is served either way."""

    ray_address: str | None = Field(None, validation_alias=_env("RAY_ADDRESS"))
    """Fan per-series fits out to this Ray cluster when set."""
    workers: int = Field(0, ge=0, le=256, validation_alias=_env("WORKERS"))
    """Local worker processes for per-series fits (0: one per core)."""

    @field_validator("step", "sample_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return parse_duration_seconds(value)

    @field_validator("forecast_components")
    @classmethod
    def _components(cls, value: str) -> str:
        from metrics_ai.families.forecast.components import check_components  # the family's one list

        return ",".join(check_components(value))

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.data_source in (DataSource.prometheus,) and not self.prometheus_url:
            raise ValueError("DATA_SOURCE=prometheus needs PROMETHEUS_URL")
        return self

    @property
    def components(self) -> tuple[str, ...]:
        """Forecast components as a tuple, in canonical order."""
        return tuple(self.forecast_components.split(","))

    @property
    def crisis_thresholds(self) -> dict[str, float]:
        """Crisis threshold per signal: IO_WAIT_THRESHOLD for io_wait, NET_THRESHOLD for net_rx/net_tx."""
        return {"io_wait": self.io_wait_threshold, "net_rx": self.net_threshold, "net_tx": self.net_threshold}

    @property
    def horizon_points(self) -> int:
        """Forecast horizon in points at the training STEP."""
        return horizon_points(self.horizon_min, self.step)


def load_settings(**overrides: Any) -> Settings:
    """Read Settings from the environment once, with explicit overrides (CLI flags) on top.

    Unknown ``METRICS_AI_*`` names raise, so a typo in a deployment fails at start.
    """
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    typos = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)
    if typos:
        raise ValueError(f"unknown setting(s): {', '.join(typos)}")
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
