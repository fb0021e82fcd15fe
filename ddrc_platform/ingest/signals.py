"""Has a source changed? One cheap request per source, and a sensor that loads it when so.

Each signal reads a fingerprint of the source without loading its data:
- ArcGIS: the layer's metadata (`editingInfo.lastEditDate`, else `dataLastEditDate`); a
  layer that reports neither (USACE's MapServer) gives its feature count and the newest
  value of its edit field (the catalog's `edit_field`: an edit adds a row version, a
  deletion lowers the count); the daily reconcile (`jobs.py`) loads it whatever they say;
- Malibu: a hash of the endpoint's payload (a few hundred rows: cheaper than any metadata);
- Airtable: the newest created and newest modified entry, one record each (deletions are
  caught by the daily reconcile).
In sample mode the signal is the sample generator's delivery for today, so the sensors
work offline; page feedback has no public endpoint and no signal (Fivetran's polling
sensor in dev/prd, the daily reconcile locally).

One sensor reads every source's signal each tick (`defs/ingest/watch.py`, it only
translates): `signature` reads a source, `load_on_change` decides whether its load is due
and under which key, and `burst` gathers the loads due at one tick into ONE run. A run
costs a process and a definitions load (tens of seconds on loaded cores, more than most
loads): sources that change together, or a deployment's first tick, load in one run, and
what lies downstream waits for it (`core/automation.loads_settled`) and runs once.

Why sensors with a change-signature `run_key`, not observable source assets: the loader
asset *is* the source's asset (dbt sources point at it), and a run key per signature makes
"load once per change" the daemon's job: a restarted sensor, a second daemon or a
duplicated tick can never load the same change twice. Everything downstream runs by
declarative automation (`transform/`, `publish/`), so one watching sensor is all the
graph needs to react. A source's load failing in a shared run fails only that source's
step: the others materialize, and only the failed source's attempt counts as failed.

Recovery: a failed load must not consume its change, or a source that comes back is never
reloaded (the daemon skips a run key it has seen, whatever that run's outcome). So the run
key carries an attempt number, counted from this sensor's earlier runs of the same change:
a failure leaves the next number free, and the sensor asks again after a backoff (5 min
after the failed attempt ended, doubling per consecutive failure up to an hour) until a
load succeeds; a signature that moves back to one loaded before (a source that answered
again after an outage) is a change and loads under its next number. Not a Dagster retry
policy: a step or run retry repeats at once or a fixed number of times inside one run, while
an outage lasts hours; and only the sensor re-reads the signal, so a retry loads what the
source holds now. The successful load then resolves the incident like any materialization.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ddrc_platform.core.catalog import Family, Keeping, RawTable
from ddrc_platform.core.names import pacific_date, partition_key
from ddrc_platform.ingest.fetch import sample_delivery, source_client, source_url
from ddrc_platform.ingest.load import loaded_here
from ddrc_platform.ingest.sources import arcgis
from ddrc_platform.ingest.sources.http import SourceError
from ddrc_platform.settings import Settings, SourceMode

SIGNAL_TRIES = 2  # a tick is cheap and frequent: the next one retries anyway
UNREADABLE = "unreadable"
RETRY_FIRST = timedelta(minutes=5)  # after a failed load: long enough for a blip to pass
RETRY_CAP = timedelta(hours=1)  # an outage is retried at least hourly until it answers

# Airtable's entry fields that move when an entry is added or edited (docs/sources.md)
AIRTABLE_CHANGE_FIELDS = ("Date Created", "Date Metric Modified")


def digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def arcgis_signature(
    table: RawTable, metadata: dict, count: Callable[[], int], newest: Callable[[str], Any]
) -> str:
    """The layer's last edit when it reports one; else its count and newest edit value."""
    edit = arcgis.layer_last_edit(metadata)
    if edit:
        return f"edited {edit.isoformat()}"
    field = edit_field_name(metadata, table.edit_field)
    return f"count {count()}" + (f", newest {field} {newest(field)}" if field else "")


def edit_field_name(metadata: dict, declared: str | None) -> str | None:
    """The layer's own spelling of its edit-date field (field case has changed before)."""
    wanted = (metadata.get("editFieldsInfo") or {}).get("editDateField") or declared
    names = [f["name"] for f in metadata.get("fields") or []]
    return next((n for n in names if wanted and n.lower() == wanted.lower()), None)


def _arcgis(table: RawTable, settings: Settings, day: Any) -> str:
    import pyarrow.compute as pc

    if settings.sources is SourceMode.SAMPLE:
        layer = sample_delivery(table, settings, day)
        assert isinstance(layer, arcgis.LayerData)
        return arcgis_signature(
            table,
            layer.metadata,
            lambda: layer.table.num_rows,
            lambda field: pc.max(layer.table[field]).as_py(),
        )
    url = source_url(settings, table)
    client = source_client(settings, table, tries=SIGNAL_TRIES)

    def query(**params: str) -> dict:
        params = {"where": "1=1", "f": "json", **params}
        return client.get_json(f"{url}/query", params, check=arcgis.raise_arcgis_error)

    def newest(field: str) -> Any:
        page = query(
            outFields=field,
            orderByFields=f"{field} DESC",
            resultRecordCount="1",
            returnGeometry="false",
        )
        features = page.get("features") or [{}]
        return (features[0].get("attributes") or {}).get(field)

    try:
        metadata = client.get_json(url, {"f": "json"}, check=arcgis.raise_arcgis_error)
        count = lambda: query(returnCountOnly="true")["count"]  # noqa: E731
        return arcgis_signature(table, metadata, count, newest)
    finally:
        client.close()


def _malibu(table: RawTable, settings: Settings, day: Any) -> str:
    if settings.sources is SourceMode.SAMPLE:
        return digest(sample_delivery(table, settings, day))
    client = source_client(settings, table, tries=SIGNAL_TRIES)
    try:
        return digest(client.get_json(source_url(settings, table)))
    finally:
        client.close()


def _airtable(table: RawTable, settings: Settings, day: Any) -> str:
    if settings.sources is SourceMode.SAMPLE:
        return digest(sample_delivery(table, settings, day))
    config = settings.airtable
    assert config.token and config.base_id  # enforced by the settings
    bearer = {"Authorization": f"Bearer {config.token.value}"}
    client = source_client(settings, table, tries=SIGNAL_TRIES, headers=bearer)
    url = f"{source_url(settings, table)}/v0/{config.base_id}/{config.table}"
    newest = []
    try:
        for field in AIRTABLE_CHANGE_FIELDS:
            page = client.get_json(
                url, {"pageSize": 1, "sort[0][field]": field, "sort[0][direction]": "desc"}
            )
            record = (page.get("records") or [{}])[0]
            newest.append(f"{record.get('id')}@{(record.get('fields') or {}).get(field)}")
    finally:
        client.close()
    return " ".join(newest)


_SIGNALS: dict[Family, Callable[[RawTable, Settings, Any], str]] = {
    Family.ARCGIS: _arcgis,
    Family.MALIBU: _malibu,
    Family.AIRTABLE: _airtable,
}


def watched_tables(settings: Settings) -> tuple[RawTable, ...]:
    """Tables our loaders read from a source with a signal (Fivetran's are watched by it)."""
    return tuple(t for t in loaded_here(settings) if t.family in _SIGNALS)


def signature(table: RawTable, settings: Settings, now: datetime) -> str:
    """The source's change signature for the load of today (Pacific)."""
    return _SIGNALS[table.family](table, settings, pacific_date(now))


def read_signature(
    table: RawTable, settings: Settings, now: datetime
) -> tuple[str, SourceError | None]:
    """The signature, or `UNREADABLE` with the error when the source does not answer.

    Unreadable still loads, once a day: the loader retries, fails with the real error and
    raises the incident; a signal that cannot be read must not hide a broken source.
    """
    try:
        return signature(table, settings, now), None
    except SourceError as error:
        return UNREADABLE, error


@dataclass(frozen=True)
class Attempt:
    """An earlier load this sensor asked for: the change it loaded and how it ended.

    `ended` is None while the run is queued or running; `failed` is False for a success
    and for a run a person canceled (their decision, not an outage to retry).
    """

    change: str
    failed: bool
    ended: datetime | None


@dataclass(frozen=True)
class Load:
    """A run the signal asks for: `cursor` is what the sensor remembers as seen, `change`
    the tag that finds this run among the attempts of a later tick."""

    cursor: str
    run_key: str
    partition_key: str | None
    change: str


def retry_delay(failures: int) -> timedelta:
    """How long after the last of `failures` consecutive failed loads to try again."""
    return min(RETRY_FIRST * 2 ** max(failures - 1, 0), RETRY_CAP)


def _failures(attempts: Sequence[Attempt]) -> int:
    """Consecutive failed attempts at the end of `attempts` (oldest first)."""
    count = 0
    for attempt in reversed(attempts):
        if not attempt.failed:
            break
        count += 1
    return count


def retry_due(attempts: Sequence[Attempt], now: datetime) -> bool:
    """Whether the last attempt at a change failed and its backoff has passed."""
    failures = _failures(attempts)
    ended = attempts[-1].ended if attempts else None
    return failures > 0 and ended is not None and now >= ended + retry_delay(failures)


def load_on_change(
    table: RawTable,
    day: date,
    seen: str,
    cursor: str | None,
    attempts: Sequence[Attempt] = (),
    now: datetime | None = None,
) -> Load | None:
    """A load when the signature moved since `cursor`, or its last load failed and is due
    again (`attempts`: this sensor's earlier runs, oldest first), else None.

    A snapshot is kept per day, so its key carries the day: the same signature loads once
    more on a new day. The run key is the daemon's guard against loading one change twice
    (a restarted sensor, a duplicated tick); an attempt still running keeps its number, so
    a tick that lost its cursor asks for the same run key and the daemon skips it.
    """
    snapshot = table.keeping is Keeping.SNAPSHOT
    day_key = partition_key(day)
    key = f"{day_key} {seen}" if snapshot else seen
    mine = [a for a in attempts if a.change == key]
    if key == cursor and not (now is not None and retry_due(mine, now)):
        return None
    number = len(mine) - 1 if mine and mine[-1].ended is None else len(mine)
    run_key = f"{table.name} {key}" + (f" (attempt {number + 1})" if number else "")
    return Load(key, run_key, day_key if snapshot else None, key)


@dataclass(frozen=True)
class Burst:
    """The one run a tick asks for: which sources it loads, under which run key, for which
    partition, and the change each source's load is for (its attempts are counted by it)."""

    sources: tuple[str, ...]
    run_key: str
    partition_key: str | None
    changes: dict[str, str]


def burst(loads: Mapping[str, Load], attempts: Mapping[str, Sequence[Attempt]]) -> Burst | None:
    """One run for every source whose load is due, or None when none is.

    A source whose load of this very change is still queued or running is left out: that
    run loads it (the daemon's run key guard, kept per source inside a shared run)."""
    due = {
        name: load
        for name, load in sorted(loads.items())
        if not any(a.change == load.change and a.ended is None for a in attempts.get(name, ()))
    }
    if not due:
        return None
    days = {load.partition_key for load in due.values()} - {None}
    return Burst(
        sources=tuple(due),
        run_key="; ".join(load.run_key for load in due.values()),
        partition_key=max(days) if days else None,
        changes={name: load.change for name, load in due.items()},
    )
