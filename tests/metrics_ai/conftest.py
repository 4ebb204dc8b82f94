"""Fixtures of the metrics_ai tests: the real Prometheus (one per session, see tests/prometheus_fixture.py)."""

from tests.prometheus_fixture import openshift_prometheus, prometheus_data  # noqa: F401
