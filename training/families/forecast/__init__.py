"""resource-forecast, training half: series, component fitting, backtest, state, report figures.

Modules, in the order a training run goes through them: :mod:`.series` (the frame cut
into regular series), :mod:`.trainer` (:class:`ForecastTrainer`: the stages),
:mod:`.fitting` (each component's fitter) and :mod:`.lstm` (Keras networks; the
update's fine-tune: :mod:`.finetune`), :mod:`.backtest` (calibration and scores, through
the serving components), :mod:`.groups` (networks and pools by step), :mod:`.figures`.
The update (``training.updates.forecast``) reuses these stages.
"""

from __future__ import annotations

from training.families.forecast.trainer import ForecastTrainer

__all__ = ["ForecastTrainer"]
