"""The crossing family: "when does this series reach its threshold?", parametrized by a :class:`CrossingSpec`.

disk-eta and io-crisis are two configurations of one predictor. Each keys a series by
(cluster, node, <key>) (:mod:`metrics_ai.entities`; the key is a mountpoint or a signal),
keeps a Prophet state and the recent history per series (:class:`TrendState`), answers
from the request's history, else the live source's, else the saved one, and differs only
in what its :class:`CrossingSpec` says: the key and its V2 names, what a value may be, the
threshold, the estimate and the shape of the answer.

The predictor's request path has two halves: the domain call (:meth:`CrossingPredictor.answer`:
parsed key and history in, the family's answer out) and the protocol (V1 instances and V2
tensors parsed and answers formatted, in the section marked below), kept apart so the
protocol can move to typed request models without touching the domain call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, Self, TypeVar

import numpy as np

from metrics_ai.artifacts import Manifest
from metrics_ai.crossing import TrendState, latest_history, load_states, save_states
from metrics_ai.entities import EntityIndex, Key, optional_cluster
from metrics_ai.errors import InvalidInputError, UnknownEntityError
from metrics_ai.families.base import HISTORY_INPUTS, TEXT_ROWS, FamilyConfig, Predictor, TensorSpec
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History, parse_history
from metrics_ai.v2rows import padded_histories, text_column


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
        v1_fields: (answer, threshold) -> the V1 answer's fields after node and key, before ``source``.
        v2_names: the V2 tensors of the node and of the key.
        v2_outputs: the V2 output tensors.
        v2_columns: the answers of a request's rows -> those tensors.
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
    v1_fields: Callable[[A, float], dict[str, Any]]
    v2_names: tuple[str, str]
    v2_outputs: dict[str, TensorSpec]
    v2_columns: Callable[[list[A]], dict[str, np.ndarray]]

    @property
    def key(self) -> str:
        """The key besides cluster and node (``mountpoint``, ``signal``)."""
        return self.labels[2]

    @property
    def v2_inputs(self) -> dict[str, TensorSpec]:
        """The node and key text columns, then the history."""
        return {self.v2_names[0]: TEXT_ROWS, self.v2_names[1]: TEXT_ROWS, **HISTORY_INPUTS}

    @property
    def signals_text(self) -> str:
        """The signals as messages name them (the signal, or the list of them)."""
        return self.signals[0] if len(self.signals) == 1 else str(list(self.signals))


class CrossingPredictor(Predictor, Generic[C, A]):
    """Per-series Prophet states plus recent values, answered in NumPy as :attr:`spec` says."""

    spec: ClassVar[CrossingSpec[Any, Any]]

    def __init__(self, config: C, states: dict[Key, TrendState]) -> None:
        self.config = config
        self.states = states
        self._index = EntityIndex(states)

    # --- the domain call ---------------------------------------------------------------------

    def answer(
        self, cluster: str | None, node: str, key: str, history: History | None, field: str
    ) -> tuple[A, str, str | None, Key]:
        """(answer, source, note, the series' full key) for one series; ``field`` names it in errors.

        Without ``cluster`` the node's only cluster is meant; a node name in several
        clusters is a 400 naming ``<field>.cluster``.
        """
        spec = self.spec
        full = self._index.resolve(cluster, node, key, field)
        state = self.states.get(full)
        source = "request"
        if history is None:
            history, source = self._latest(full, state)
        if history is None:
            raise UnknownEntityError(
                f"{field}: {spec.entity(node, key)} is unknown to this model and no live source has it; "
                "send its history"
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

    # --- the protocol: V1 instances and V2 tensors in, answers out -----------------------------

    def predict_v1(self, instances: list[Any]) -> list[dict[str, Any]]:
        """One answer per ``{"node", <key>, "cluster"?, "history"?}``."""
        if not isinstance(instances, list) or not instances:
            raise InvalidInputError("instances", f"expected a non-empty list of {self._shape()}")
        parsed = [self._parse_v1(i, inst) for i, inst in enumerate(instances)]
        out = []
        for i, (cluster, node, key, history) in enumerate(parsed):
            answer, source, note, full = self.answer(cluster, node, key, history, f"instances[{i}]")
            pred: dict[str, Any] = {
                **({"cluster": full[0]} if full[0] else {}),
                "node": node,
                self.spec.key: key,
                **self.spec.v1_fields(answer, self.threshold(key)),
                "source": source,
            }
            if answer.reason:
                pred["reason"] = answer.reason
            elif note:
                pred["note"] = note
            out.append(pred)
        return out

    def _shape(self) -> str:
        return f'{{"node", "{self.spec.key}", "cluster"?, "history"?}}'

    def _parse_v1(self, i: int, inst: Any) -> tuple[str | None, str, str, History | None]:
        """(cluster, node, key, history) of one instance; free-text keys, then cluster, then a choice key."""
        field, name = f"instances[{i}]", self.spec.key
        if not isinstance(inst, Mapping):
            raise InvalidInputError(field, f"expected an object {self._shape()}")
        extra = sorted(set(inst) - {"cluster", "node", name, "history"})
        if extra:
            raise InvalidInputError(field, f"unknown key(s) {extra}; expected node, {name}, cluster, history")
        for text in ("node",) if self.spec.key_values else ("node", name):
            if not isinstance(inst.get(text), str) or not inst.get(text):
                raise InvalidInputError(f"{field}.{text}", "expected a non-empty string")
        cluster = optional_cluster(inst, field)
        key = self._check_key(inst.get(name), f"{field}.{name}")
        history = None
        if inst.get("history") is not None:
            history = parse_history(inst["history"], f"{field}.history")
            self._check_values(history.values, key, f"{field}.history.values")
        return cluster, inst["node"], key, history

    def infer_v2(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Node and key BYTES [N]; timestamps INT64, values FP32 [N, T] (NaN-padded) -> :attr:`v2_outputs`."""
        node_name, key_name = self.spec.v2_names
        histories = padded_histories(inputs["timestamps"], inputs["values"])
        n = len(histories)
        nodes = text_column(inputs[node_name], node_name, n)
        texts = text_column(inputs[key_name], key_name, n)
        keys = [self._check_key(k, f"{key_name}[{i}]") for i, k in enumerate(texts)]
        for i, h in enumerate(histories):
            if h is not None:
                self._check_values(h.values, keys[i], f"values[{i}]")
        answers = [self.answer(None, nodes[i], keys[i], histories[i], f"{node_name}[{i}]")[0] for i in range(n)]
        return self.spec.v2_columns(answers)

    def _check_key(self, value: Any, field: str) -> str:
        """One of :attr:`CrossingSpec.key_values` (when it lists them), or a 400 naming the field."""
        allowed = self.spec.key_values
        if allowed is not None and value not in allowed:
            raise InvalidInputError(field, f"unknown {self.spec.key} {value!r}; expected one of {list(allowed)}")
        return str(value)

    def _check_values(self, values: np.ndarray, key: str, field: str) -> None:
        """Values must lie in the key's :class:`ValueRange`."""
        upper, meaning = self.spec.value_range(key)
        bad = (values < 0) | (values > upper)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(f"{field}[{j}]", f"{values[j]:g} is not {meaning}")

    def smoke_instances(self) -> list[Any]:
        """The first series with state, without history and with its own recent history."""
        cluster, node, key = next(k for k, s in self.states.items() if len(s.recent))
        recent = self.states[(cluster, node, key)].recent
        history = {"timestamps": recent.timestamps.tolist(), "values": recent.values.tolist()}
        series = {**({"cluster": cluster} if cluster else {}), "node": node, self.spec.key: key}
        return [series, {**series, "history": history}]

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
