"""Dagster internals the platform relies on, in one place (guarded by tests/test_integrations.py).

None is re-exported publicly in Dagster 1.13: the status of a check's latest evaluation
(the publish gate asks it), the run filter the incident sensor pages with, the error of a
failed step (the sensor classifies it by exception type), and the per-instance method cache.
An upgrade that moves them fails the integration test, not a sensor tick at 2 a.m.
"""

from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.dagster_run import RunsFilter
from dagster._utils.cached_method import cached_method
from dagster._utils.error import SerializableErrorInfo

__all__ = [
    "AssetCheckExecutionRecordStatus",
    "RunsFilter",
    "SerializableErrorInfo",
    "cached_method",
]
