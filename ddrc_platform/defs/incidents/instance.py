"""What the incident sensor reads of the Dagster instance, as plain values (times, ids,
keys) for `ddrc_platform.incidents`. What it writes there (the incident on an asset's
page) is `asset_page.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import dagster as dg

from ddrc_platform.incidents.classify import stale_and_fresh
from ddrc_platform.integrations.dagster import freshness_states


def hung_runs(
    instance: dg.DagsterInstance, now: datetime, max_seconds: float
) -> list[tuple[str, set[dg.AssetKey], str]]:
    """Runs still going past the maximum runtime: (run id, planned assets, what is wrong).

    Run monitoring (`run_monitoring.max_runtime_seconds`) stops them where a daemon runs;
    this notices them anyway, while they still hold the warehouse or the publishing slot.
    """
    hung = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        started = record.start_time
        if started is None or now.timestamp() - started <= max_seconds:
            continue
        run = record.dagster_run
        minutes = (now.timestamp() - started) / 60
        hung.append(
            (
                run.run_id,
                set(run.asset_selection or ()),
                f"run {run.run_id} of {run.job_name} has been running for {minutes:.0f} min, "
                f"past its maximum runtime of {max_seconds / 60:.0f} min (DDRC_MAX_RUN_SECONDS)",
            )
        )
    return hung


def last_materialized(instance: dg.DagsterInstance, key: dg.AssetKey) -> datetime | None:
    event = instance.get_latest_materialization_event(key)
    return datetime.fromtimestamp(event.timestamp, UTC) if event is not None else None


def stale_assets(
    instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]
) -> tuple[list[dg.AssetKey], list[dg.AssetKey]]:
    """(beyond their fail window, within it), by the freshness daemon's last judgement."""
    return stale_and_fresh(freshness_states(instance, list(keys)))


def last_good(instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]) -> datetime | None:
    """When the oldest of these assets last materialized: its numbers age from then."""
    times = []
    for key in keys:
        at = last_materialized(instance, key)
        if at is None:
            return None
        times.append(at)
    return min(times, default=None)
