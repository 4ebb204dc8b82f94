"""ShadowScorer in process, on real versions: which version shadows, the figures, the bounded queue."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from metrics_ai.artifacts import ModelStore
from metrics_ai.families import FAMILIES
from metrics_ai.families.base import Predictor
from metrics_ai.settings import ShadowMode
from serving.codec import codec_for
from serving.codec_base import Codec
from serving.shadow import ShadowMetrics, ShadowScorer, abs_diff, numeric_fields
from tests.conftest import train_into
from tests.serving.test_lifecycle import copy_models
from tests.serving.test_shadow_approval import ROWS

MODEL = "anomaly-detector"


def _load(store: ModelStore, version: str | None = None) -> Predictor:
    """A version's predictor, loaded as the predictor process loads it."""
    manifest, folder = store.verify(version)
    return FAMILIES[MODEL].predictor.load(folder, manifest)


def _codec(predictor: Predictor) -> Codec:
    return codec_for(FAMILIES[MODEL], predictor)


def _scorer(root: Path, mode: ShadowMode, queue_size: int = 100) -> tuple[ShadowScorer, CollectorRegistry]:
    registry = CollectorRegistry()
    scorer = ShadowScorer(FAMILIES[MODEL], ModelStore(root, MODEL), mode, ShadowMetrics(registry), queue_size, 1.0)
    return scorer, registry


def test_newest_shadows_a_newer_version_and_compares_answers(tmp_path, basic_models, tiny_frame, settings) -> None:
    root = copy_models(basic_models, tmp_path)
    store = ModelStore(root, MODEL)
    first = store.current_version()
    assert first is not None
    train_into(root, tiny_frame, settings.model_copy(update={"seed": 7, "gate_margin": 10.0}), [MODEL])
    second = store.current_version()
    assert second is not None
    store.rollback()  # first is current again; second is newer and was not rejected
    assert store.current_version() == first

    assert _scorer(root, ShadowMode.pending)[0].wanted() is None  # nothing awaits approval
    scorer, registry = _scorer(root, ShadowMode.newest)
    assert scorer.refresh() and scorer.version == second
    assert registry.get_sample_value("metrics_ai_shadow_version_info", {"model": MODEL, "version": second}) == 1

    ours = _load(store, first)
    theirs = _load(store, second)
    requests = [[row, ROWS[0]] for row in ROWS]
    for instances in requests:
        answer = _codec(ours).v1(instances)
        scorer.offer(instances, answer.predictions, answer.flags)
    assert scorer.score_pending() == len(requests)

    # each request on its own (anomaly-detector reads a request's rows as one sequence)
    answers = [(_codec(ours).v1(r), _codec(theirs).v1(r)) for r in requests]
    pairs = [p for a, b in answers for p in zip(a.predictions, b.predictions, strict=True)]
    flat = [row for instances in requests for row in instances]
    agree = sum(int(x) == int(y) for a, b in answers for x, y in zip(a.flags, b.flags, strict=True))
    score_diff = sum(abs(a["score"] - b["score"]) for a, b in pairs)
    assert score_diff > 0  # another seed scores differently
    labels = {"model": MODEL}
    assert registry.get_sample_value("metrics_ai_shadow_requests_total", labels) == len(requests)
    assert registry.get_sample_value("metrics_ai_shadow_predictions_total", labels) == len(flat)
    assert registry.get_sample_value("metrics_ai_shadow_flag_agreements_total", labels) == agree
    assert registry.get_sample_value("metrics_ai_shadow_flag_agreement_ratio", labels) == agree / len(flat)
    measured = registry.get_sample_value("metrics_ai_shadow_abs_diff", {**labels, "field": "score"})
    assert measured is not None and abs(measured - score_diff / len(flat)) < 1e-12

    store.rollback(second)
    assert scorer.refresh() and scorer.version is None
    assert registry.get_sample_value("metrics_ai_shadow_version_info", {"model": MODEL, "version": second}) is None
    assert registry.get_sample_value("metrics_ai_shadow_flag_agreement_ratio", labels) is None


def test_full_queue_drops_and_counts_without_waiting(tmp_path, basic_models, tiny_frame, settings) -> None:
    root = copy_models(basic_models, tmp_path)
    store = ModelStore(root, MODEL)
    train_into(root, tiny_frame, settings.model_copy(update={"seed": 7, "gate_margin": 10.0}), [MODEL])
    store.rollback()
    scorer, registry = _scorer(root, ShadowMode.newest, queue_size=2)
    scorer.offer([ROWS[0]], [{"score": 0.1}], [False])  # nothing loaded yet: ignored, not counted
    assert registry.get_sample_value("metrics_ai_shadow_dropped_total", {"model": MODEL}) == 0
    scorer.refresh()
    answer = _codec(_load(store)).v1([ROWS[0]])
    for _ in range(3):
        scorer.offer([ROWS[0]], answer.predictions, answer.flags)
    assert registry.get_sample_value("metrics_ai_shadow_dropped_total", {"model": MODEL}) == 1
    assert scorer.score_pending() == 2


def test_numeric_fields_and_differences() -> None:
    answer = {"score": 1.5, "is_anomaly": True, "model_version": "v", "forecast": [1.0, 2.0], "eta": {"days": 3}}
    assert dict(numeric_fields(answer)) == {"score": 1.5, "forecast": [1.0, 2.0], "eta.days": 3}
    assert abs_diff([1.0, 2.0], [2.0, 4.0]) == 1.5
    assert abs_diff([1.0], [1.0, 2.0]) is None and abs_diff(3, 1.5) == 1.5


def test_over_its_cpu_budget_the_shadow_skips_and_counts(tmp_path, basic_models, tiny_frame, settings) -> None:
    root = copy_models(basic_models, tmp_path)
    store = ModelStore(root, MODEL)
    train_into(root, tiny_frame, settings.model_copy(update={"seed": 7, "gate_margin": 10.0}), [MODEL])
    store.rollback()
    registry = CollectorRegistry()
    scorer = ShadowScorer(
        FAMILIES[MODEL], store, ShadowMode.newest, ShadowMetrics(registry), 100, 1.0, budget=1e-9
    )  # a nanosecond of scoring a second: the first request spends it all
    scorer.refresh()
    answer = _codec(_load(store)).v1([ROWS[0]])
    for _ in range(5):
        scorer.offer([ROWS[0]], answer.predictions, answer.flags)
    assert scorer.score_pending() == 1
    assert registry.get_sample_value("metrics_ai_shadow_dropped_total", {"model": MODEL}) == 4
    assert registry.get_sample_value("metrics_ai_shadow_requests_total", {"model": MODEL}) == 1
