"""Fixtures of the training tests: real Prometheus servers loaded with exporter data."""

from tests.prometheus_fixture import openshift_prometheus, prometheus_data  # noqa: F401
