"""What every family provides to the training job and to the predictor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from metrics_ai.artifacts import Manifest
from metrics_ai.series import History


class HistoryFetcher(Protocol):
    """Fetches the latest window of one series for requests that bring no history.

    The predictor sets one (Prometheus, when PROMETHEUS_URL is configured) on every
    loaded Predictor as ``predictor.fetcher``; families that accept requests without
    history call it first and fall back to their training-time state.
    """

    def fetch(self, signal: str, labels: Mapping[str, str], seconds: float, step: int) -> History | None:
        """The last ``seconds`` of ``signal`` for the entity ``labels`` at ``step`` s.

        Returns None when no source is configured or the series is unknown to it.

        Raises:
            UpstreamTimeoutError: the source did not answer in time (504).
            UpstreamUnavailableError: the source cannot be reached (503).
        """


class FamilyConfig(BaseModel):
    """Typed hyper-parameters of a family (stored in the manifest's ``config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Predictor(ABC):
    """Fitted state of one served model, loaded from a verified version folder.

    Subclasses keep prediction in NumPy (no fitting, no heavy imports) and expose
    domain methods that the serving adapter and the training smoke test call.
    """

    model_name: ClassVar[str]
    fetcher: HistoryFetcher | None = None
    """Set by the predictor process after load; None means "no live source"."""

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write the state files into ``folder`` (checksummed by the store)."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path, manifest: Manifest) -> Predictor:
        """Read state written by :meth:`save` (sha256s already verified)."""

    @abstractmethod
    def predict_v1(self, instances: list[Any]) -> list[dict[str, Any]]:
        """One V1 prediction per instance, in order (DESIGN.md shapes, sans model_version).

        Raises:
            InvalidInputError: naming the instance and field that is malformed.
        """

    @abstractmethod
    def infer_v2(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """V2 named tensors in, named tensors out (DESIGN.md names and dtypes)."""

    v2_inputs: ClassVar[dict[str, tuple[str, int]]] = {}
    """V2 input name -> (datatype, number of dimensions) the family expects."""

    @abstractmethod
    def smoke_instances(self) -> list[Any]:
        """V1 instances that a freshly published version must answer."""

    aliases: ClassVar[tuple[str, ...]] = ()
    """Files also exposed at ``<model>/<alias>`` (anomaly-detector: ``model.pkl``)."""
