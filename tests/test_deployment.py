"""One graph, three deployments: same keys and lineage; missing secrets named at once."""

from __future__ import annotations

import dagster as dg
import pytest

from ddrc_platform.core.catalog import AIRTABLE_METRICS, EPA
from ddrc_platform.core.names import (
    AUTOMATION_SENSOR,
    PIPELINE_JOB,
    RECONCILE_SCHEDULE,
    WATCH_SENSOR,
    WATCH_SENSOR_PREFIX,
)
from ddrc_platform.definitions import build_definitions
from ddrc_platform.settings import SettingsError, load_settings
from tests.support import PLACEHOLDERS


def test_missing_secrets_are_named_all_at_once_grouped_by_service(tmp_path):
    with pytest.raises(SettingsError) as error:
        load_settings({"DDRC_DEPLOYMENT": "prd", "DDRC_HOME": str(tmp_path)})
    message = str(error.value)
    for service, variables in {
        "Snowflake": ["SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PRIVATE_KEY"],
        "Fivetran": ["FIVETRAN_API_KEY", "FIVETRAN_API_SECRET", "FIVETRAN_ACCOUNT_ID"],
        "Azure Blob Storage": ["DDRC_AZURE_CONTAINER", "AZURE_STORAGE_CONNECTION_STRING"],
        "Slack": ["DDRC_SLACK_CHANNEL", "SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL"],
        "Dagster UI links": ["DDRC_WEBSERVER_URL"],
    }.items():
        line = next(line for line in message.splitlines() if line.strip().startswith(service))
        assert all(v in line for v in variables), line
    # one variable given, the rest still listed
    with pytest.raises(SettingsError) as error:
        load_settings({"DDRC_DEPLOYMENT": "dev", "SNOWFLAKE_ACCOUNT": "x"})
    assert "SNOWFLAKE_USER" in str(error.value) and "SNOWFLAKE_ACCOUNT," not in str(error.value)


def lineage(defs: dg.Definitions) -> dict[str, set[str]]:
    graph = defs.resolve_asset_graph()
    return {
        key.to_user_string(): {p.to_user_string() for p in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }


@pytest.fixture(scope="module")
def local_lineage(tmp_path_factory):
    home = tmp_path_factory.mktemp("local")
    return lineage(build_definitions(load_settings({"DDRC_HOME": str(home)})))


@pytest.mark.parametrize("deployment", ["dev", "prd"])
def test_dev_and_prd_load_offline_with_the_same_keys_and_lineage(
    deployment, local_lineage, tmp_path, monkeypatch
):
    env = {**PLACEHOLDERS, "DDRC_DEPLOYMENT": deployment, "DDRC_HOME": str(tmp_path)}
    for name, value in env.items():  # EnvVar-backed secrets resolve from the process
        monkeypatch.setenv(name, value)
    defs = build_definitions(load_settings(env))
    assert lineage(defs) == local_lineage
    graph = defs.resolve_asset_graph()
    airtable = graph.get(dg.AssetKey(["raw", "airtable", "metrics"]))
    assert "fivetran" in airtable.kinds
    summary = graph.get(dg.AssetKey(["summary", "ddrc_metrics_summary"]))
    assert "snowflake" in summary.kinds
    assert defs.resources["publisher"].kind == "azure_blob"
    # a run's steps share its process (its pod): no definitions load per step
    assert defs.resolve_job_def(PIPELINE_JOB).executor_def.name == "in_process"
    # secrets stay variable names in the definitions (what the UI shows of resources)
    slack = defs.resources["slack"]
    assert slack.channel == "C0000000"
    assert "xoxb-placeholder" not in repr(slack) and "SLACK_BOT_TOKEN" in repr(slack)
    # the graph reacts by itself in dev/prd: the reconcile, every change signal, automation
    schedule = defs.resolve_schedule_def(RECONCILE_SCHEDULE)
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    watchers = [s for s in defs.sensors if s.name.startswith(WATCH_SENSOR_PREFIX)]
    assert {s.name for s in watchers} == {WATCH_SENSOR, "watch_fivetran"}
    ours = defs.resolve_sensor_def(WATCH_SENSOR).asset_selection.resolve(defs.resolve_asset_graph())
    assert EPA.asset_key in ours and AIRTABLE_METRICS.asset_key not in ours  # Fivetran's table
    assert all(
        defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
        for name in [AUTOMATION_SENSOR, *(s.name for s in watchers)]
    )
