"""metrics-ai: predictive alerting for OpenShift clusters (shared core).

The core never imports `training` or `serving`; both import it. Nothing here
imports TensorFlow, Prophet or statsmodels: fitted state is evaluated in NumPy.
The served models are registered in :mod:`metrics_ai.families` (``MODEL_NAMES``, ``FAMILIES``).
"""

__version__ = "0.1.0"
