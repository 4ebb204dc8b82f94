"""Prophet's handled L-BFGS -> Newton fallback is not reported as an error in the job's log."""

from __future__ import annotations

import logging

import pytest

from training.prophet_export import _quiet

FAILED_CHAIN = "Chain [1] error: code '1' Operation not permitted"


def test_newton_fallback_goes_to_debug_and_real_problems_still_show(caplog: pytest.LogCaptureFixture) -> None:
    _quiet()
    _quiet()  # idempotent: one filter per logger
    assert sum(type(f).__name__ == "NewtonFallback" for f in logging.getLogger("cmdstanpy").filters) == 1
    with caplog.at_level(logging.DEBUG, logger="training.prophet_export"):
        logging.getLogger("cmdstanpy").error("%s error: code '%d' %s", "Chain [1]", 1, "Operation not permitted")
        logging.getLogger("prophet.models").warning("Optimization terminated abnormally. Falling back to Newton.")
        logging.getLogger("cmdstanpy").error("Error during optimization! Command failed")
        logging.getLogger("prophet").warning("Found custom seasonality named 'daily', disabling built-in")
    shown = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert shown[0][:2] == ("training.prophet_export", logging.DEBUG) and FAILED_CHAIN in shown[0][2]
    assert [(name, level) for name, level, _ in shown[1:]] == [
        ("cmdstanpy", logging.ERROR),
        ("prophet", logging.WARNING),
    ]
