"""The canonical frame and request histories: coercion, and errors that name the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics_ai.errors import InvalidInputError
from metrics_ai.series import COLUMNS, parse_history, validate_frame


def test_validate_frame_coerces_sorts_and_dedupes() -> None:
    raw = pd.DataFrame(
        {
            "timestamp": [120, 60, 60, 180],
            "signal": ["cpu", "cpu", "cpu", "memory"],
            "value": ["0.5", 0.4, 0.45, np.nan],
            "node": ["a", "a", "a", "a"],
        }
    )
    frame = validate_frame(raw)
    assert list(frame.columns) == list(COLUMNS)
    assert frame["timestamp"].dt.tz is not None
    assert frame["value"].tolist() == [0.45, 0.5]  # duplicate kept last, NaN row dropped, sorted by time
    assert frame["cluster"].astype(str).tolist() == ["", ""]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (pd.DataFrame({"timestamp": [0], "value": [1]}), "data"),
        (pd.DataFrame({"timestamp": [0], "signal": ["gpu"], "value": [1]}), "data.signal"),
        (pd.DataFrame({"timestamp": [0], "signal": ["cpu"], "value": ["high"]}), "data.value"),
        (pd.DataFrame({"timestamp": ["yesterday"], "signal": ["cpu"], "value": [1]}), "data.timestamp"),
    ],
)
def test_validate_frame_names_the_bad_column(raw: pd.DataFrame, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_frame(raw)
    assert err.value.field == field


def test_history_accepts_rfc3339_and_unix_seconds() -> None:
    a = parse_history({"timestamps": ["2026-11-23T10:00:00Z", "2026-11-23T10:01:00+00:00"], "values": [1, 2.5]}, "h")
    b = parse_history({"timestamps": [1795428000, 1795428060], "values": [1, 2.5]}, "h")
    np.testing.assert_array_equal(a.timestamps, b.timestamps)
    assert a.step == 60 and a.values.tolist() == [1.0, 2.5]


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"timestamps": [1, 2], "values": [1]}, "h", "must match"),
        ({"timestamps": [], "values": []}, "h.values", "at least"),
        ({"timestamps": [1, 2, 1], "values": [1, 2, 3]}, "h.timestamps[2]", "goes back"),
        ({"timestamps": [1, 1], "values": [1, 2]}, "h.timestamps[1]", "repeats"),
        ({"timestamps": ["2026-11-23T10:00:00Z", "noon"], "values": [1, 2]}, "h.timestamps[1]", "RFC 3339"),
        ({"timestamps": [1, 2], "values": [1, float("nan")]}, "h.values[1]", "NaN"),
        ({"timestamps": [1, 2], "values": [1, "2"]}, "h.values[1]", "number"),
        ({"timestamps": [1, 2], "values": [1, 2], "step": 60}, "h", "unexpected"),
        ([1, 2], "h", "expected an object"),
    ],
)
def test_bad_history_names_field(raw, field: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_history(raw, "h")
    assert err.value.field == field and words in err.value.message
