"""The crossing family: "when does this series reach its threshold?", parametrized by a :class:`CrossingSpec`.

disk-eta and io-crisis are two configurations of one predictor. Each keys a series by
(cluster, node, <key>) (:mod:`metrics_ai.entities`; the key is a mountpoint or a signal),
keeps a Prophet state and the recent history per series (:class:`TrendState`), answers
from the request's history, else the live source's, else the saved one, and differs only
in what its :class:`CrossingSpec` says: the key and its V2 names, what a value may be, the
threshold, the estimate and the shape of the answer.

The domain call is :meth:`CrossingPredictor.predict`: the family's request model (node,
key, optional cluster and history per row; :class:`~metrics_ai.families.models.SeriesRequest`)
in, its response model (:class:`CrossingResponse`) out. The serving codecs build the request
from V1 instances or V2 tensors and turn the response into the protocol's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, Self, TypeVar

import numpy as np

from metrics_ai.artifacts import Manifest
from metrics_ai.crossing import TrendState, latest_history, load_states, save_states
from metrics_ai.entities import EntityIndex, Key
from metrics_ai.errors import RowError, RowNotFound
from metrics_ai.families.base import DomainPredictor, FamilyConfig
from metrics_ai.families.models import DomainResponse, SeriesLayout, SeriesRequest
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History

#: the columns every crossing request has besides its key
CLUSTER, NODE = "cluster", "node"


def crossing_layout(key: str, v2_names: tuple[str, str]) -> SeriesLayout:
    """A crossing request's layout: node and ``key`` (V2: ``v2_names``), an optional cluster, the history."""
    return SeriesLayout(text=(NODE, key), v2_text=v2_names, optional=(CLUSTER,))


class CrossingResponse(DomainResponse):
    """What every crossing answer has: the series, the family's columns (subclass), source and notes.

    Subclasses declare ``cluster``, ``node``, the key, their own columns (what the spec's
    ``fields`` gives) and then ``source``, ``reason`` and ``note`` (None where absent: V1
    leaves them out), plus :attr:`v2_outputs`, :meth:`positives` and :meth:`v2_columns`.
    """

    v1_optional = frozenset({CLUSTER, "reason", "note"})


class CrossingConfig(Protocol):
    """The config fields every crossing family has (its pydantic config; read-only)."""

    @property
    def min_points(self) -> int:
        """Fewest points an estimate (and a fit) needs."""

    @property
    def horizon_days(self) -> float:
        """How far ahead a backtest's window reaches."""

    @property
    def recent_hours(self) -> float:
        """Hours of recent history kept (and fetched) for requests that bring none."""

    @property
    def recent_step(self) -> int:
        """Resolution of that recent history, in seconds."""

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]:
        """The config as JSON-able values (pydantic's)."""


class CrossingAnswer(Protocol):
    """What a family's estimate for one series carries, at the least."""

    @property
    def days(self) -> float | None:
        """Days to the crossing (0: already; None: not within the family's reach)."""

    @property
    def reason(self) -> str | None:
        """Why there is no estimate (too few points), else None."""


class ValueRange(NamedTuple):
    """The values a series may take: ``[0, upper]``, and how a 400 names them ("a ratio in [0, 1]")."""

    upper: float
    meaning: str


C = TypeVar("C", bound=CrossingConfig)
A = TypeVar("A", bound=CrossingAnswer)


@dataclass(frozen=True)
class CrossingSpec(Generic[C, A]):
    """What one crossing family is: its keys, values, thresholds, estimate and answer format.

    Attributes:
        name: the served model's name.
        config: its pydantic config class.
        labels: a series' key labels (``cluster``, ``node``, then the key: ``mountpoint`` or ``signal``).
        signals: the canonical signals its series come from.
        state_file: the stem of the state JSON next to ``recent.npz`` (``disks``: ``disks.json``).
        key_values: the values the key may take (io-crisis' signals); None: any non-empty text.
        value_range: the key -> the range its values must lie in.
        query: a key -> (signal, labels) the live source is asked for.
        threshold: (config, key) -> the threshold the series is held against.
        estimate: (history, saved Prophet state or None, config, key) -> the family's answer.
        entity: (node, key) -> the series as a 404 names it (``disk node='n1' mountpoint='/'``).
        unknown_note: the answer's ``note`` for a series the model does not know.
        no_model_note: the ``note`` for a series saved without a Prophet fit (``{reason}`` filled in).
        request: its request model (node, key, cluster, history; :func:`crossing_layout`).
        response: its response model.
        fields: (answer, threshold) -> one row's family columns (after node and key, before ``source``).
    """

    name: str
    config: type[FamilyConfig]
    labels: tuple[str, str, str]
    signals: tuple[str, ...]
    state_file: str
    key_values: tuple[str, ...] | None
    value_range: Callable[[str], ValueRange]
    query: Callable[[Key], tuple[str, dict[str, str]]]
    threshold: Callable[[C, str], float]
    estimate: Callable[[History, ProphetState | None, C, str], A]
    entity: Callable[[str, str], str]
    unknown_note: str
    no_model_note: str
    request: type[SeriesRequest]
    response: type[CrossingResponse]
    fields: Callable[[A, float], dict[str, Any]]

    @property
    def key(self) -> str:
        """The key besides cluster and node (``mountpoint``, ``signal``)."""
        return self.labels[2]

    @property
    def signals_text(self) -> str:
        """The signals as messages name them (the signal, or the list of them)."""
        return self.signals[0] if len(self.signals) == 1 else str(list(self.signals))


class CrossingPredictor(DomainPredictor[SeriesRequest, CrossingResponse], Generic[C, A]):
    """Per-series Prophet states plus recent values, answered in NumPy as :attr:`spec` says."""

    spec: ClassVar[CrossingSpec[Any, Any]]

    def __init__(self, config: C, states: dict[Key, TrendState]) -> None:
        self.config = config
        self.states = states
        self._index = EntityIndex(states)

    def predict(self, request: SeriesRequest) -> CrossingResponse:
        """One answer per row: keys and values checked for every row first, then each answered."""
        spec = self.spec
        nodes, keys, clusters = getattr(request, NODE), getattr(request, spec.key), getattr(request, CLUSTER)
        for i, (key, history) in enumerate(zip(keys, request.history, strict=True)):
            self._check_key(key, i)
            if history is not None:
                self._check_values(history.values, key, i)
        columns: dict[str, list[Any]] = {name: [] for name in spec.response.model_fields}
        for i, (cluster, node, key, history) in enumerate(zip(clusters, nodes, keys, request.history, strict=True)):
            answer, source, note, full = self.answer(cluster, node, key, history, i)
            row = {
                CLUSTER: full[0] or None,
                NODE: node,
                spec.key: key,
                **spec.fields(answer, self.threshold(key)),
                "source": source,
                "reason": answer.reason,
                "note": None if answer.reason else note,
            }
            for name, value in row.items():
                columns[name].append(value)
        return spec.response(**columns)

    def answer(
        self, cluster: str | None, node: str, key: str, history: History | None, row: int
    ) -> tuple[A, str, str | None, Key]:
        """(answer, source, note, the series' full key) for one series, request row ``row``.

        Without ``cluster`` the node's only cluster is meant; a node name in several
        clusters is a 400 naming the row's ``cluster``.
        """
        spec = self.spec
        full = self._index.resolve(cluster, node, key, row)
        state = self.states.get(full)
        source = "request"
        if history is None:
            history, source = self._latest(full, state)
        if history is None:
            raise RowNotFound(
                (NODE, row),
                f"{spec.entity(node, key)} is unknown to this model and no live source has it; send its history",
            )
        note = None
        if state is None:
            note = spec.unknown_note
        elif state.prophet is None:
            note = spec.no_model_note.format(reason=state.reason)
        prophet = state.prophet if state else None
        return spec.estimate(history, prophet, self.config, key), source, note, full

    def _latest(self, full: Key, state: TrendState | None) -> tuple[History | None, str]:
        """The live window when it has enough points, else the training-time state."""
        cfg = self.config
        signal, labels = self.spec.query(full)
        return latest_history(self.fetcher, signal, labels, state, cfg.recent_hours, cfg.recent_step, cfg.min_points)

    def threshold(self, key: str) -> float:
        """The threshold of the series with ``key``."""
        return self.spec.threshold(self.config, key)

    def _check_key(self, value: str, row: int) -> None:
        """One of :attr:`CrossingSpec.key_values` (when it lists them), or a 400 naming the row's key."""
        allowed = self.spec.key_values
        if allowed is not None and value not in allowed:
            raise RowError((self.spec.key, row), f"unknown {self.spec.key} {value!r}; expected one of {list(allowed)}")

    def _check_values(self, values: np.ndarray, key: str, row: int) -> None:
        """Values must lie in the key's :class:`ValueRange`."""
        upper, meaning = self.spec.value_range(key)
        bad = (values < 0) | (values > upper)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise RowError(("history", row, "values", j), f"{values[j]:g} is not {meaning}")

    def smoke_request(self) -> SeriesRequest:
        """The first series with state, without history and with its own recent history."""
        cluster, node, key = next(k for k, s in self.states.items() if len(s.recent))
        recent = self.states[(cluster, node, key)].recent
        return self.spec.request(
            **{CLUSTER: [cluster or None] * 2, NODE: [node] * 2, self.spec.key: [key] * 2, "history": [None, recent]}
        )

    # --- state files -----------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """``<state_file>.json`` (config, Prophet states) and ``recent.npz`` (recent values)."""
        spec = self.spec
        save_states(folder, spec.state_file, spec.labels, self.config.model_dump(mode="json"), self.states)

    @classmethod
    def load(cls, folder: Path, manifest: Manifest) -> Self:
        """Read what :meth:`save` wrote."""
        spec = cls.spec
        config, states = load_states(folder, spec.state_file, spec.labels, spec.name)
        return cls(spec.config.model_validate(config), states)  # type: ignore[arg-type]
