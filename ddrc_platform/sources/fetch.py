"""One call per raw table: fetch it from sample data or the live source, as a typed table.

Both modes end in the same shape (delivered columns upper-cased, geometry as GeoJSON
text), so everything after the fetch — the contract, the warehouse write, dbt — cannot
tell sample data from the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa

from ddrc_platform import catalog
from ddrc_platform.catalog import RawTable
from ddrc_platform.deployment import Settings, SourceMode
from ddrc_platform.sources import airtable, arcgis, malibu, sample
from ddrc_platform.sources.http import SourceClient

MALIBU_ENDPOINT_OF = {
    catalog.MALIBU_FIRE_REBUILD_POINTS: "FireRebuildPoints",
    catalog.MALIBU_PALISADES_PERMITS_ISSUED: "PalisadesPermitsIssued_Read",
    catalog.MALIBU_OVERALL_REBUILD_STATS: "OverallRebuildStatsPie_Read",
    catalog.MALIBU_FIRE_REBUILD_VISIT_POINTS: "FireRebuildVisitPoints",
}


@dataclass(frozen=True)
class Fetched:
    table: pa.Table  # delivered columns, upper case
    last_edit: datetime | None = None  # ArcGIS layers: editingInfo.lastEditDate (UTC)
    url: str | None = None  # where it was read from (live mode)


def upper_case_columns(table: pa.Table) -> pa.Table:
    names = [name.upper() for name in table.column_names]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"columns differ only by case: {', '.join(duplicates)}")
    return table.rename_columns(names)


def _client(settings: Settings, source: str, tries: int | None = None) -> SourceClient:
    return SourceClient(
        source=source,
        http=settings.http,
        tries=tries,
        ca_bundle=settings.endpoint(source).ca_bundle,
    )


def _fetch_arcgis(table: RawTable, settings: Settings, day: date) -> Fetched:
    if settings.sources is SourceMode.SAMPLE:
        layer = sample.arcgis_layer(table.name, scale=settings.sample_scale, day=day)
        return Fetched(upper_case_columns(layer.table), arcgis.layer_last_edit(layer.metadata))
    url = settings.endpoint(table.name).url
    client = _client(settings, table.name)
    try:
        read = arcgis.ArcgisLayer(client, url, settings.http.concurrency).read()
    finally:
        client.close()
    return Fetched(upper_case_columns(read.table), read.last_edit, url)


def _fetch_malibu(table: RawTable, settings: Settings, day: date) -> Fetched:
    endpoint = MALIBU_ENDPOINT_OF[table]
    if settings.sources is SourceMode.SAMPLE:
        rows = sample.malibu_endpoints(scale=settings.sample_scale, day=day)[endpoint]
        return Fetched(upper_case_columns(malibu.rows_to_table(rows)))
    base = settings.endpoint("malibu").url
    client = _client(settings, "malibu", tries=settings.http.malibu_tries)
    try:
        data = malibu.fetch_endpoint(client, base, endpoint)
    finally:
        client.close()
    return Fetched(upper_case_columns(data), url=base + malibu.ENDPOINTS[endpoint])


def _fetch_airtable(settings: Settings, day: date, now: datetime) -> Fetched:
    if settings.sources is SourceMode.SAMPLE:
        records = sample.airtable_records(scale=settings.sample_scale, day=day)
        return Fetched(airtable.records_to_table(records, now))
    endpoint = settings.endpoint("airtable").url
    assert settings.airtable_token and settings.airtable_base_id  # enforced by the settings
    records = airtable.fetch_records(
        endpoint=endpoint,
        token=settings.airtable_token,
        base_id=settings.airtable_base_id,
        table=settings.airtable_table,
        http=settings.http,
    )
    url = f"{endpoint}/v0/{settings.airtable_base_id}/{settings.airtable_table}"
    return Fetched(airtable.records_to_table(records, now), url=url)


def fetch(table: RawTable, settings: Settings, *, day: date, now: datetime) -> Fetched:
    """Read one raw table for the load of `day` (Pacific date) at `now` (UTC)."""
    if table in catalog.ARCGIS_TABLES:
        return _fetch_arcgis(table, settings, day)
    if table in catalog.MALIBU_TABLES:
        return _fetch_malibu(table, settings, day)
    if table is catalog.AIRTABLE_METRICS:
        return _fetch_airtable(settings, day, now)
    if table is catalog.PAGE_FEEDBACK:  # no public endpoint: Fivetran in dev/prd, sample here
        return Fetched(sample.page_feedback_rows(scale=settings.sample_scale, day=day))
    raise KeyError(f"no fetcher for {table.path}")
