"""What every family provides to the training job and to the predictor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from metrics_ai.artifacts import Manifest
from metrics_ai.errors import MetricsAIError
from metrics_ai.families.models import DomainRequest, DomainResponse, RowLayout, SeriesLayout
from metrics_ai.families.models import TensorSpec as TensorSpec  # re-exported: every family names it from here
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

    Subclasses keep prediction in NumPy (no fitting, no heavy imports); every family's
    predictor is a :class:`DomainPredictor` (typed request in, typed response out).
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

    aliases: ClassVar[tuple[str, ...]] = ()
    """Files also exposed at ``<model>/<alias>`` (anomaly-detector: ``model.pkl``)."""


RequestT = TypeVar("RequestT", bound=DomainRequest)
ResponseT = TypeVar("ResponseT", bound=DomainResponse)


class DomainPredictor(Predictor, Generic[RequestT, ResponseT]):
    """A family's one domain call: a typed request in, a typed response out, no protocol.

    The serving codecs build the request from V1 instances or V2 tensors (by :meth:`layout`)
    and turn the response into the protocol's answer.
    """

    request: ClassVar[type[DomainRequest]]
    """The request model (its ``layout`` is the class-level shape the V2 metadata declares)."""

    @abstractmethod
    def predict(self, request: RequestT) -> ResponseT:
        """One answer per request row, in order.

        Raises:
            InvalidInputError: a request the domain refuses (a :class:`RowError` naming the row).
        """

    @abstractmethod
    def smoke_request(self) -> RequestT:
        """A request that a freshly published version must answer (built from the version itself)."""

    def layout(self) -> RowLayout | SeriesLayout:
        """This version's row shape (the request class's, unless its config names other columns)."""
        return self.request.layout


def answer_smoke(predictor: Predictor) -> None:
    """Answer the version's own smoke request (publisher, predictor, shadow: the same check).

    Raises:
        MetricsAIError: it answered a different number of rows than asked.
    """
    assert isinstance(predictor, DomainPredictor), type(predictor)
    request = predictor.smoke_request()
    asked, answered = len(request), len(predictor.predict(request))
    if asked != answered:
        raise MetricsAIError(f"smoke request: {asked} rows asked but {answered} answered")


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
        request: the request model of its :class:`DomainPredictor` (what the codecs build).
        response: its response model (what counts as an alarm, what V2 answers).
    """

    name: str
    module: str
    config: type[ConfigT]
    predictor: type[Predictor]
    signals: tuple[str, ...]
    config_from: Callable[[Settings], ConfigT]
    request: type[DomainRequest]
    response: type[DomainResponse]
