"""One thin ServedModel subclass per served model: its name and what counts as an alarm."""

from __future__ import annotations

from typing import Any, ClassVar

from serving.model import ServedModel


class AnomalyDetectorModel(ServedModel):
    """``anomaly-detector``: is this window of metrics anomalous?"""

    model_name: ClassVar[str] = "anomaly-detector"

    def positive(self, prediction: dict[str, Any]) -> bool:
        return bool(prediction.get("is_anomaly"))


class NodeOutliersModel(ServedModel):
    """``node-outliers``: which nodes behave unlike their peers?"""

    model_name: ClassVar[str] = "node-outliers"

    def positive(self, prediction: dict[str, Any]) -> bool:
        return bool(prediction.get("is_outlier"))


class ResourceForecastModel(ServedModel):
    """``resource-forecast``: the next HORIZON_MIN minutes, and is now deviating?"""

    model_name: ClassVar[str] = "resource-forecast"

    def positive(self, prediction: dict[str, Any]) -> bool:
        return bool((prediction.get("deviation") or {}).get("is_anomaly"))


class DiskEtaModel(ServedModel):
    """``disk-eta``: days until a filesystem reaches its threshold."""

    model_name: ClassVar[str] = "disk-eta"

    def positive(self, prediction: dict[str, Any]) -> bool:
        return prediction.get("severity") not in (None, "OK")


class IoCrisisModel(ServedModel):
    """``io-crisis``: will I/O wait or bandwidth cross its threshold, and when?"""

    model_name: ClassVar[str] = "io-crisis"

    def positive(self, prediction: dict[str, Any]) -> bool:
        return bool(prediction.get("crisis"))


SERVED: dict[str, type[ServedModel]] = {
    cls.model_name: cls
    for cls in (AnomalyDetectorModel, NodeOutliersModel, ResourceForecastModel, DiskEtaModel, IoCrisisModel)
}
