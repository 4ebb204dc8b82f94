"""metrics-ai: predictive alerting for OpenShift clusters (shared core).

The core never imports `training` or `serving`; both import it. Nothing here
imports TensorFlow, Prophet or statsmodels: fitted state is evaluated in NumPy.
"""

__version__ = "0.1.0"

MODEL_NAMES: tuple[str, ...] = (
    "anomaly-detector",
    "node-outliers",
    "resource-forecast",
    "disk-eta",
    "io-crisis",
)
