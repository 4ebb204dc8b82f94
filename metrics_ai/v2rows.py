"""V2 tensors -> per-row Python values, shared by the families that take histories.

Padding convention (every family that takes histories: resource-forecast, disk-eta,
io-crisis): ``timestamps`` INT64 ``[N, T]`` and
``values`` FP32 ``[N, T]`` hold one history per row; a row with fewer than T points
pads ``values`` with NaN (the matching timestamps are ignored, any number will do).
NaN values are trimmed wherever they are; what remains must have increasing
timestamps. A row whose values are all NaN (or ``T == 0``) brings no history: the
server fetches the series or uses its training-time state, as V1 does without
``history``. Infinities are errors, never padding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metrics_ai.errors import InvalidInputError
from metrics_ai.series import History


def padded_histories(timestamps: Any, values: Any) -> list[History | None]:
    """Rows of NaN-padded ``timestamps``/``values`` -> a History per row (None: no history)."""
    ts = np.asarray(timestamps)
    vs = np.asarray(values)
    if ts.ndim != 2:
        raise InvalidInputError("timestamps", f"expected shape [N, T], got {list(ts.shape)}")
    if vs.shape != ts.shape:
        raise InvalidInputError(
            "values", f"shape {list(vs.shape)} differs from timestamps {list(ts.shape)}"
        )
    for name, arr in (("timestamps", ts), ("values", vs)):
        if arr.dtype.kind not in "iuf":
            raise InvalidInputError(name, f"expected numbers, got {arr.dtype}")
    vs = vs.astype(np.float64)
    ts = ts.astype(np.float64)
    out: list[History | None] = []
    for i in range(vs.shape[0]):
        inf = np.isinf(vs[i])
        if inf.any():
            raise InvalidInputError(
                f"values[{i}][{int(np.flatnonzero(inf)[0])}]", "infinity; pad with NaN"
            )
        keep = ~np.isnan(vs[i])
        if not keep.any():
            out.append(None)
            continue
        t = ts[i][keep]
        if not np.isfinite(t).all():
            raise InvalidInputError(f"timestamps[{i}]", "NaN or infinity next to a value")
        steps = np.diff(t)
        if steps.size and not (steps > 0).all():
            j = int(np.flatnonzero(keep)[int(np.flatnonzero(steps <= 0)[0]) + 1])
            raise InvalidInputError(
                f"timestamps[{i}][{j}]", "does not increase; timestamps must increase"
            )
        out.append(History(timestamps=t, values=vs[i][keep]))
    return out
