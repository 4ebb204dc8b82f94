"""``python -m alerting``."""

from alerting.cli import run

run()
