"""Fivetran in dev/prd: definitions from the committed snapshot, syncs against the stand-in.

The stand-in speaks the REST calls dagster-fivetran makes, so these tests run the real
`FivetranWorkspace.sync_and_poll` end to end: schedule switched to manual, sync forced,
connector polled until `succeeded_at` / `failed_at` moves, or a reschedule retried.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests
from dagster._core.definitions.repository_definition.repository_definition import (
    RepositoryLoadData,
)
from dagster_fivetran.constants import FIVETRAN_RECONSTRUCTION_METADATA_KEY_PREFIX
from dagster_shared.serdes import serialize_value

from ddrc_platform.core import catalog
from ddrc_platform.ingest.fivetran import (
    FIVETRAN_RESOURCE_KEY,
    SNAPSHOT_PATH,
    DdrcFivetranTranslator,
    DdrcFivetranWorkspace,
    build_fivetran_assets,
    build_fivetran_sensor,
    build_fivetran_workspace,
)
from ddrc_platform.settings import SettingsError, fivetran_settings
from stand_ins.fivetran import (
    STAND_IN_ACCOUNT_ID,
    FivetranServer,
    Outcome,
    ddrc_connectors,
)

AIRTABLE_KEY = catalog.AIRTABLE_METRICS.asset_key
FEEDBACK_KEY = catalog.PAGE_FEEDBACK.asset_key
AIRTABLE_CONNECTOR = "ddrc_airtable_metrics"
KEY = "fivetran-key-3f9a1c"
SECRET = "fivetran-secret-8b2e7d"

# Dagster's own notice about the state-backed loading dagster-fivetran uses
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")]

Materialize = Callable[..., tuple[dg.ExecuteInProcessResult, str]]


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FivetranServer]:
    with FivetranServer(KEY, SECRET) as stand_in:
        yield stand_in


@pytest.fixture
def server(shared_server: FivetranServer) -> FivetranServer:
    shared_server.reset()
    shared_server.sync_polls, shared_server.reschedule_seconds = 2, 0.2
    return shared_server


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def env(server: FivetranServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The deployment environment; key and secret are read by Dagster from the process's."""
    monkeypatch.setenv("FIVETRAN_API_KEY", KEY)
    monkeypatch.setenv("FIVETRAN_API_SECRET", SECRET)
    return {
        "FIVETRAN_ACCOUNT_ID": STAND_IN_ACCOUNT_ID,
        "FIVETRAN_API_KEY": KEY,
        "FIVETRAN_API_SECRET": SECRET,
        "DDRC_FIVETRAN_API_URL": server.url,
        "DDRC_FIVETRAN_POLL_INTERVAL": "0.01",
    }


@pytest.fixture
def materialize(instance: dg.DagsterInstance, env: dict[str, str]) -> Materialize:
    """Materialize in process; returns the result and every log record of the run as text."""

    def run(*keys: dg.AssetKey) -> tuple[dg.ExecuteInProcessResult, str]:
        # dagster-fivetran retries a failed request after 0.25 s, three times: 10 ms will do
        workspace = build_fivetran_workspace(fivetran_settings(env)).model_copy(
            update={"request_retry_delay": 0.01}
        )
        result = dg.materialize(
            build_fivetran_assets(workspace),
            resources={FIVETRAN_RESOURCE_KEY: workspace},
            selection=list(keys),
            instance=instance,
            raise_on_error=False,
        )
        logs = "\n".join(repr(entry) for entry in instance.all_logs(result.run_id))
        return result, logs

    return run


def failure_of(result: dg.ExecuteInProcessResult) -> dg.DagsterEvent:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    return failure


# -- definitions --------------------------------------------------------------------------
def forbid_api_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, any Fivetran API call (dagster-fivetran uses `requests.request`) fails."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("loading the Fivetran definitions called the API")

    monkeypatch.setattr(requests, "request", refuse)


def test_definitions_load_from_the_snapshot_without_server_or_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forbid_api_calls(monkeypatch)
    monkeypatch.delenv("FIVETRAN_API_KEY", raising=False)
    monkeypatch.delenv("FIVETRAN_API_SECRET", raising=False)

    workspace = build_fivetran_workspace(
        fivetran_settings({"FIVETRAN_ACCOUNT_ID": STAND_IN_ACCOUNT_ID})
    )
    assets = build_fivetran_assets(workspace)

    specs = {spec.key: spec for a in assets for spec in a.specs}
    assert set(specs) == {AIRTABLE_KEY, FEEDBACK_KEY}
    assert len(assets) == 2  # one sync step per connector
    assert all(FIVETRAN_RESOURCE_KEY in a.required_resource_keys for a in assets)
    for table in catalog.FIVETRAN_TABLES:
        spec = specs[table.asset_key]
        assert spec.group_name == "ingestion"
        assert spec.owners == ["team:ddrc-data-engineering"]
        assert spec.kinds == {"fivetran", "snowflake"}
        assert table.title in (spec.description or "")
        assert spec.metadata["dagster/table_name"] == f"RAW_DDRC_PRD.{table.path}"
        assert spec.metadata["connector_url"].url.startswith(
            "https://fivetran.com/dashboard/connections/"
        )
        assert spec.freshness_policy is not None
        columns = {c.name.upper() for c in spec.metadata["dagster/column_schema"].columns}
        assert columns == set(table.columns)
    # the resource shows variable names, never values
    assert "FIVETRAN_API_KEY" in repr(workspace.api_key)


def test_a_snapshot_of_another_account_fails_at_load_with_the_refresh_command() -> None:
    workspace = build_fivetran_workspace(fivetran_settings({"FIVETRAN_ACCOUNT_ID": "real_account"}))
    with pytest.raises(SettingsError, match=r"real_account.*dagster-fivetran snapshot"):
        build_fivetran_assets(workspace)


def test_the_committed_snapshot_is_what_the_refresh_command_takes(
    server: FivetranServer, env: dict[str, str], tmp_path: Path
) -> None:
    output = tmp_path / "snapshot.json"
    dagster_fivetran = Path(sys.executable).with_name("dagster-fivetran")
    subprocess.run(
        [
            str(dagster_fivetran),
            "snapshot",
            "-m",
            "ddrc_platform.ingest.fivetran",
            "-o",
            str(output),
        ],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    assert json.loads(output.read_text()) == json.loads(SNAPSHOT_PATH.read_text())
    assert {r.path for r in server.requests} >= {
        "/v1/groups",
        "/v1/destinations/ddrc_raw_prd",
        "/v1/groups/ddrc_raw_prd/connectors",
        f"/v1/connectors/{AIRTABLE_CONNECTOR}/schemas",
    }


def test_tables_outside_the_catalog_and_missing_catalog_tables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A table added in Fivetran becomes raw/<schema>/<table>; a catalog table no connector
    lands (here: feedback landed under another schema) fails the load, naming it."""
    airtable, feedback = ddrc_connectors()
    airtable.tables["metric_definitions"] = ("id", "metric_machine_name")
    feedback.schema = "website_feedback"
    with FivetranServer(KEY, SECRET, [airtable, feedback]) as server:
        workspace = DdrcFivetranWorkspace(
            account_id="other_account", api_key=KEY, api_secret=SECRET, api_url=server.url
        )
        data = workspace.fetch_fivetran_workspace_data()
    keys = {
        DdrcFivetranTranslator().get_asset_spec(props).key
        for props in data.to_fivetran_connector_table_props_data()
    }
    assert keys == {
        AIRTABLE_KEY,
        dg.AssetKey(["raw", "airtable", "metric_definitions"]),
        dg.AssetKey(["raw", "website_feedback", "page_feedback"]),
    }

    # the file `dagster-fivetran snapshot` writes, for this account
    key = f"{FIVETRAN_RECONSTRUCTION_METADATA_KEY_PREFIX}/other_account"
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(
        serialize_value(RepositoryLoadData(reconstruction_metadata={key: serialize_value(data)}))
    )
    forbid_api_calls(monkeypatch)
    with pytest.raises(SettingsError, match=r"lands feedback\.page_feedback"):
        build_fivetran_assets(
            build_fivetran_workspace(
                fivetran_settings({"FIVETRAN_ACCOUNT_ID": "other_account"}), snapshot
            )
        )


# -- syncs ------------------------------------------------------------------------------
def test_materializing_forces_a_sync_and_polls_it_to_success(
    server: FivetranServer, materialize: Materialize
) -> None:
    result, _ = materialize(AIRTABLE_KEY)

    assert result.success
    assert server.forced == [AIRTABLE_CONNECTOR]
    [patch] = [r for r in server.requests if r.method == "PATCH"]
    assert patch.json() == {"schedule_type": "manual"}
    polls = [r for r in server.requests_to(f"/v1/connectors/{AIRTABLE_CONNECTOR}")]
    assert len(polls) >= server.sync_polls + 1
    expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert all(r.headers["authorization"] == expected for r in server.requests)

    [materialization] = result.asset_materializations_for_node("fivetran_sync_airtable")
    assert materialization.asset_key == AIRTABLE_KEY
    assert materialization.metadata["dagster-fivetran/connector_id"].value == AIRTABLE_CONNECTOR
    assert materialization.metadata["reschedules"].value == 0
    assert materialization.metadata["dagster/storage_kind"].value == "snowflake"


def test_a_failed_sync_fails_the_run_naming_the_connector_and_the_fix(
    server: FivetranServer, materialize: Materialize
) -> None:
    server.plan_syncs(AIRTABLE_CONNECTOR, Outcome.FAILURE)

    result, logs = materialize(AIRTABLE_KEY)

    assert not result.success
    failure = failure_of(result)
    message = failure.step_failure_data.error.message
    assert f"connector 'airtable' ({AIRTABLE_CONNECTOR}) did not succeed" in message
    assert "re-trigger the sync by materializing raw/airtable/metrics" in message
    assert f"https://fivetran.com/dashboard/connections/{AIRTABLE_CONNECTOR}" in message
    metadata = failure.step_failure_data.user_failure_data.metadata
    assert metadata["failed_at"].value != "None"
    assert KEY not in logs and SECRET not in logs


def test_rejected_credentials_fail_clearly_without_revealing_them(
    server: FivetranServer, materialize: Materialize, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIVETRAN_API_SECRET", "wrong-secret-5d1c")

    result, logs = materialize(FEEDBACK_KEY)

    message = failure_of(result).step_failure_data.error.message
    assert "connector 'feedback' (ddrc_dynamodb_feedback) did not succeed" in message
    assert "401" in message
    assert server.forced == []
    assert "wrong-secret-5d1c" not in logs and KEY not in logs


def test_a_rescheduled_sync_is_reported_then_retried_to_success(
    server: FivetranServer, materialize: Materialize
) -> None:
    server.plan_syncs(AIRTABLE_CONNECTOR, Outcome.RESCHEDULED)

    result, logs = materialize(AIRTABLE_KEY)

    assert result.success
    assert server.forced == [AIRTABLE_CONNECTOR, AIRTABLE_CONNECTOR]  # retried: forced again
    [observation] = [
        e.event_specific_data.asset_observation
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert observation.metadata["fivetran_sync_state"].value == "rescheduled"
    assert observation.metadata["rescheduled_for"].value.startswith("20")
    assert "Fivetran rescheduled the sync of connector 'airtable'" in logs
    [materialization] = result.asset_materializations_for_node("fivetran_sync_airtable")
    assert materialization.metadata["reschedules"].value == 1


def test_a_sync_rescheduled_past_the_retries_fails_clearly(
    server: FivetranServer, materialize: Materialize
) -> None:
    server.reschedule_seconds = 0.05
    server.plan_syncs(AIRTABLE_CONNECTOR, *[Outcome.RESCHEDULED] * 4)  # 1 try + 3 retries

    result, _ = materialize(AIRTABLE_KEY)

    message = failure_of(result).step_failure_data.error.message
    assert "Fivetran rescheduled the sync of connector 'airtable'" in message
    assert "4th time in a row" in message
    assert len(server.forced) == 4


def test_a_sync_that_outlasts_the_poll_timeout_fails_clearly(
    server: FivetranServer, env: dict[str, str], materialize: Materialize
) -> None:
    server.sync_polls = 10_000
    env["DDRC_FIVETRAN_POLL_TIMEOUT"] = "0.2"

    result, _ = materialize(FEEDBACK_KEY)

    message = failure_of(result).step_failure_data.error.message
    assert "connector 'feedback' (ddrc_dynamodb_feedback) did not succeed" in message
    assert "timed out" in message


# -- the stand-in ---------------------------------------------------------------------------
def test_the_watch_sensor_turns_syncs_fivetran_ran_into_materializations_once(
    server: FivetranServer, env: dict[str, str]
) -> None:
    """Syncs Fivetran runs on its own schedule are the change signal of its tables: the
    polling sensor records each as a materialization (automation then runs what lies below);
    an unchanged or rescheduled connector records nothing."""
    workspace = build_fivetran_workspace(fivetran_settings(env)).model_copy(
        update={"request_retry_delay": 0.01}
    )
    sensor = build_fivetran_sensor(workspace, interval_seconds=60)
    assert sensor.name == "watch_fivetran" and sensor.minimum_interval_seconds == 60
    defs = dg.Definitions(
        assets=build_fivetran_assets(workspace),
        sensors=[sensor],
        resources={FIVETRAN_RESOURCE_KEY: workspace},
    )
    instance = dg.DagsterInstance.ephemeral()

    def tick(cursor: str | None) -> tuple[list[dg.AssetKey], str | None]:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
        data = sensor.evaluate_tick(context)
        return sorted((e.asset_key for e in data.asset_events), key=str), data.cursor

    first, cursor = tick(None)  # the syncs before the sensor started
    assert first == sorted([AIRTABLE_KEY, FEEDBACK_KEY], key=str)
    assert tick(cursor)[0] == []  # nothing synced since

    airtable = server.connectors[AIRTABLE_CONNECTOR]
    airtable.succeeded_at = "2099-01-01T06:00:00.000000Z"  # Fivetran's own scheduled sync
    synced, cursor = tick(cursor)
    assert synced == [AIRTABLE_KEY]
    airtable.sync_state, airtable.update_state = "rescheduled", "delayed"  # quota
    assert tick(cursor)[0] == []
    assert not server.forced  # watching never triggers a sync


def test_stand_in_checks_credentials_and_pages_connectors(server: FivetranServer) -> None:
    groups = f"{server.url}/v1/groups"
    assert requests.get(groups, timeout=5).status_code == 401
    assert requests.get(groups, auth=(KEY, "nope"), timeout=5).status_code == 401

    url = f"{server.url}/v1/groups/ddrc_raw_prd/connectors"
    first = requests.get(url, auth=(KEY, SECRET), params={"limit": 1}, timeout=5).json()["data"]
    assert first["next_cursor"]
    second = requests.get(
        url, auth=(KEY, SECRET), params={"limit": 1, "cursor": first["next_cursor"]}, timeout=5
    ).json()["data"]
    assert second["next_cursor"] is None
    schemas = {item["schema"] for item in first["items"] + second["items"]}
    assert schemas == {"airtable", "feedback"}
