"""Prophet, imported with its expected plotly notice filtered.

``import prophet`` logs "Importing plotly failed" at ERROR when plotly (an optional,
interactive-plot extra the job never uses) is absent: in the job's process and in
every worker process that fits Prophet. Import Prophet from here instead.
"""

from training.logs import filter_expected_library_logs

filter_expected_library_logs()

from prophet import Prophet  # noqa: E402  (the filter must be in place first)

__all__ = ["Prophet"]
