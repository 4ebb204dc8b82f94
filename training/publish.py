"""Publish a trained family: write, verify, smoke-test, gate, switch (or hold for approval), prune."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from metrics_ai.artifacts import DataWindow, Manifest, ModelStore
from metrics_ai.errors import MetricsAIError
from metrics_ai.families import predictor_class
from metrics_ai.families.base import answer_smoke
from metrics_ai.history import Event
from metrics_ai.manifest import GATE, Gate
from metrics_ai.settings import Approval, Settings
from training.families.base import TrainOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    """What happened to a new version."""

    model: str
    version: str
    accepted: bool
    reason: str = ""
    previous: str | None = None
    pending: bool = False
    """Accepted with APPROVAL=manual: written and passed, waiting for ``approve`` (not current)."""


#: absolute slack added to every gate figure, so a perfect current version (0 errors)
#: does not block every successor that makes one small mistake
GATE_SLACK = 0.01


def gate_reason(current: Gate | None, candidate: Gate, margin: float) -> str:
    """Why a candidate is worse than current by more than ``margin`` ('' if it is not).

    Both are manifests' gate figures (:attr:`Manifest.gate`): name -> value, lower is better, on a
    scale where 0.01 is a negligible difference (rates, relative errors).
    """
    if not current:
        return ""
    worse = []
    for name, old in current.items():
        new = candidate.get(name)
        if new is None or old is None:
            continue
        if float(new) > float(old) * (1.0 + margin) + GATE_SLACK:
            worse.append(f"{name} {float(new):.4g} > {float(old):.4g} x (1 + {margin:g}) + {GATE_SLACK:g}")
    return "; ".join(worse)


def smoke_test(store: ModelStore, version: str) -> Manifest:
    """Load a version from disk exactly as the predictor will, and answer its smoke request."""
    manifest, folder = store.verify(version)
    predictor = predictor_class(store.model).load(folder, manifest)
    answer_smoke(predictor)
    return manifest


def publish(
    store: ModelStore,
    outcome: TrainOutcome,
    data: DataWindow,
    settings: Settings,
    baseline_gate: Gate | None = None,
) -> PublishResult:
    """Write a complete immutable version; make it current only if it loads, answers and passes the gate.

    With APPROVAL=manual a version that passes is recorded ``pending`` instead, and the
    current one keeps serving until ``python -m training approve``.

    Args:
        baseline_gate: figures to hold the candidate's ``metrics["gate"]`` against instead of
            the current manifest's: an incremental update measures the current version on
            the same recent tail as its candidate (:mod:`training.update`).
    """
    with store.stage() as staging:
        outcome.predictor.save(staging)
        for name, write in outcome.extra_files.items():
            write(staging / name)
        manifest = store.commit(
            staging,
            family=type(outcome.predictor).__name__,
            data=data,
            config=outcome.config.model_dump(mode="json"),
            metrics={**outcome.metrics, "skipped": outcome.skipped},
            entities=outcome.entities,
            components=outcome.components,
            aliases=list(type(outcome.predictor).aliases),
        )
    previous = store.current_version()
    try:
        smoke_test(store, manifest.version)
    except Exception as exc:  # a version that cannot serve must never become current
        reason = f"smoke test failed: {type(exc).__name__}: {exc}"
        store.reject(manifest.version, reason)
        prune(store, settings)
        return PublishResult(store.model, manifest.version, False, reason, previous)
    current_gate = baseline_gate
    if previous is not None and baseline_gate is None:
        try:
            current_gate = store.current().full_run_gate
        except MetricsAIError:
            current_gate = None  # a corrupt current version never blocks its replacement
    reason = gate_reason(current_gate, outcome.metrics.get(GATE, {}), settings.gate_margin)
    if reason:
        store.reject(manifest.version, f"quality gate: {reason}")
        prune(store, settings)
        return PublishResult(store.model, manifest.version, False, f"quality gate: {reason}", previous)
    held = settings.approval == Approval.manual
    if held:
        store.hold(manifest.version)
    else:
        store.promote(manifest.version, Event.published_current)
    prune(store, settings)
    return PublishResult(store.model, manifest.version, True, "", previous, pending=held)


def prune(store: ModelStore, settings: Settings) -> list[str]:
    """Apply KEEP_VERSIONS after a publish, accepted or rejected (:meth:`ModelStore.prune`).

    A failure is logged and leaves the versions as they are: the publish itself has happened.
    """
    try:
        return store.prune(settings.keep_versions, also_keep=newest_full_run(store))
    except (OSError, MetricsAIError) as exc:
        log.error("%s: pruning failed, versions left as they are: %s", store.model, exc)
        return []


def newest_full_run(store: ModelStore) -> set[str]:
    """The newest version a full run published (kept by pruning: hourly updates would
    otherwise push the weekly version out of reach of a rollback within hours)."""
    rejected = store.rejected()
    for version in reversed(store.versions()):
        if version in rejected:
            continue
        try:
            if not store.manifest(version).is_update:
                return {version}
        except MetricsAIError:
            continue
    return set()
