"""REQUEST_TRACE and DOCS_URL: quiet per-request logs and no /docs page unless asked for, the access log always."""

from __future__ import annotations

from pathlib import Path

ROW = {"instances": [[0.42, 0.55, 0, 120, 95]]}
ACCESS = '"POST /v1/models/anomaly-detector%3Apredict HTTP/1.1" 200'


def one_request_log(basic_models: Path, start_predictor, env: dict[str, str]) -> tuple[str, int]:
    """What the predictor logs for one V1 request, and the status of ``/docs`` (``/openapi.json`` is always served)."""
    server = start_predictor(basic_models, "anomaly-detector", env=env)
    server.wait_ready()
    docs = server.client.get("/docs").status_code
    openapi = server.client.get("/openapi.json")
    assert openapi.status_code == 200 and "/v2/models/{model_name}/infer" in openapi.json()["paths"]
    marker = len(server.log.read_bytes())
    assert server.client.post("/v1/models/anomaly-detector:predict", json=ROW).status_code == 200
    server.stop()  # the access log (stdout) is flushed when the process ends
    return server.log.read_bytes()[marker:].decode(), docs


def test_by_default_one_request_writes_its_access_line_and_no_trace(basic_models: Path, start_predictor) -> None:
    log, docs = one_request_log(basic_models, start_predictor, {})
    assert ACCESS in log
    assert "kserve.trace" not in log
    assert docs == 404


def test_request_trace_and_docs_url_turn_them_on(basic_models: Path, start_predictor) -> None:
    env = {"METRICS_AI_REQUEST_TRACE": "true", "METRICS_AI_DOCS_URL": "true"}
    log, docs = one_request_log(basic_models, start_predictor, env)
    assert ACCESS in log
    trace = [line for line in log.splitlines() if "kserve.trace" in line]
    assert any("anomaly-detector:predict" in line for line in trace), log
    assert docs == 200


def test_the_docs_page_is_swagger_over_the_openapi_document(basic_models: Path, start_predictor) -> None:
    server = start_predictor(basic_models, "anomaly-detector", env={"DOCS_URL": "true"})
    page = server.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in page.text and "/openapi.json" in page.text
