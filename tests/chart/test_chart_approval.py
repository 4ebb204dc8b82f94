"""train.approval reaches both training CronJobs as APPROVAL; predictor.shadow reaches the predictor as SHADOW."""

from __future__ import annotations

import re
from typing import Any

import helm_python as helm
import pytest

from tests.chart.test_chart_openshift import _env, _train_pod

UPDATE_ON = {"update": {"enabled": True}}


def _training_env(objects: list[dict[str, Any]], pick: Any) -> list[dict[str, str]]:
    return [_env(_train_pod(cron)["containers"][0]) for cron in pick.by_kind(objects, "CronJob")]


def _predictor_env(objects: list[dict[str, Any]], pick: Any) -> dict[str, str]:
    return _env(pick.runtime(objects)["spec"]["containers"][0])


def test_defaults_are_auto_approval_and_no_shadow(render: Any, pick: Any) -> None:
    objects = render(UPDATE_ON)
    assert [env["APPROVAL"] for env in _training_env(objects, pick)] == ["auto", "auto"]
    assert _predictor_env(objects, pick)["METRICS_AI_SHADOW"] == "off"


def test_manual_approval_and_shadow_pending_are_wired(render: Any, pick: Any) -> None:
    objects = render({**UPDATE_ON, "train": {"approval": "manual"}, "predictor": {"shadow": "pending"}})
    assert [env["APPROVAL"] for env in _training_env(objects, pick)] == ["manual", "manual"]
    assert _predictor_env(objects, pick)["METRICS_AI_SHADOW"] == "pending"


@pytest.mark.parametrize(
    ("values", "where"),
    [({"train": {"approval": "yes"}}, "/train/approval"), ({"predictor": {"shadow": "on"}}, "/predictor/shadow")],
)
def test_unknown_choices_fail_the_schema(chart: helm.Chart, values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=re.escape(f"at '{where}'")):
        chart.validate_schema(values)
