"""Partitions that can fill: a live deployment's start on its first live day, sample's on
2025-01-08 (every past sample day can be generated, so history backfills)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import FIRST_LOAD_DATE, HISTORY_KEY
from ddrc_platform.definitions import build_definitions
from ddrc_platform.defs.ingest.raw import build_raw_asset
from ddrc_platform.partitions import (
    deployment_partitions,
    first_partition_day,
    record_first_live_day,
    recorded_first_live_day,
)
from ddrc_platform.settings import SettingsError, load_settings
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse

NOW = datetime(2026, 6, 2, 19, 30, tzinfo=UTC)  # 12:30 Pacific, June 2
TODAY = date(2026, 6, 2)
LIVE = {"DDRC_SOURCES": "live", "AIRTABLE_TOKEN": "placeholder", "DDRC_AIRTABLE_BASE_ID": "app1"}


@pytest.mark.parametrize(
    ("live", "configured", "recorded", "expected"),
    [
        (False, date(2026, 5, 1), date(2026, 5, 2), FIRST_LOAD_DATE),  # sample: any past day
        (True, date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 1)),  # DDRC_LIVE_SINCE wins
        (True, None, date(2026, 5, 2), date(2026, 5, 2)),  # recorded at the home's first use
        (True, None, None, TODAY),  # this is the first use
    ],
)
def test_the_first_partition_is_the_first_day_that_can_fill(live, configured, recorded, expected):
    start = first_partition_day(
        live=live, configured=configured, recorded=recorded, keeps_home=True, today=TODAY
    )
    assert start == expected


def test_dev_and_prd_must_say_their_first_live_day():
    """Their pods keep no home: a recorded day would move with every restart."""
    with pytest.raises(SettingsError, match="DDRC_LIVE_SINCE is not set"):
        first_partition_day(
            live=True, configured=None, recorded=date(2026, 5, 2), keeps_home=False, today=TODAY
        )
    configured = date(2026, 5, 1)
    start = first_partition_day(
        live=True, configured=configured, recorded=None, keeps_home=False, today=TODAY
    )
    assert start == configured


@pytest.mark.parametrize(
    ("configured", "recorded", "says"),
    [
        (date(2026, 6, 3), None, "DDRC_LIVE_SINCE is 2026-06-03"),  # no partition for today
        (date(2024, 12, 1), None, "DDRC_LIVE_SINCE is 2024-12-01"),  # before any load
        (None, date(2026, 6, 3), "the first live day recorded in the home is 2026-06-03"),
    ],
)
def test_a_first_day_no_load_can_fill_is_refused(configured, recorded, says):
    with pytest.raises(SettingsError, match=says):
        first_partition_day(
            live=True, configured=configured, recorded=recorded, keeps_home=True, today=TODAY
        )


def test_the_setting_must_be_a_date():
    with pytest.raises(SettingsError, match=r"DDRC_LIVE_SINCE='June 1' is not a date"):
        load_settings({"DDRC_LIVE_SINCE": "June 1"})


def test_a_live_home_records_its_first_day_once(tmp_path: Path):
    live = load_settings({"DDRC_HOME": str(tmp_path / "live"), **LIVE})
    record_first_live_day(live, date(2026, 5, 20))
    record_first_live_day(live, date(2026, 6, 1))  # a later start keeps the first day
    assert recorded_first_live_day(live.first_live_day_path) == date(2026, 5, 20)

    for env in ({}, {**LIVE, "DDRC_LIVE_SINCE": "2026-05-01"}):  # nothing to record
        settings = load_settings({"DDRC_HOME": str(tmp_path / "other"), **env})
        record_first_live_day(settings, TODAY)
        assert not settings.first_live_day_path.exists()


def test_a_damaged_record_names_its_file(tmp_path: Path):
    settings = load_settings({"DDRC_HOME": str(tmp_path), **LIVE})
    settings.first_live_day_path.write_text("yesterday\n")
    with pytest.raises(SettingsError, match=f"{settings.first_live_day_path} holds 'yesterday'"):
        deployment_partitions(settings, TODAY)


@pytest.mark.parametrize(
    ("env", "recorded", "first"),
    [
        ({}, None, "2025-01-08"),
        ({**LIVE, "DDRC_LIVE_SINCE": "2026-05-20"}, None, "2026-05-20"),
        (LIVE, date(2026, 5, 25), "2026-05-25"),
    ],
    ids=["sample", "live-configured", "live-recorded"],
)
def test_raw_and_dbt_assets_share_partitions_from_the_first_day(env, recorded, first, tmp_path):
    settings = load_settings({"DDRC_HOME": str(tmp_path), **env})
    if recorded:
        record_first_live_day(settings, recorded)
    graph = build_definitions(settings, clock=lambda: NOW).resolve_asset_graph()
    partitioned = {
        key: node.partitions_def
        for key in graph.get_all_asset_keys()
        if (node := graph.get(key)).partitions_def is not None
    }
    assert {
        HISTORY_KEY,
        catalog.EPA.asset_key,
        catalog.MALIBU_FIRE_REBUILD_POINTS.asset_key,
    } <= set(partitioned)
    (keys,) = {tuple(p.get_partition_keys(current_time=NOW)) for p in partitioned.values()}
    assert (keys[0], keys[-1]) == (first, "2026-06-02")  # nothing before it could ever fill


def test_a_past_live_day_inside_the_partitions_is_refused_before_any_request(tmp_path: Path):
    settings = load_settings(
        {
            "DDRC_HOME": str(tmp_path),
            **LIVE,
            "DDRC_LIVE_SINCE": "2026-05-20",
            "DDRC_EPA_URL": "http://127.0.0.1:9/never/0",  # nothing listens: no request made
        }
    )
    asset = build_raw_asset(catalog.EPA, settings, "duckdb", clock=lambda: NOW)
    assert "2026-06-01" in asset.partitions_def.get_partition_keys(current_time=NOW)
    result = dg.materialize(
        [asset],
        partition_key="2026-06-01",
        resources={"warehouse": DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "cannot load the past day 2026-06-01 from the live source" in message
