"""``python -m serving``."""

from serving.cli import run

run()
