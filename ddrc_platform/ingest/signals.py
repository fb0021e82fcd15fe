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

Why sensors with a change-signature `run_key`, not observable source assets: the loader
asset *is* the source's asset (dbt sources point at it), and a run key per signature makes
"load once per change" the daemon's job: a restarted sensor, a second daemon or a
duplicated tick can never load the same change twice. Everything downstream runs by
declarative automation (`transform/`, `publish/`), so one sensor per source is all the
graph needs to react.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import dagster as dg
import pyarrow.compute as pc

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Family, Keeping, RawTable
from ddrc_platform.core.names import WATCH_SENSOR_PREFIX, pacific_date, partition_key, utc_now
from ddrc_platform.ingest.fetch import source_client, source_url
from ddrc_platform.ingest.sample.common import ArcgisSample
from ddrc_platform.ingest.sources import arcgis
from ddrc_platform.ingest.sources.http import SourceError
from ddrc_platform.settings import Settings, SourceMode

SIGNAL_TRIES = 2  # a tick is cheap and frequent: the next one retries anyway

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
    if settings.sources is SourceMode.SAMPLE:
        layer = table.sample(scale=settings.sample_scale, day=day)
        assert isinstance(layer, ArcgisSample)
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
        return digest(table.sample(scale=settings.sample_scale, day=day))
    client = source_client(settings, table, tries=SIGNAL_TRIES)
    try:
        return digest(client.get_json(source_url(settings, table)))
    finally:
        client.close()


def _airtable(table: RawTable, settings: Settings, day: Any) -> str:
    if settings.sources is SourceMode.SAMPLE:
        return digest(table.sample(scale=settings.sample_scale, day=day))
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
    return tuple(
        t
        for t in catalog.RAW_TABLES
        if t.family in _SIGNALS and not (t.synced_by_fivetran and settings.fivetran is not None)
    )


def signature(table: RawTable, settings: Settings, now: datetime) -> str:
    """The source's change signature for the load of today (Pacific)."""
    return _SIGNALS[table.family](table, settings, pacific_date(now))


def build_watch_sensor(
    table: RawTable, settings: Settings, clock: Callable[[], datetime] = utc_now
) -> dg.SensorDefinition:
    snapshot = table.keeping is Keeping.SNAPSHOT

    @dg.sensor(
        name=WATCH_SENSOR_PREFIX + table.name,
        asset_selection=[table.asset_key],
        minimum_interval_seconds=settings.watch.watch_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING
        if settings.reacts_by_default
        else dg.DefaultSensorStatus.STOPPED,
        description=f"Loads {table.title} when its change signal moves (see "
        "`ddrc_platform/ingest/signals.py`); what lies downstream follows by automation.",
    )
    def watch(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        now = clock()
        day = partition_key(pacific_date(now))
        try:
            seen = signature(table, settings, now)
        except SourceError as error:
            # load anyway, once a day: the loader retries, fails with the real error and
            # raises the incident; a signal that cannot be read must not hide a broken source
            context.log.warning(f"{table.name}: change signal unreadable: {error}")
            seen = "unreadable"
        key = f"{day} {seen}" if snapshot else seen
        if key == context.cursor:
            return dg.SkipReason(f"unchanged: {seen}")
        context.update_cursor(key)
        return dg.RunRequest(
            run_key=f"{table.name} {key}",
            partition_key=day if snapshot else None,
            tags={"ddrc/trigger": "change", "ddrc/source": table.name},
        )

    return watch


def build_watch_defs(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> list[dg.SensorDefinition]:
    return [build_watch_sensor(t, settings, clock) for t in watched_tables(settings)]
