"""The library internals the platform leans on, checked so an upgrade fails here first.

Each test names what `ddrc_platform/integrations/` overrides or imports privately; when a
Dagster, dagster-dbt or dagster-fivetran release moves it, this file says what to fix.
"""

from __future__ import annotations

import inspect

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_fivetran.resources import FivetranClient, FivetranWorkspace

from ddrc_platform import definitions
from ddrc_platform.integrations import dagster as internals
from ddrc_platform.integrations.dagster_dbt import DdrcDbtCliResource
from ddrc_platform.integrations.dagster_fivetran import DdrcFivetranClient, DdrcFivetranWorkspace
from ddrc_platform.transform.manifests import DBT_PROJECT_DIR
from tests.support import record_freshness


def test_dagster_internals_still_exist_with_the_members_we_use():
    assert internals.AssetCheckExecutionRecordStatus.FAILED.value == "FAILED"
    error = internals.SerializableErrorInfo("boom", [], "ValueError")
    assert (error.cls_name, error.cause, error.context) == ("ValueError", None, None)
    assert callable(internals.cached_method)
    storage = dg.DagsterInstance.ephemeral().event_log_storage
    assert hasattr(storage, "get_latest_asset_check_execution_by_key")


def test_the_defs_folder_loaded_is_the_one_pyproject_names():
    """`load_defs_folder` is told the defs module instead of reading pyproject.toml."""
    tree = dg.ComponentTree.for_project(path_within_project=definitions.PROJECT_ROOT)
    assert tree.defs_module_name == definitions.DEFS_MODULE
    assert tree.project_root.resolve() == definitions.PROJECT_ROOT


def test_the_freshness_daemons_verdicts_read_back_by_asset():
    instance = dg.DagsterInstance.ephemeral()
    key = dg.AssetKey(["raw", "epa", "public_status_assessment"])
    assert internals.freshness_states(instance, [key]) == {}
    record_freshness(instance, key, "FAIL")
    assert internals.freshness_states(instance, [key]) == {key.to_user_string(): "FAIL"}


def test_dbt_cli_overrides_replace_members_that_still_exist():
    for member in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert hasattr(DbtCliResource, member), f"dagster-dbt no longer has {member}"
        assert member in vars(DdrcDbtCliResource)
    resource = DdrcDbtCliResource(project_dir=str(DBT_PROJECT_DIR))
    assert resource._cli_version.major == 1  # from dbt-core in this environment, no subprocess
    assert resource._initialize_dbt_core_adapter([]) is None


def test_fivetran_overrides_replace_members_that_still_exist():
    assert isinstance(inspect.getattr_static(FivetranClient, "api_base_url"), property)
    assert {"poll_interval", "poll_timeout"} <= set(
        inspect.signature(FivetranClient.sync_and_poll).parameters
    )
    assert hasattr(FivetranWorkspace, "get_client")
    client = DdrcFivetranWorkspace(
        account_id="a", api_key="k", api_secret="s", api_url="http://127.0.0.1:9/"
    ).get_client()
    assert isinstance(client, DdrcFivetranClient)
    assert client.api_base_url == "http://127.0.0.1:9/v1"
