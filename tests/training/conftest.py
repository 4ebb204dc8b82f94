"""Fixtures of the training tests: a real Prometheus loaded with 16 days of exporter data."""

from tests.prometheus_fixture import prometheus_data  # noqa: F401
