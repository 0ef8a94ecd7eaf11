"""Writes of the impact app, split by idea and re-exported here."""
from .impact import (
    impact_measure,
    impact_windows,
    impacts_regression_check,
    impacts_remeasure,
    impacts_sync,
    sales_horizon,
)
from .metrics import metrics_recompute
from .sales import (
    SalesResult,
    SalesValidationError,
    sales_import_file,
    sales_import_job_create,
    sales_import_job_run,
    sales_push,
    sales_upsert,
)
from .spikes import return_spikes_detect

__all__ = [
    "SalesResult",
    "SalesValidationError",
    "impact_measure",
    "impact_windows",
    "impacts_regression_check",
    "impacts_remeasure",
    "impacts_sync",
    "metrics_recompute",
    "return_spikes_detect",
    "sales_horizon",
    "sales_import_file",
    "sales_import_job_create",
    "sales_import_job_run",
    "sales_push",
    "sales_upsert",
]
