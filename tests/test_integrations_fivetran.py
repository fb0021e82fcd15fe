"""dagster-fivetran's unexported names and snapshot layout, checked so an upgrade fails here.

`ddrc_platform/integrations/dagster_fivetran.py` is the one place that imports them; each
test names what it leans on, so a release that moves one says what to fix.
"""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest
from dagster._core.definitions.repository_definition.repository_definition import (
    RepositoryLoadData,
)
from dagster_fivetran import ConnectorSelectorFn, DagsterFivetranTranslator, FivetranWorkspace
from dagster_fivetran.constants import (
    FIVETRAN_RECONSTRUCTION_METADATA_KEY_PREFIX,
    FIVETRAN_SNAPSHOT_ENV_VAR_NAME,
)
from dagster_fivetran.resources import FivetranWorkspaceDefsLoader
from dagster_fivetran.translator import FivetranConnector
from dagster_shared.serdes import serialize_value

from ddrc_platform.ingest.fivetran import SNAPSHOT_PATH
from ddrc_platform.integrations import dagster_fivetran as internals
from stand_ins.fivetran import STAND_IN_ACCOUNT_ID


def workspace(snapshot: Path = SNAPSHOT_PATH, account: str = STAND_IN_ACCOUNT_ID):
    return FivetranWorkspace(
        account_id=account, api_key="k", api_secret="s", snapshot_path=str(snapshot)
    )


def test_the_public_api_base_and_the_reschedule_limit_are_still_where_we_read_them():
    assert internals.PUBLIC_API_URL == "https://api.fivetran.com"
    assert isinstance(internals.RESCHEDULE_MAX_RETRIES, int)
    # the limit we report is the one the library retries a rescheduled sync up to
    source = inspect.getsource(FivetranWorkspace.sync_and_poll)
    source += inspect.getsource(type(workspace().get_client()))
    assert "max_retries=FIVETRAN_QUOTA_RESCHEDULE_MAX_RETRIES" in source


def test_the_committed_snapshot_holds_the_stand_in_account_readably():
    assert internals.snapshot_accounts(workspace()) == {STAND_IN_ACCOUNT_ID: True}
    # the library looks the state up under the key we read it from
    loader = FivetranWorkspaceDefsLoader(
        workspace=workspace(), translator=DagsterFivetranTranslator()
    )
    assert loader.defs_key == f"{FIVETRAN_RECONSTRUCTION_METADATA_KEY_PREFIX}/{STAND_IN_ACCOUNT_ID}"


def test_a_wrapped_state_is_told_apart_from_a_readable_one(tmp_path: Path):
    """dagster-fivetran 0.29 writes the state wrapped when `snapshot -a` is used."""
    path = tmp_path / "snapshot.json"
    key = f"{FIVETRAN_RECONSTRUCTION_METADATA_KEY_PREFIX}/wrapped_account"
    path.write_text(
        serialize_value(RepositoryLoadData(reconstruction_metadata={key: {"state": "..."}}))
    )
    assert internals.snapshot_accounts(workspace(path, "wrapped_account")) == {
        "wrapped_account": False
    }


def test_a_snapshot_being_taken_is_seen_by_the_workspace(monkeypatch: pytest.MonkeyPatch):
    assert not internals.generating_snapshot(workspace())
    monkeypatch.setenv(FIVETRAN_SNAPSHOT_ENV_VAR_NAME, "1")  # as `dagster-fivetran snapshot`
    assert internals.generating_snapshot(workspace())


def test_a_connector_selector_is_still_given_a_connector_with_a_name():
    (arguments, _returns) = typing.get_args(ConnectorSelectorFn)
    assert arguments == [FivetranConnector.__name__]  # a forward reference, in the translator
    connector = FivetranConnector(
        id="c1",
        name="AIRTABLE",
        service="airtable",
        group_id="g",
        setup_state="connected",
        sync_state="scheduled",
        paused=False,
        succeeded_at=None,
        failed_at=None,
    )
    assert internals.connectors_named({"airtable"})(connector)
    assert not internals.connectors_named({"feedback"})(connector)
