"""Dagster internals the platform relies on, in one place (guarded by tests/test_integrations.py).

None is re-exported publicly in Dagster 1.13: the status of a check's latest evaluation
(the publish gate asks it), the error of a failed step (the sensor classifies it by
exception type), the per-instance method cache, the defs-folder loading without the
plugin catalogue, and the freshness state Dagster's freshness daemon records (an instance
method, not in the public API docs). An upgrade that moves them fails the integration
test, not a sensor tick at 2 a.m.
"""

import importlib
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._utils.cached_method import cached_method
from dagster._utils.error import SerializableErrorInfo
from dagster._utils.warnings import suppress_dagster_warnings


@suppress_dagster_warnings  # as dg.load_from_defs_folder does: its preview notes are not ours
def load_defs_folder(defs_module: str, project_root: Path) -> dg.Definitions:
    """`dg.load_from_defs_folder` without its plugin catalogue, nor its search for pyproject.toml.

    At the root of the tree Dagster also imports every installed package that registers
    components (dagster-snowflake, -azure, -fivetran, ...), only to list their component
    types in the UI: 18 s here, and the local deployment must load no cloud SDK. Building
    the defs folder itself loads the same definitions. Finding the defs module from
    `[tool.dg.project]` (`ComponentTree.for_project`) imports tomlkit and parses the file
    four times, a tenth of a second at each load: the caller names it instead (the same
    module, guarded by tests/test_integrations.py).
    """
    tree = dg.ComponentTree.from_module(
        defs_module=importlib.import_module(defs_module), project_root=project_root
    )
    return tree.build_defs(tree.defs_module_path)


def failed_asset_checks(
    instance: dg.DagsterInstance, check_keys: Sequence[dg.AssetCheckKey]
) -> list[dg.AssetCheckKey]:
    """The checks among `check_keys` whose latest evaluation failed.

    The public instance answers one check at a time (`get_latest_asset_check_evaluation_record`);
    its event log storage answers for all of them in one query, which the publish gate asks
    on every publish step (guarded by tests/test_integrations_publish.py).
    """
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    return [
        key
        for key, record in latest.items()
        if record.status == AssetCheckExecutionRecordStatus.FAILED
    ]


__all__ = [
    "AssetCheckExecutionRecordStatus",
    "SerializableErrorInfo",
    "cached_method",
]


def freshness_states(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]) -> dict[str, str]:
    """What Dagster's freshness daemon last judged each asset against its policy
    ("PASS", "WARN", "FAIL", "UNKNOWN"), by user string; an asset it never judged is absent."""
    records = instance.get_freshness_state_records(list(keys))
    return {key.to_user_string(): record.freshness_state.value for key, record in records.items()}
