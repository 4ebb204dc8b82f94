"""Settings of the alerting client, validated once at start and passed in.

Each field is settable by its bare name (``PREDICTOR_URL``, ``ALERTING_INTERVAL`` ...)
or as ``METRICS_AI_<NAME>``, like :mod:`metrics_ai.settings`; the Prometheus access
knobs (``PROMETHEUS_URL``, ``PROMETHEUS_TOKEN_FILE``, ``PROMETHEUS_CA_FILE``,
``CLUSTER_LABEL``, ``QUERIES_FILE``, ``STEP``, ``LOOKBACK_HOURS`` ...) are the shared
:class:`metrics_ai.settings.Settings`, read by the same rules, never duplicated here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from metrics_ai.families import MODEL_NAMES
from metrics_ai.settings import ENV_PREFIX, Settings, parse_duration_seconds

MODELS: tuple[str, ...] = MODEL_NAMES
"""Every model the client can call, in the order a pass calls them."""
MODEL_PLACEHOLDER = "{model}"


def _env(name: str) -> Any:
    """Field whose value may come from the bare NAME or METRICS_AI_<NAME>."""
    return AliasChoices(name.lower(), name, f"{ENV_PREFIX}{name}")


def parse_model_urls(value: Any) -> dict[str, str]:
    """``"name=url,name=url"`` (or a list of ``name=url``, or a mapping) -> {name: url}."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        items = list(value.items())
    else:
        parts = value.split(",") if isinstance(value, str) else list(value)
        items = []
        for part in (str(p).strip() for p in parts):
            if not part:
                continue
            name, sep, url = part.partition("=")
            if not sep or not name.strip() or not url.strip():
                raise ValueError(f"expected NAME=URL, got {part!r}")
            items.append((name.strip(), url.strip()))
    unknown = sorted(name for name, _ in items if name not in MODELS)
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; expected some of {list(MODELS)}")
    return {name: str(url).rstrip("/") for name, url in items}


class AlertingSettings(BaseSettings):
    """What the alerting client needs beyond the shared Prometheus settings."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    predictor_url: str = Field("", validation_alias=_env("PREDICTOR_URL"))
    """One base URL (every model at BASE/v1/models/<name>:predict) or a template with ``{model}``."""
    predictor_model_urls: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, validation_alias=_env("PREDICTOR_MODEL_URLS")
    )
    """Per-model base URLs (``name=url,name=url``), overriding PREDICTOR_URL for those models."""
    predictor_token_file: Path | None = Field(None, validation_alias=_env("PREDICTOR_TOKEN_FILE"))
    """Bearer token file for the predictor (re-read per pass: tokens rotate)."""
    predictor_ca_file: Path | None = Field(None, validation_alias=_env("PREDICTOR_CA_FILE"))
    """CA bundle for https predictor URLs."""
    predictor_timeout: float = Field(30.0, gt=0, le=600, validation_alias=_env("PREDICTOR_TIMEOUT"))
    """Seconds per predictor request."""
    predictor_retries: int = Field(1, ge=0, le=5, validation_alias=_env("PREDICTOR_RETRIES"))
    """Further attempts after a connection error, timeout, 429 or 5xx (never after another 4xx)."""
    predictor_batch: int = Field(500, ge=1, le=100_000, validation_alias=_env("PREDICTOR_BATCH"))
    """Most instances per request."""
    models: Annotated[tuple[str, ...], NoDecode] = Field(MODELS, validation_alias=_env("ALERTING_MODELS"))
    """Which models to call (default all five)."""
    interval: int = Field(60, validation_alias=_env("ALERTING_INTERVAL"))
    """Seconds between pass starts (``60``, ``60s``, ``5m``)."""
    port: int = Field(9105, ge=1, le=65535, validation_alias=_env("ALERTING_PORT"))
    """Port of /metrics and /healthz."""
    host: str = Field("0.0.0.0", validation_alias=_env("ALERTING_HOST"))
    """Address the exporter listens on."""
    discovery_seconds: int = Field(300, ge=60, le=86400, validation_alias=_env("ALERTING_DISCOVERY_SECONDS"))
    """An entity exists now when it has a sample in this many last seconds."""
    fetch_workers: int = Field(4, ge=1, le=32, validation_alias=_env("ALERTING_FETCH_WORKERS"))
    """Prometheus queries (and predictor calls) run in parallel at most this many at a time."""

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> int:
        return parse_duration_seconds(value)

    @field_validator("predictor_model_urls", mode="before")
    @classmethod
    def _model_urls(cls, value: Any) -> dict[str, str]:
        return parse_model_urls(value)

    @field_validator("models", mode="before")
    @classmethod
    def _models(cls, value: Any) -> tuple[str, ...]:
        names = [p.strip() for p in value.split(",")] if isinstance(value, str) else list(value)
        names = [n for n in names if n]
        if names == ["all"]:
            return MODELS
        unknown = sorted(set(names) - set(MODELS))
        if unknown or not names:
            raise ValueError(f"expected 'all' or some of {list(MODELS)}, got {value!r}")
        return tuple(m for m in MODELS if m in names)

    @field_validator("predictor_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _routes(self) -> AlertingSettings:
        missing = [m for m in self.models if not self.predictor_model_urls.get(m) and not self.predictor_url]
        if missing:
            raise ValueError(f"no predictor URL for {missing}: set --predictor/PREDICTOR_URL or --model-url NAME=URL")
        return self

    def model_url(self, model: str) -> str:
        """The V1 predict URL of ``model``: its own URL, else the template or the one base URL."""
        base = self.predictor_model_urls.get(model) or self.predictor_url
        if MODEL_PLACEHOLDER in base:
            base = base.replace(MODEL_PLACEHOLDER, model)
        return f"{base}/v1/models/{model}:predict"


def load_all(**overrides: Any) -> tuple[Settings, AlertingSettings]:
    """Read both settings from the environment once, CLI overrides on top (None: not given).

    Overrides naming a shared field (``prometheus_url``) go to :class:`Settings`, the rest to
    :class:`AlertingSettings`. Unknown ``METRICS_AI_*`` names raise, as in
    :func:`metrics_ai.settings.load_settings`.
    """
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    for info in AlertingSettings.model_fields.values():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else []
        known |= {c for c in choices if isinstance(c, str) and c.startswith(ENV_PREFIX)}
    typos = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)
    if typos:
        raise ValueError(f"unknown setting(s): {', '.join(typos)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    shared = Settings(**{k: v for k, v in given.items() if k in Settings.model_fields})
    own = AlertingSettings(**{k: v for k, v in given.items() if k not in Settings.model_fields})
    if not shared.prometheus_url:
        raise ValueError("no Prometheus: set --prometheus or PROMETHEUS_URL")
    return shared, own
