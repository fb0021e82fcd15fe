"""The Sources page's honest columns, decided by plain functions of `dashboards/data.py`:
a time from a source ahead of our clock is flagged, a source with no edit date shows what
its change sensor watches, and "stale" is exactly what the open incidents say."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType

import pandas as pd
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.incidents import FailureKind

NOW = datetime(2025, 6, 2, 19, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def data() -> Iterator[ModuleType]:
    """dashboards/data.py as the pages import it (dashboards/ on the path)."""
    import importlib
    from pathlib import Path

    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "dashboards"))
        yield importlib.import_module("data")


def test_an_edit_in_the_future_is_flagged_not_shown_as_a_time(data):
    tomorrow = NOW + timedelta(days=1)
    shown = data.change_signal(catalog.EPA, {"last_edit": tomorrow.replace(tzinfo=None)}, NOW)
    assert shown.startswith("last edit ⚠ Jun 3 2025, 12:30 PM PT: in the future, impossible")
    ok = data.change_signal(catalog.EPA, {"last_edit": NOW.replace(tzinfo=None)}, NOW)
    assert ok == "last edit Jun 2 2025, 12:30 PM PT"
    # a clock a few minutes ahead of ours is a source's usual skew, not an impossibility
    skewed = data.shown_time(NOW + timedelta(minutes=5), NOW)
    assert "⚠" not in skewed


def test_a_layer_without_an_edit_date_shows_what_its_sensor_watches(data):
    newest = int((NOW - timedelta(days=2)).timestamp() * 1000)  # epoch ms, as ArcGIS keeps it
    found = {"last_edit": None, "newest_edit": newest, "row_count": 15000}
    assert data.change_signal(catalog.USACE, found, NOW) == (
        "newest GDB_FROM_DATE May 31 2025, 12:30 PM PT · 15,000 features "
        "(the layer reports no edit date)"
    )
    future = {"newest_edit": int((NOW + timedelta(days=30)).timestamp() * 1000)}
    assert "⚠" in data.change_signal(catalog.USACE, future, NOW)


def test_every_source_has_a_change_signal_and_none_reads_none(data):
    for table in catalog.RAW_TABLES:
        shown = data.change_signal(table, {}, NOW)
        assert shown and "None" not in shown and "NaT" not in shown, table.name
    airtable = {"newest_created": NOW.replace(tzinfo=None), "newest_modified": None}
    assert data.change_signal(catalog.AIRTABLE_METRICS, airtable, NOW) == (
        "newest entry created Jun 2 2025, 12:30 PM PT, modified none"
    )


def incidents(*rows: tuple[FailureKind, list[str], bool]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"kind": kind.label, "asset_keys": keys, "open": open_} for kind, keys, open_ in rows],
        columns=["kind", "asset_keys", "open"],
    )


def test_stale_is_shown_exactly_when_an_open_incident_says_so(data):
    """Page feedback loaded this morning, its rows last changed three days ago: the times
    here say stale, the sensor (which judges the last successful load) opened nothing."""
    feedback, usace, epa = (
        t.asset_key.to_user_string() for t in (catalog.PAGE_FEEDBACK, catalog.USACE, catalog.EPA)
    )
    sources = pd.DataFrame(
        {"asset_key": [feedback, usace, epa], "freshness": ["stale", "fresh", "fresh"]}
    )
    judged = data.stale_as_incidents_say(
        sources,
        incidents(
            (FailureKind.SOURCE_STALE, [usace], True),
            (FailureKind.SOURCE_STALE, [epa], False),  # resolved: no longer says so
            (FailureKind.SOURCE_LOAD_FAILED, [epa], True),  # open, but not about freshness
        ),
    )
    assert list(judged["freshness"]) == ["late", "stale", "fresh"]
    none = data.stale_as_incidents_say(sources, incidents())
    assert "stale" not in set(none["freshness"])
