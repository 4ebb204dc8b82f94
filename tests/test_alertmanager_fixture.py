"""The alerting test fixtures work: a real Alertmanager delivers to the test's webhook, and a
real Prometheus evaluating the chart's own rules sends it the alerts an exporter's series call for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.alert_rules import alerts, render_rule_groups, write_rules_file
from tests.alertmanager_fixture import Alertmanager, alertmanager  # noqa: F401 (fixture)
from tests.fake_prometheus import free_port
from tests.prometheus_fixture import prometheus_binaries, rules_config, start_prometheus, stop_process, wait_ready


def test_an_alert_posted_to_the_api_arrives_at_the_webhook(alertmanager: Alertmanager) -> None:  # noqa: F811
    labels = {"alertname": "MetricsAIFilesystemFillingUp", "severity": "critical", "node": "worker-1"}
    alertmanager.post_alerts([{"labels": labels, "annotations": {"summary": "/var fills"}}])
    (alert,) = alertmanager.webhook.wait_for(lambda got: len(got) >= 1)
    assert alert["labels"] == labels
    assert alert["annotations"] == {"summary": "/var fills"}
    assert alert["status"] == "firing"


class _Exporter:
    """A /metrics endpoint exposing what the alerting client would: one filling disk, one
    healthy disk, and a last successful pass that is always now."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                disk = 'cluster="prod-east",node="{}",mountpoint="{}"'
                body = "\n".join(
                    [
                        f"metrics_ai_alerting_last_success_timestamp_seconds {time.time()}",
                        f"metrics_ai_disk_days_to_full{{{disk.format('worker-1', '/var')}}} 1.5",
                        f"metrics_ai_disk_fill_severity{{{disk.format('worker-1', '/var')}}} 3",
                        f"metrics_ai_disk_days_to_full{{{disk.format('worker-2', '/')}}} +Inf",
                        f"metrics_ai_disk_fill_severity{{{disk.format('worker-2', '/')}}} 0",
                        "",
                    ]
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def exporter() -> Iterator[_Exporter]:
    served = _Exporter()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_prometheus_sends_the_charts_alerts_to_alertmanager(
    tmp_path: Path,
    alertmanager: Alertmanager,  # noqa: F811
    exporter: _Exporter,
) -> None:
    # every alert at once, except the staleness one (absent until the first scrape lands)
    names = {rule["alert"] for rule in alerts(render_rule_groups())} - {"MetricsAIAlertingPassStale"}
    runbooks = "https://docs.example.com/metrics-ai/docs/openshift.md"
    groups = render_rule_groups({"alerting": {"runbookBaseUrl": runbooks, "rules": {n: {"for": "0s"} for n in names}}})
    rules = write_rules_file(groups, tmp_path / "rules.yml")
    prometheus, _ = prometheus_binaries()
    config = rules_config([rules], [alertmanager.address], {"metrics-ai-alerting": [exporter.address]})
    (tmp_path / "tsdb").mkdir()
    proc, url, log = start_prometheus(prometheus, tmp_path / "tsdb", tmp_path, config_text=config)
    try:
        wait_ready(proc, url, log)
        got = alertmanager.webhook.wait_for(
            lambda alerts: any(a["labels"]["alertname"] == "MetricsAIFilesystemFillingUp" for a in alerts)
        )
        time.sleep(3)  # a few more evaluations: anything else that would fire has fired by now
        got = alertmanager.webhook.alerts()
    finally:
        stop_process(proc)
    fired = {(a["labels"]["alertname"], a["labels"].get("node")) for a in got if a["status"] == "firing"}
    assert fired == {("MetricsAIFilesystemFillingUp", "worker-1")}, log.read_text()[-2000:]
    alert = next(a for a in got if a["labels"]["alertname"] == "MetricsAIFilesystemFillingUp")
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["mountpoint"] == "/var" and alert["labels"]["cluster"] == "prod-east"
    assert "reaches 90 % used in 1d 12h 0m 0s" in alert["annotations"]["description"]
    assert alert["annotations"]["runbook_url"] == f"{runbooks}#metricsaifilesystemfillingup"
