"""The predictor over HTTP V1, as any alerting service calls it.

``POST <url>/v1/models/<name>:predict`` with ``{"instances": [...]}``; one prediction
per instance, in order. Connection errors, timeouts, 429 and 5xx are retried a limited
number of times with a short backoff; any other 4xx is not (the request is wrong and
will stay wrong). A bearer token file is re-read per request (tokens rotate).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from alerting.settings import AlertingSettings

_RETRY_STATUS = {429, 500, 502, 503, 504}


class PredictorError(RuntimeError):
    """A model's call failed; the message names the model, the URL and why."""


class PredictorClient:
    """Batched V1 calls with timeouts and limited retries.

    Args:
        settings: URLs (one base, a ``{model}`` template, per-model overrides), token and
            CA files, timeout, retries.
        backoff: seconds before the first retry (doubled for each further one).
    """

    def __init__(self, settings: AlertingSettings, backoff: float = 0.5) -> None:
        self.settings = settings
        self.backoff = backoff
        self._session = requests.Session()
        if settings.predictor_ca_file:
            self._session.verify = str(settings.predictor_ca_file)

    def close(self) -> None:
        """Release the connections."""
        self._session.close()

    def _headers(self) -> dict[str, str]:
        path = self.settings.predictor_token_file
        if path is None:
            return {}
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PredictorError(f"cannot read PREDICTOR_TOKEN_FILE {path}: {exc.strerror or exc}") from None
        return {"Authorization": f"Bearer {token}"}

    def predict(self, model: str, instances: list[Any]) -> list[dict[str, Any]]:
        """One prediction per instance, in order.

        Raises:
            PredictorError: unreachable, timed out, refused, or an answer of the wrong shape.
        """
        url = self.settings.model_url(model)
        headers = self._headers()
        error = "no attempt made"
        for attempt in range(self.settings.predictor_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                answer = self._session.post(
                    url, json={"instances": instances}, headers=headers, timeout=self.settings.predictor_timeout
                )
            except requests.Timeout:
                error = f"no answer within {self.settings.predictor_timeout:g} s"
                continue
            except requests.ConnectionError as exc:
                error = f"cannot connect ({_short(exc)})"
                continue
            if answer.status_code in _RETRY_STATUS:
                error = f"HTTP {answer.status_code}: {answer.text[:300]}"
                continue
            if answer.status_code != 200:
                raise PredictorError(f"{model} at {url}: HTTP {answer.status_code}: {answer.text[:500]}")
            return _predictions(model, url, answer, len(instances))
        raise PredictorError(f"{model} at {url}: {error}")


def _predictions(model: str, url: str, answer: requests.Response, expected: int) -> list[dict[str, Any]]:
    try:
        body = answer.json()
    except ValueError:
        raise PredictorError(f"{model} at {url}: the answer is not JSON") from None
    predictions = body.get("predictions") if isinstance(body, dict) else None
    if not isinstance(predictions, list) or len(predictions) != expected:
        got = len(predictions) if isinstance(predictions, list) else type(predictions).__name__
        raise PredictorError(f"{model} at {url}: expected {expected} predictions, got {got}")
    return predictions


def _short(exc: BaseException) -> str:
    text = str(exc)
    for hint in ("Connection refused", "Name or service not known", "certificate verify failed"):
        if hint in text:
            return hint
    return text[:200]
