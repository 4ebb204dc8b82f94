"""A training pod's log: progress lines while it runs, no ERROR or warning for expected conditions."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from training.logs import expected_patterns, filtered_native_stderr, keep_lines
from training.progress import LineProgress

REPO = Path(__file__).resolve().parents[2]


def test_line_progress_reports_start_throttles_and_always_reports_completion(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    lines = LineProgress(interval=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="training.progress"):
        lines.advance(0, 4, "resource-forecast fit")
        now[0] = 2.0
        lines.advance(1, 4, "resource-forecast fit")  # within the interval: no line
        now[0] = 12.0
        lines.advance(1, 4, "resource-forecast fit")  # 2/4 after 12 s: 2 units in 12 s, eta 12 s
        now[0] = 13.0
        lines.advance(2, 4, "resource-forecast fit")  # done: always a line
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "progress: resource-forecast fit 0/4 (0%) elapsed 0s eta ?",
        "progress: resource-forecast fit 2/4 (50%) elapsed 12s eta 12s",
        "progress: resource-forecast fit 4/4 (100%) elapsed 13s eta 0s",
    ]


def test_expected_native_lines_are_dropped_and_others_kept() -> None:
    text = "\n".join(
        [
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
            "I0000 00:00:1 port.cc:153] oneDNN custom operations are on. You may see slightly different",
            "E0000 00:00:1 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
            "F0000 00:00:1 something.cc:1] a real native failure",
        ]
    )
    without_gpu = keep_lines(text, expected_patterns(gpu=False))
    assert without_gpu == ["F0000 00:00:1 something.cc:1] a real native failure"]
    with_gpu = keep_lines(text, expected_patterns(gpu=True))
    assert len(with_gpu) == 2 and "failed call to cuInit" in with_gpu[0]  # on a GPU node it is an error


def test_native_stderr_filter_writes_back_unexpected_lines(capfd: pytest.CaptureFixture[str]) -> None:
    with filtered_native_stderr(expected_patterns(gpu=False)):
        os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.\n")
        os.write(2, b"E0000 real.cc:1] disk on fire\n")
    err = capfd.readouterr().err
    assert "disk on fire" in err
    assert "cuda drivers" not in err


@pytest.mark.slow
def test_tiny_training_log_without_a_terminal(tmp_path: Path) -> None:
    """The CronJob's view: stdout/stderr are pipes, as in a pod (this machine has no GPU)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        # resource-forecast imports both noisy libraries (Prophet, TensorFlow) and fans out to workers
        [
            sys.executable,
            "-m",
            "training",
            "run",
            "--profile",
            "tiny",
            "--models",
            "resource-forecast",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=600,
        cwd=tmp_path,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    progress = re.findall(r"progress: (.+?) (\d+)/(\d+) \(\d+%\) elapsed \d+s eta", log)
    assert progress, log[-3000:]
    assert any(done == total for _, done, total in progress), "each task reports its completion"
    noisy = [
        line
        for line in log.splitlines()
        if re.search(r"\b(ERROR|WARNING)\b|^[EW]\d{4} ", line) or "cuInit" in line or "plotly" in line
    ]
    assert noisy == []
