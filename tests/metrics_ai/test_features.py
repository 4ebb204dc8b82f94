"""Rolling features: pandas parity, expanding statistics on short input, one code path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics_ai.features import FeatureSpec, rolling_features


@pytest.mark.parametrize("n", [1, 2, 5, 23, 24, 25, 200])
@pytest.mark.parametrize("window", [1, 3, 24])
def test_matches_pandas_rolling_with_min_periods_1(n: int, window: int) -> None:
    rng = np.random.default_rng(n * 100 + window)
    x = rng.normal(size=(n, 3)) * [1.0, 1e3, 1e6] + [0.5, 1e4, 1e8]
    spec = FeatureSpec(window=window)
    f = rolling_features(x, spec).reshape(n, 3, spec.per_metric)
    roll = pd.DataFrame(x).rolling(window, min_periods=1)
    np.testing.assert_array_equal(f[:, :, 0], x)
    np.testing.assert_allclose(f[:, :, 1], roll.mean().to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        f[:, :, 2], roll.std(ddof=0).fillna(0).to_numpy(), rtol=1e-5, atol=1e-6 * np.abs(x).max()
    )
    np.testing.assert_array_equal(f[:, :, 3], roll.min().to_numpy())
    np.testing.assert_array_equal(f[:, :, 4], roll.max().to_numpy())
    for j, lag in enumerate(spec.lags):
        earlier = np.maximum(np.arange(n) - lag, 0)  # lags before the first row repeat it
        np.testing.assert_array_equal(f[:, :, 5 + j], x[earlier])


def test_names_follow_column_order() -> None:
    names = FeatureSpec().names(["cpu", "mem"])
    assert len(names) == 16 and names[:3] == ["cpu__value", "cpu__mean", "cpu__std"] and names[8] == "mem__value"


def test_last_row_depends_only_on_the_window() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 2))
    full = rolling_features(x)[-1]
    tail = rolling_features(x[-30:])[-1]  # 30 rows cover the window (24) and the lags (6)
    np.testing.assert_allclose(full, tail, rtol=1e-9, atol=1e-12)
