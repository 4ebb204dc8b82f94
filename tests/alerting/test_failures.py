"""A predictor or Prometheus that is down fails the pass loudly and leaves no stale series."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.alerting.conftest import NO_PROMETHEUS, series_of, wait_ready
from tests.fake_prometheus import FakePrometheus, Request

A_MODELS = ("disk-eta", "io-crisis")
B_MODELS = ("anomaly-detector", "node-outliers", "resource-forecast")
GAUGE_OF = {
    "disk-eta": "metrics_ai_disk_days_to_full",
    "io-crisis": "metrics_ai_crisis_days",
    "anomaly-detector": "metrics_ai_cluster_anomaly",
    "node-outliers": "metrics_ai_node_outlier",
    "resource-forecast": "metrics_ai_forecast",
}


def _outcomes(scraped: dict) -> dict[str, float]:
    return {dict(k)["outcome"]: v for k, v in series_of(scraped, "metrics_ai_alerting_passes_total").items()}


def _errors(scraped: dict) -> dict[str, float]:
    return {dict(k)["model"]: v for k, v in series_of(scraped, "metrics_ai_alerting_errors_total").items()}


def test_per_model_urls_route_and_a_stopped_predictor_drops_its_models(
    make_client, start_predictor, all_models
) -> None:
    a = start_predictor(all_models, ",".join(A_MODELS), env=NO_PROMETHEUS)
    b = start_predictor(all_models, ",".join(B_MODELS), env=NO_PROMETHEUS)
    wait_ready(a, A_MODELS)
    wait_ready(b, B_MODELS)
    client = make_client(predictor_url=a.url, predictor_model_urls={m: b.url for m in B_MODELS})
    client.runner.run_once()
    first = client.scrape()
    assert _outcomes(first)["success"] == 1, client.runner.snapshot.health
    for model, gauge in GAUGE_OF.items():
        assert series_of(first, gauge), f"{model} answered nothing through its own URL"
    last_success = first[("metrics_ai_alerting_last_success_timestamp_seconds", ())]

    b.stop()
    client.runner.run_once()
    second = client.scrape()
    assert _outcomes(second) == {"success": 1, "partial": 1, "failed": 0}
    errors = _errors(second)
    assert all(errors[m] == 1 for m in B_MODELS) and all(errors[m] == 0 for m in A_MODELS), errors
    for model in B_MODELS:
        assert not series_of(second, GAUGE_OF[model]), f"{model}'s series stayed after its call failed"
    for model in A_MODELS:
        assert series_of(second, GAUGE_OF[model]) == series_of(first, GAUGE_OF[model])
    assert second[("metrics_ai_alerting_last_success_timestamp_seconds", ())] == last_success
    entities = {dict(k)["model"]: v for k, v in series_of(second, "metrics_ai_alerting_entities").items()}
    assert all(entities[m] == 0 for m in B_MODELS) and all(entities[m] > 0 for m in A_MODELS)

    a.stop()
    client.runner.run_once()
    third = client.scrape()
    assert _outcomes(third)["failed"] == 1
    assert not [k for k in third if k[0] in GAUGE_OF.values()], "entity series after every model failed"


def forwarding(target: str) -> FakePrometheus:
    """A proxy to the real Prometheus that can be taken away (leaving its context)."""

    def respond(request: Request, stopping: threading.Event) -> tuple[int, dict[str, Any]]:
        url = f"{target}{request.path}?{urllib.parse.urlencode(request.params)}"
        with urllib.request.urlopen(url, timeout=60) as answer:
            return answer.status, json.loads(answer.read())

    return FakePrometheus(respond)


def test_prometheus_down_fails_the_pass_and_removes_every_entity_series(
    make_client, predictor, prometheus_data
) -> None:
    with forwarding(prometheus_data.url) as proxy:
        client = make_client(prometheus_url=proxy.url, predictor_url=predictor.url, models=("disk-eta",))
        client.runner.run_once()
        assert series_of(client.scrape(), "metrics_ai_disk_days_to_full")
    client.runner.run_once()  # the proxy is gone: connection refused
    scraped = client.scrape()
    assert _outcomes(scraped) == {"success": 1, "partial": 0, "failed": 1}
    assert _errors(scraped)["prometheus"] == 1
    assert not series_of(scraped, "metrics_ai_disk_days_to_full")
    assert not series_of(scraped, "metrics_ai_disk_used_percent")
    assert list(series_of(scraped, "metrics_ai_alerting_entities").values()) == [0.0]


class PathGateway:
    """A gateway routing ``/<model>/...`` to the predictor that serves the model (path-prefix ingress)."""

    def __init__(self, routes: dict[str, str]) -> None:
        self.seen: list[str] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                model, _, rest = self.path.lstrip("/").partition("/")
                gateway.seen.append(model)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                forward = urllib.request.Request(
                    f"{routes[model]}/{rest}", data=body, headers={"Content-Type": "application/json"}
                )
                try:
                    with urllib.request.urlopen(forward, timeout=60) as answer:
                        status, data = answer.status, answer.read()
                except urllib.error.HTTPError as exc:
                    status, data = exc.code, exc.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop the gateway."""
        self.server.shutdown()
        self.server.server_close()


def test_a_model_template_sends_each_model_to_its_own_service(make_client, start_predictor, all_models) -> None:
    a = start_predictor(all_models, ",".join(A_MODELS), env=NO_PROMETHEUS)
    b = start_predictor(all_models, ",".join(B_MODELS), env=NO_PROMETHEUS)
    wait_ready(a, A_MODELS)
    wait_ready(b, B_MODELS)
    gateway = PathGateway({**dict.fromkeys(A_MODELS, a.url), **dict.fromkeys(B_MODELS, b.url)})
    try:
        client = make_client(predictor_url=f"{gateway.url}/{{model}}")
        client.runner.run_once()
        scraped = client.scrape()
    finally:
        gateway.close()
    assert _outcomes(scraped)["success"] == 1, client.runner.snapshot.health
    assert set(gateway.seen) == set(A_MODELS + B_MODELS)
    for model, gauge in GAUGE_OF.items():
        assert series_of(scraped, gauge), f"{model} answered nothing through the template"
