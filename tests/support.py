"""What several test modules share that is not a fixture: settings, the pipeline run, a
sensor tick. Fixtures live in `conftest.py` and the plugin modules (`azurite.py`,
`postgres.py`, `fakesnow_server.py`); no test module imports another."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from ddrc_platform.core.names import (
    HISTORY_KEY,
    INCIDENT_SENSOR,
    PIPELINE_JOB,
    pacific_date,
    partition_key,
)
from ddrc_platform.definitions import build_definitions
from ddrc_platform.settings import HttpSettings, Settings

# When and at what sample scale the session-built home (`built_home` in conftest) is built.
BUILT_AT = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)
BUILT_SCALE = "0.05"

# Retries that take milliseconds, so failure tests stay fast. The timeout is not short: a
# local stand-in on a loaded two-core CI machine once took more than 2 s to answer, and a
# test of a corrupt warehouse saw a source time out too. (Timeout tests set their own.)
FAST_HTTP = HttpSettings(timeout=20.0, tries=3, malibu_tries=4, backoff=0.01, max_backoff=0.05)

# Every variable dev and prd require, with values that never reach a network.
PLACEHOLDERS = {
    "SNOWFLAKE_ACCOUNT": "placeholder",
    "SNOWFLAKE_USER": "placeholder",
    "SNOWFLAKE_PRIVATE_KEY_PATH": "/nonexistent/key.p8",
    "FIVETRAN_API_KEY": "placeholder",
    "FIVETRAN_API_SECRET": "placeholder",
    "FIVETRAN_ACCOUNT_ID": "ddrc_stand_in",  # the account the snapshot in the repo describes
    "DDRC_AZURE_CONTAINER": "ddrc-metrics",
    "AZURE_STORAGE_ACCOUNT_URL": "https://placeholder.blob.core.windows.net",
    "SLACK_BOT_TOKEN": "xoxb-placeholder",
    "DDRC_SLACK_CHANNEL": "C0000000",
    "DDRC_WEBSERVER_URL": "https://dagster.example",
    "DDRC_INCIDENT_DATABASE_URL": "postgresql://ddrc:placeholder@127.0.0.1:1/ddrc_incidents",
    "DDRC_LIVE_SINCE": "2026-03-02",  # the first live day: where dev/prd partitions start
}


@dataclass(frozen=True)
class Done:
    """What a command left: its status and what it printed (`ddrc_cli` in conftest)."""

    returncode: int
    stdout: str
    stderr: str


def instance_knowing(defs: dg.Definitions) -> dg.DagsterInstance:
    """An instance that knows a built home holds every unpartitioned asset (an empty one
    would have the automation build what it has never seen: tests/test_bootstrap.py)."""
    instance = dg.DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        if graph.get(key).partitions_def is None:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
    return instance


def record_freshness(instance: dg.DagsterInstance, key: dg.AssetKey, state: str) -> None:
    """What Dagster's freshness daemon records when it judges `key` ("PASS", "WARN",
    "FAIL"): an in-process instance has no daemon to do it."""
    from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

    instance.report_runless_asset_event(
        FreshnessStateChange(
            key=key,
            new_state=FreshnessState(state),
            previous_state=FreshnessState.UNKNOWN,
            state_change_timestamp=dt.datetime.now(dt.UTC).timestamp(),
        )
    )


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None) -> str | None:
    """One evaluation of the incident sensor with the definitions' own resources."""
    sensor = defs.resolve_sensor_def(INCIDENT_SENSOR)
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        repository_def=defs.get_repository_def(),
        resources={key: defs.resources[key] for key in sensor.required_resource_keys},
    )
    sensor.evaluate_tick(context)
    return context.cursor


def run_pipeline(
    settings: Settings,
    instance: dg.DagsterInstance,
    at: dt.datetime,
    selection: list[dg.AssetKey] | None = None,
    changed: list[dg.AssetKey] | None = None,
) -> tuple[dg.Definitions, dg.ExecuteInProcessResult]:
    """The pipeline job as the daily reconcile runs it: today's (Pacific) partition at `at`.

    Without a selection, the whole job (today's history is built with the latest state).
    `changed`: only what a change of these assets reruns (they and all below them), as the
    automation would; a test of one source's change need not reload the others.
    """
    defs = build_definitions(settings, clock=lambda: at)
    job = defs.resolve_job_def(PIPELINE_JOB)
    if changed is not None:
        selection = list(
            dg.AssetSelection.assets(*changed).downstream().resolve(defs.resolve_asset_graph())
        )
    if selection is None:
        selection = list(job.asset_layer.executable_asset_keys)
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        # the job builds today's history with its parent, as the automation does
        asset_selection=[k for k in selection if k != HISTORY_KEY],
        partition_key=partition_key(pacific_date(at)),
    )
    return defs, result
