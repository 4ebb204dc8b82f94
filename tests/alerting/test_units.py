"""The parts of the client that need no server: routing, settings, alarm feeding, snapshots."""

from __future__ import annotations

import pytest

from alerting.alarms import AlarmBank
from alerting.settings import AlertingSettings, load_all
from alerting.snapshot import Health
from metrics_ai.alarm import AlarmConfig


def test_template_base_url_and_per_model_overrides_route_each_model() -> None:
    options = AlertingSettings(
        predictor_url="http://{model}-predictor.ns.svc.cluster.local:8080",
        predictor_model_urls="disk-eta=http://disks:9000/,io-crisis=https://io.example",
    )
    assert options.model_url("anomaly-detector") == (
        "http://anomaly-detector-predictor.ns.svc.cluster.local:8080/v1/models/anomaly-detector:predict"
    )
    assert options.model_url("disk-eta") == "http://disks:9000/v1/models/disk-eta:predict"
    assert options.model_url("io-crisis") == "https://io.example/v1/models/io-crisis:predict"
    repeated = AlertingSettings(  # --model-url given twice
        predictor_model_urls=["disk-eta=http://d:1", "io-crisis=http://i:2"], models="disk-eta,io-crisis"
    )
    assert repeated.model_url("io-crisis") == "http://i:2/v1/models/io-crisis:predict"
    combined = AlertingSettings(predictor_url="http://metrics-ai-predictor:8080/")
    assert combined.model_url("node-outliers") == "http://metrics-ai-predictor:8080/v1/models/node-outliers:predict"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREDICTOR_URL", "http://p:8080")
    monkeypatch.setenv("PREDICTOR_MODEL_URLS", "disk-eta=http://d:1")
    monkeypatch.setenv("PROMETHEUS_URL", "http://prom:9090")
    monkeypatch.setenv("ALERTING_INTERVAL", "5m")
    monkeypatch.setenv("ALERTING_MODELS", "disk-eta,io-crisis")
    shared, options = load_all(port=9999)
    assert shared.prometheus_url == "http://prom:9090"
    assert (options.interval, options.port, options.models) == (300, 9999, ("disk-eta", "io-crisis"))
    assert options.model_url("disk-eta") == "http://d:1/v1/models/disk-eta:predict"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PREDICTOR_MODEL_URLS": "disk-eta"}, "expected NAME=URL"),
        ({"PREDICTOR_MODEL_URLS": "disks=http://d"}, "unknown model"),
        ({"ALERTING_MODELS": "disk-eta,nope"}, "expected 'all' or some of"),
        ({"ALERTING_INTERVAL": "soon"}, "duration"),
        ({"PREDICTOR_URL": ""}, "no predictor URL"),
        ({"METRICS_AI_ALERTING_INTERVALL": "60"}, "unknown setting"),
        ({"PROMETHEUS_URL": ""}, "no Prometheus"),
    ],
)
def test_bad_settings_fail_at_start_naming_the_problem(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("PREDICTOR_URL", "http://p:8080")
    monkeypatch.setenv("PROMETHEUS_URL", "http://prom:9090")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        load_all()


def test_an_alarm_takes_each_point_once() -> None:
    bank = AlarmBank(step=60)
    first = bank.update(("c", "cpu"), 100.0, 1.0, 5.0)
    assert bank.update(("c", "cpu"), 100.0, 1.0, 5.0) is first, "the same point fed again"
    assert bank.update(("c", "cpu"), 40.0, 1.0, 5.0) is first, "an older point fed"
    assert bank.update(("c", "cpu"), 160.0, 1.0, 5.0) is not first
    bank.update(("n", "io_wait"), 100.0, 0.0, 0.1)
    bank.retain([("n", "io_wait")])
    assert len(bank) == 1


def test_the_bank_counts_alarm_durations_at_its_step() -> None:
    # the same shipped hold in seconds is 60 points at a 60 s step and 12 at 300 s
    held = {}
    for step in (60, 300):
        bank, t = AlarmBank(step=step), 0.0
        for i in range(int(2 * 86_400 / step)):  # two quiet days, then a lasting jump
            t += step
            bank.update(("c", "cpu"), t, 0.05, 10.0 + (i % 3) * 0.1)
        states = []
        for _ in range(int(3 * 3600 / step)):
            t += step
            states.append(bank.update(("c", "cpu"), t, 0.9, 40.0))
        assert sum(s.onset for s in states) == 1
        held[step] = sum(s.firing for s in states) * step
    assert held[60] == held[300] == AlarmConfig().hold_seconds


def test_health_counts_and_keeps_the_last_success() -> None:
    ok = Health().after("success", {}, {"disk-eta": 3}, 1.5, finished=1000.0)
    failed = ok.after("failed", {"prometheus": 1}, {}, 0.2, finished=1060.0)
    assert failed.last_success == 1000.0 and failed.duration == 0.2
    assert dict(failed.passes) == {"success": 1, "partial": 0, "failed": 1}
    assert failed.errors["prometheus"] == 1 and failed.errors["disk-eta"] == 0
