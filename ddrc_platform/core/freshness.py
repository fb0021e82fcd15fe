"""Where an asset's last good update stands against its freshness policy (the catalog's
windows), for what Dagster does not judge: the dashboard's per-source badge (fresh, late)
and the moment an incident says a source turns stale (`breach_time`).

Whether an asset *is* stale is judged once, by Dagster's freshness daemon against the same
policies; the incident sensor reads its verdicts (`integrations/dagster.freshness_states`)
and the dashboard says "stale" exactly when an incident does.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import dagster as dg


class Freshness(StrEnum):
    FRESH = "fresh"
    LATE = "late"  # past the warn window
    STALE = "stale"  # past the fail window: an incident is open for it
    NEVER = "never loaded"


def freshness(last_update: datetime | None, policy: dg.FreshnessPolicy, now: datetime) -> Freshness:
    """`last_update`: the last successful load (its materialization), timezone-aware."""
    if last_update is None:
        return Freshness.NEVER
    age = now - last_update
    if age > policy.fail_window.to_timedelta():
        return Freshness.STALE
    if policy.warn_window is not None and age > policy.warn_window.to_timedelta():
        return Freshness.LATE
    return Freshness.FRESH


def breach_time(last_update: datetime, policy: dg.FreshnessPolicy) -> datetime:
    """When an asset last updated at `last_update` becomes stale."""
    return last_update + policy.fail_window.to_timedelta()
