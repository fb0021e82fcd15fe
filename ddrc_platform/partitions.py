"""The daily partitions of one deployment: they start on the first day it can fill.

Sample data can be generated for any past day, so a sample deployment starts on the
sample's day zero and its history backfills. A live source serves only what it holds now:
a past day can never be loaded (`ingest/load.py` refuses it), so a live deployment starts
on its first live day, and the UI shows no partition that could never fill.
"""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import dagster as dg

from ddrc_platform.core.names import FIRST_LOAD_DATE, daily_partitions
from ddrc_platform.settings import Deployment, Settings, SettingsError, SourceMode


def first_partition_day(
    *, live: bool, configured: date | None, recorded: date | None, keeps_home: bool, today: date
) -> date:
    """The first daily partition: FIRST_LOAD_DATE in sample mode; live, the first live day.

    That day is `configured` (DDRC_LIVE_SINCE) when set, else the day `recorded` in the home
    at its first live use, else `today` (this is the first use). dev and prd must configure
    it: their pods keep no home, so a recorded day would move with every restart and hide
    the partitions loaded before it.
    """
    if not live:
        return FIRST_LOAD_DATE
    if configured is None and not keeps_home:
        raise SettingsError(
            "DDRC_LIVE_SINCE is not set: dev and prd keep no home to record their first live "
            "day in; set it (YYYY-MM-DD, the deployment's first live day) in deploy/helm/"
        )
    start = configured or recorded or today
    if not FIRST_LOAD_DATE <= start <= today:
        origin = "DDRC_LIVE_SINCE" if configured else "the first live day recorded in the home"
        raise SettingsError(
            f"{origin} is {start}: it must lie between {FIRST_LOAD_DATE} (the first load date) "
            f"and today ({today}), or no partition could hold today's load"
        )
    return start


def recorded_first_live_day(path: Path) -> date | None:
    """The day `record_first_live_day` wrote, if it did."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"{path} holds {text!r}, not a date (YYYY-MM-DD): write the deployment's first "
            "live day there, or set DDRC_LIVE_SINCE"
        ) from None


def _records(settings: Settings) -> bool:
    return (
        settings.sources is SourceMode.LIVE
        and settings.live_since is None
        and settings.deployment is Deployment.LOCAL
    )


def record_first_live_day(settings: Settings, today: date) -> None:
    """Once per home, at its first live use: later starts read the same first day back.

    Created exclusively, so two processes starting at once keep the first one's day.
    """
    if not _records(settings):
        return
    path = settings.first_live_day_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError), path.open("x") as handle:
        handle.write(f"{today.isoformat()}\n")


def deployment_partitions(settings: Settings, today: date) -> dg.DailyPartitionsDefinition:
    """The daily partitions of this deployment, as of `today` (Pacific)."""
    recorded = recorded_first_live_day(settings.first_live_day_path) if _records(settings) else None
    return daily_partitions(
        first_partition_day(
            live=settings.sources is SourceMode.LIVE,
            configured=settings.live_since,
            recorded=recorded,
            keeps_home=settings.deployment is Deployment.LOCAL,
            today=today,
        )
    )
