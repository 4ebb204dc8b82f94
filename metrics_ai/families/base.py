"""What every family provides to the training job and to the predictor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from metrics_ai.artifacts import Manifest
from metrics_ai.series import History
from metrics_ai.settings import Settings


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


class TensorSpec(NamedTuple):
    """One V2 tensor a family takes or gives, as the model metadata serves it.

    Attributes:
        datatype: the Open Inference Protocol datatype (``FP32``, ``INT64``, ``BYTES`` ...).
        shape: its dimensions, ``-1`` where the length varies (rows, history points).
    """

    datatype: str
    shape: tuple[int, ...]

    @property
    def rank(self) -> int:
        """Number of dimensions."""
        return len(self.shape)


#: a text column, one entry per row
TEXT_ROWS = TensorSpec("BYTES", (-1,))
#: the history a request may bring, ``[rows, points]``: unix seconds and values, NaN-padded
#: (a row of NaN, or zero points: no history, the server's latest data is used)
HISTORY_INPUTS: dict[str, TensorSpec] = {
    "timestamps": TensorSpec("INT64", (-1, -1)),
    "values": TensorSpec("FP32", (-1, -1)),
}


class FamilyConfig(BaseModel):
    """Typed hyper-parameters of a family (stored in the manifest's ``config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Predictor(ABC):
    """Fitted state of one served model, loaded from a verified version folder.

    Subclasses keep prediction in NumPy (no fitting, no heavy imports) and expose
    domain methods that the serving adapter and the training smoke test call.
    """

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
        """One V1 prediction per instance, in order (docs/api.md shapes, sans model_version).

        Raises:
            InvalidInputError: naming the instance and field that is malformed.
        """

    @abstractmethod
    def infer_v2(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """V2 named tensors in, named tensors out, as :attr:`v2_inputs` and :attr:`v2_outputs` declare."""

    v2_inputs: ClassVar[dict[str, TensorSpec]] = {}
    """V2 input name -> the tensor the family expects (checked on every request, served as metadata)."""

    v2_outputs: ClassVar[dict[str, TensorSpec]] = {}
    """V2 output name -> the tensor :meth:`infer_v2` answers (served as metadata)."""

    @abstractmethod
    def smoke_instances(self) -> list[Any]:
        """V1 instances that a freshly published version must answer."""

    aliases: ClassVar[tuple[str, ...]] = ()
    """Files also exposed at ``<model>/<alias>`` (anomaly-detector: ``model.pkl``)."""


ConfigT = TypeVar("ConfigT", bound=FamilyConfig)


@dataclass(frozen=True)
class Family(Generic[ConfigT]):
    """Everything the registry, the training job and the predictor know about one family.

    Each family module (``metrics_ai/families/<module>.py``) defines one ``FAMILY``;
    :mod:`metrics_ai.families` builds the registry (model names, predictor lookup) from
    them, the predictor serves one ``ServedModel`` per descriptor, and the training job
    finds the family's ``Trainer`` in ``training/families/<module>.py`` and its
    ``Updater`` in ``training/updates/<module>.py`` (each declares ``family = FAMILY``).

    Attributes:
        name: the served model's name (URL path, model-dir folder, chart key).
        module: the file stem its predictor, trainer and updater modules share.
        config: its hyper-parameters (the manifest's ``config``).
        predictor: its serving half.
        signals: the canonical signals its training reads.
        config_from: the training run's hyper-parameters from settings.
        positive: whether a V1 prediction raises an alarm (the predictor's positives metric).
    """

    name: str
    module: str
    config: type[ConfigT]
    predictor: type[Predictor]
    signals: tuple[str, ...]
    config_from: Callable[[Settings], ConfigT]
    positive: Callable[[Mapping[str, Any]], bool]
