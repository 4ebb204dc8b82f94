"""The alerting client: predictions for every entity Prometheus knows, exposed as labelled gauges.

``python -m alerting --predictor URL [--prometheus URL] [--port 9105] [--interval 60]``.
Imports only :mod:`metrics_ai` and libraries (never ``serving`` or ``training``).
"""
