"""An IsolationForest compiled to flat NumPy arrays, scored without scikit-learn.

scikit-learn's ``score_samples`` costs milliseconds per call whatever the row
count (input validation, per-tree Python loops, a thread pool), which caps a
single-row server at a few hundred requests per second. Here every tree is packed
into one set of arrays (node feature, threshold, child pair, leaf path length);
all trees advance one level per step over all rows at once. The arrays are saved
as ``.npz``: serving never unpickles the forest. ``tests/metrics_ai/test_forest.py``
checks parity with ``score_samples``. Where Numba is installed the walk is a compiled
loop (:mod:`metrics_ai._forest_jit`), the NumPy walk otherwise.

Large batches switch to scikit-learn's compiled ``Tree.apply`` (GIL released, one
thread per core), rebuilt from the same saved node arrays, still without pickle.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_EULER_GAMMA = 0.5772156649015329


def _jit_walk() -> Any:
    """The Numba-compiled walk, or None where Numba is not installed or cannot compile (NumPy walk)."""
    try:
        from metrics_ai._forest_jit import walk
    except ImportError:
        return None
    except Exception:  # a broken Numba/LLVM install must not make a model unloadable
        log.warning("forest walk: Numba unusable; using the NumPy walk", exc_info=True)
        return None
    return walk


def average_path_length(n: np.ndarray) -> np.ndarray:
    """c(n): the mean path length of an unsuccessful BST search (Liu et al. 2008)."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + _EULER_GAMMA) - 2.0 * (n[big] - 1.0) / n[big]
    return out


@dataclass(frozen=True)
class CompiledForest:
    """Flat arrays of a fitted IsolationForest.

    Node ``i`` of the packed forest tests ``x[feature[i]] <= threshold[i]`` and moves to
    ``children[2 * i]`` (true) or ``children[2 * i + 1]`` (false). Leaves point to
    themselves with threshold +inf, so every row can take ``depth`` steps blindly;
    ``path[i]`` is a leaf's depth plus c(samples in leaf).
    """

    feature: np.ndarray  # int32 [nodes]
    threshold: np.ndarray  # float64 [nodes]
    children: np.ndarray  # int32 [2 * nodes]
    path: np.ndarray  # float64 [nodes]
    roots: np.ndarray  # int32 [trees]
    depth: int
    normaliser: float  # n_trees * c(max_samples)
    offset: float  # sklearn's offset_: label -1 when score > -offset
    n_features: int
    nodes: np.ndarray | None = None  # sklearn node records, all trees concatenated
    node_counts: np.ndarray | None = None  # int64 [trees]
    _trees: list[Any] | None = field(default=None, repr=False, compare=False)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False, compare=False)
    _walk: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)
    _jit: Any = field(default=None, repr=False, compare=False)

    #: Below this many rows x trees the vectorised NumPy walk is faster than per-tree calls.
    compiled_threshold: int = 32 * 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "_jit", _jit_walk())
        # Walk state is p = 2 * node: feature/threshold/path repeated at even slots and
        # children pre-doubled, so one level is p = kids[p + (x[feat[p]] > thr[p])].
        object.__setattr__(
            self,
            "_walk",
            (
                np.repeat(self.feature, 2),
                np.repeat(self.threshold, 2),
                (2 * self.children).astype(np.int32),
                np.repeat(self.path, 2),
                (2 * self.roots).astype(np.int32),
            ),
        )

    @classmethod
    def from_sklearn(cls, forest: Any) -> CompiledForest:
        """Pack a fitted ``sklearn.ensemble.IsolationForest``."""
        feats, thrs, kids, paths, roots, records = [], [], [], [], [], []
        base, depth = 0, 0
        for tree, features in zip(forest.estimators_, forest.estimators_features_, strict=True):
            t = tree.tree_
            n = t.node_count
            left, right = t.children_left, t.children_right
            node_depth = np.zeros(n, dtype=np.int64)
            for i in range(n):  # parents precede children in sklearn's node order
                if left[i] != -1:
                    node_depth[left[i]] = node_depth[i] + 1
                    node_depth[right[i]] = node_depth[i] + 1
            leaf = left == -1
            own = np.arange(n)
            feats.append(np.where(leaf, 0, np.asarray(features)[np.maximum(t.feature, 0)]))
            thrs.append(np.where(leaf, np.inf, t.threshold))
            pair = np.stack([np.where(leaf, own, left), np.where(leaf, own, right)], axis=1) + base
            kids.append(pair.reshape(-1))
            paths.append(np.where(leaf, node_depth + average_path_length(t.n_node_samples), 0.0))
            roots.append(base)
            records.append(t.__getstate__()["nodes"])
            depth = max(depth, int(node_depth.max()))
            base += n
        normaliser = len(forest.estimators_) * float(average_path_length(np.array([forest.max_samples_]))[0])
        return cls(
            feature=np.concatenate(feats).astype(np.int32),
            threshold=np.concatenate(thrs).astype(np.float64),
            children=np.concatenate(kids).astype(np.int32),
            path=np.concatenate(paths),
            roots=np.asarray(roots, dtype=np.int32),
            depth=depth,
            normaliser=normaliser,
            offset=float(forest.offset_),
            n_features=int(forest.n_features_in_),
            nodes=np.concatenate(records),
            node_counts=np.asarray([len(r) for r in records], dtype=np.int64),
        )

    def score(self, x: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """Anomaly score in (0, 1] per row: ``-score_samples`` (higher = more anomalous)."""
        # Trees split on float32 inputs, as scikit-learn casts them; compare the same way.
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected [N, {self.n_features}] features, got {list(x.shape)}")
        if x.shape[0] * self.roots.shape[0] > self.compiled_threshold and self._compiled_trees():
            return self._score_compiled(x)
        out = np.empty(x.shape[0], dtype=np.float64)
        for start in range(0, x.shape[0], chunk):
            out[start : start + chunk] = self._score_chunk(x[start : start + chunk])
        return out

    def _compiled_trees(self) -> list[Any] | None:
        """scikit-learn Tree objects rebuilt from the node records (None if unavailable)."""
        if self._trees is None and self.nodes is not None and self.node_counts is not None:
            try:
                from sklearn.tree._tree import Tree

                trees, base = [], 0
                for count in self.node_counts.tolist():
                    records = self.nodes[base : base + count]
                    tree = Tree(self.n_features, np.array([1], dtype=np.intp), 1)
                    tree.__setstate__(
                        {
                            "max_depth": self.depth,
                            "node_count": count,
                            "nodes": np.ascontiguousarray(records),
                            "values": np.zeros((count, 1, 1)),
                        }
                    )
                    trees.append(tree)
                    base += count
            except (ImportError, ValueError, TypeError, KeyError):
                trees = []
            object.__setattr__(self, "_trees", trees)
            object.__setattr__(self, "_pool", ThreadPoolExecutor(max_workers=2) if trees else None)
        return self._trees or None

    def _score_compiled(self, x: np.ndarray) -> np.ndarray:
        trees = self._trees or []
        bases = self.roots.tolist()
        halves = [list(range(0, len(trees), 2)), list(range(1, len(trees), 2))]

        def total(indices: list[int]) -> np.ndarray:
            acc = np.zeros(x.shape[0], dtype=np.float64)
            for i in indices:
                acc += self.path[bases[i] + trees[i].apply(x)]
            return acc

        assert self._pool is not None
        mean_path = sum(self._pool.map(total, halves))
        return np.exp2(-mean_path / self.normaliser)

    def _score_chunk(self, x: np.ndarray) -> np.ndarray:
        jit = self._jit
        if jit is not None:
            out = np.empty(x.shape[0], dtype=np.float64)
            jit(x, self.feature, self.threshold, self.children, self.path, self.roots, self.normaliser, out)
            return out
        feat, thr, kids, path, roots = self._walk
        if x.shape[0] == 1:  # the single-row request: decide every node once, then hop
            left, right = self.children[0::2], self.children[1::2]
            hop = np.where(x[0].take(self.feature) > self.threshold, right, left)
            nodes = self.roots
            for _ in range(self.depth):
                nodes = hop.take(nodes)
            return np.exp2(-np.atleast_1d(self.path.take(nodes).sum()) / self.normaliser)
        flat = x.reshape(-1)
        offsets = (np.arange(x.shape[0], dtype=np.int64) * x.shape[1])[:, None]
        p = np.broadcast_to(roots, (x.shape[0], roots.shape[0]))
        for _ in range(self.depth):
            p = kids.take(p + (flat.take(offsets + feat.take(p)) > thr.take(p)))
        return np.exp2(-path.take(p).sum(axis=1) / self.normaliser)

    def is_anomaly(self, scores: np.ndarray) -> np.ndarray:
        """sklearn's ``predict`` == -1, from scores."""
        return scores > -self.offset

    def save(self, path: Path) -> None:
        """Write the arrays as an uncompressed ``.npz`` (no pickle)."""
        np.savez(
            path,
            feature=self.feature,
            threshold=self.threshold,
            children=self.children,
            path=self.path,
            roots=self.roots,
            meta=np.array([self.depth, self.normaliser, self.offset, self.n_features], dtype=np.float64),
            nodes=self.nodes if self.nodes is not None else np.zeros(0),
            node_counts=self.node_counts if self.node_counts is not None else np.zeros(0, np.int64),
        )

    @classmethod
    def load(cls, path: Path) -> CompiledForest:
        """Read arrays written by :meth:`save` (``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as data:
            depth, normaliser, offset, n_features = data["meta"].tolist()
            return cls(
                feature=data["feature"],
                threshold=data["threshold"],
                children=data["children"],
                path=data["path"],
                roots=data["roots"],
                depth=int(depth),
                normaliser=float(normaliser),
                offset=float(offset),
                n_features=int(n_features),
                nodes=data["nodes"] if data["nodes"].dtype.names else None,
                node_counts=data["node_counts"] if data["nodes"].dtype.names else None,
            )
