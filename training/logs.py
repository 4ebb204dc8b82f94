"""A training job's log: one format, and no ERROR or warning lines for expected conditions.

:func:`configure_logging` sets the job's format and drops the library lines that report
an expected condition as an error (Prophet's "Importing plotly failed": plotly is an
optional plotting extra the job never uses).

TensorFlow writes to file descriptor 2 from C++ before Python's logging is involved:
``TF_CPP_MIN_LOG_LEVEL`` does not cover the lines printed before absl's log is
initialised, and on a node without a GPU it prints ``failed call to cuInit`` at ERROR.
In a training pod's log those read as failures. :func:`filtered_native_stderr` captures
fd 2 around the import, drops the lines that are expected on this machine, and writes
every other line back to stderr, so a real native error is never hidden.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class DropExpected(logging.Filter):
    """Drop Prophet's plotly import error (interactive plots are not part of the job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "prophet.plot" and "plotly" in record.getMessage())


def configure_logging(level: int = logging.INFO) -> None:
    """The job's log format, with expected library errors filtered (idempotent).

    Call before anything imports prophet: its plotly message is logged at import time.
    """
    logging.basicConfig(level=level, format=LOG_FORMAT)
    filter_expected_library_logs()


def filter_expected_library_logs() -> None:
    """Install :class:`DropExpected` on the libraries' loggers (idempotent; also in worker processes)."""
    logger = logging.getLogger("prophet.plot")
    if not any(isinstance(f, DropExpected) for f in logger.filters):
        logger.addFilter(DropExpected())


#: Native lines that say nothing is wrong (informational start-up notes).
EXPECTED = (
    re.compile(r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"),
    re.compile(r"oneDNN custom operations are on"),
    re.compile(r"Could not find cuda drivers on your machine"),
    re.compile(r"Unable to register cu(DNN|FFT|BLAS) factory"),
    re.compile(r"computation placer already registered"),
    re.compile(r"TF-TRT Warning: Could not find TensorRT"),
    re.compile(r"This TensorFlow binary is optimized to use available CPU instructions"),
    re.compile(r"To enable the following instructions: .* rebuild TensorFlow"),
)
#: Expected only where the machine has no GPU device (elsewhere it is a real error).
EXPECTED_WITHOUT_GPU = (re.compile(r"failed call to cuInit"),)


def has_gpu_device(dev: Path = Path("/dev")) -> bool:
    """Whether an NVIDIA device node is present (``/dev/nvidia0`` ...)."""
    return any(dev.glob("nvidia[0-9]*"))


def expected_patterns(gpu: bool) -> tuple[re.Pattern[str], ...]:
    """The patterns of native lines to drop on a machine with or without a GPU."""
    return EXPECTED if gpu else (*EXPECTED, *EXPECTED_WITHOUT_GPU)


def keep_lines(text: str, patterns: tuple[re.Pattern[str], ...]) -> list[str]:
    """The lines of ``text`` that match none of ``patterns`` (blank lines dropped)."""
    return [line for line in text.splitlines() if line.strip() and not any(p.search(line) for p in patterns)]


@contextlib.contextmanager
def filtered_native_stderr(patterns: tuple[re.Pattern[str], ...] | None = None) -> Iterator[None]:
    """Capture fd 2 for the block; afterwards write back every line not matching ``patterns``."""
    patterns = expected_patterns(has_gpu_device()) if patterns is None else patterns
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            dropped = len(text.splitlines())
            kept = keep_lines(text, patterns)
            for line in kept:
                print(line, file=sys.stderr)
            if dropped > len(kept):
                log.debug("dropped %d expected native start-up line(s)", dropped - len(kept))
