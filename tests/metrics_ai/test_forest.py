"""The compiled IsolationForest scores exactly like scikit-learn, small and large batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from metrics_ai.forest import CompiledForest


@pytest.fixture(scope="module")
def fitted() -> tuple[IsolationForest, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 12))
    return IsolationForest(n_estimators=50, contamination=0.03, random_state=42).fit(x), rng.normal(
        size=(5000, 12)
    ) * 1.5


@pytest.mark.parametrize("rows", [1, 7, 64, 65, 5000])
def test_parity_with_score_samples(fitted, rows: int) -> None:
    forest, x = fitted
    compiled = CompiledForest.from_sklearn(forest)
    ours = compiled.score(x[:rows])
    np.testing.assert_allclose(ours, -forest.score_samples(x[:rows]), rtol=1e-12)
    np.testing.assert_array_equal(compiled.is_anomaly(ours), forest.predict(x[:rows]) == -1)


def test_save_load_without_pickle(fitted, tmp_path: Path) -> None:
    forest, x = fitted
    path = tmp_path / "forest.npz"
    CompiledForest.from_sklearn(forest).save(path)
    loaded = CompiledForest.load(path)  # np.load(allow_pickle=False) inside
    np.testing.assert_allclose(loaded.score(x), -forest.score_samples(x), rtol=1e-12)


def test_max_features_subset_is_respected() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 8))
    forest = IsolationForest(n_estimators=20, max_features=0.5, random_state=0).fit(x)
    np.testing.assert_allclose(
        CompiledForest.from_sklearn(forest).score(x[:50]), -forest.score_samples(x[:50]), rtol=1e-12
    )


def test_rejects_wrong_width(fitted) -> None:
    forest, x = fitted
    with pytest.raises(ValueError, match=r"\[N, 12\]"):
        CompiledForest.from_sklearn(forest).score(x[:, :5])


def test_numpy_walk_matches_the_compiled_one(fitted) -> None:
    forest, x = fitted
    compiled = CompiledForest.from_sklearn(forest)
    assert compiled._jit is not None  # numba is a dependency: the fast path is the one served
    plain = CompiledForest.from_sklearn(forest)
    object.__setattr__(plain, "_jit", None)
    for rows in (1, 3, 40):
        np.testing.assert_allclose(plain.score(x[:rows]), compiled.score(x[:rows]), rtol=1e-12)
