"""One call per raw table: fetch it from sample data or the live source, as a typed table.

Both modes end in the same shape (delivered columns upper-cased, geometry as GeoJSON
text), so everything after the fetch (the contract, the warehouse write, dbt) cannot
tell sample data from the real thing. One reader per source family; which family and
which endpoint a table has is its catalog declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Family, Kind, RawTable
from ddrc_platform.core.redact import Redactor
from ddrc_platform.ingest.contract import column_names, delivered_kinds
from ddrc_platform.ingest.sources import airtable, arcgis, malibu
from ddrc_platform.ingest.sources.http import SourceClient
from ddrc_platform.settings import Settings, SourceMode

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Fetched:
    table: pa.Table  # delivered columns, upper case
    last_edit: datetime | None = None  # ArcGIS layers: editingInfo.lastEditDate (UTC)
    url: str | None = None  # where it was read from (live mode), credentials redacted
    system_fields: tuple[str, ...] = ()  # the source's own bookkeeping fields: never drift
    # column -> the kinds its values have, as the source said them (its field types, the
    # JSON values); None: read from the table's types (a column with no value says nothing)
    kinds: Mapping[str, frozenset[Kind]] | None = None
    omitted: tuple[str, ...] = ()  # documented columns the source sent no value of
    source_types: Mapping[str, str] = field(default_factory=dict)  # its names of the types

    def __post_init__(self) -> None:
        if self.url is not None:  # shown as `read_from` metadata: never with its credentials
            object.__setattr__(self, "url", Redactor()(self.url))

    @property
    def column_kinds(self) -> Mapping[str, frozenset[Kind]]:
        return delivered_kinds(self.table) if self.kinds is None else self.kinds


def warehouse_columns(table: RawTable, data: pa.Table) -> tuple[pa.Table, dict[str, str]]:
    """The delivered columns under the names the warehouse keeps (`column_names`), and
    which delivered name became which column."""
    names = column_names(data.column_names, table.all_columns)
    return data.rename_columns([names[n] for n in data.column_names]), names


def source_client(
    settings: Settings,
    table: RawTable,
    tries: int | None = None,
    headers: dict[str, str] | None = None,
) -> SourceClient:
    assert table.endpoint is not None
    return SourceClient(
        source=table.endpoint.setting,
        title=table.title,
        http=settings.http,
        tries=tries,
        ca_bundle=settings.endpoint(table.endpoint.setting).ca_bundle,
        headers=headers,
    )


def source_url(settings: Settings, table: RawTable) -> str:
    assert table.endpoint is not None
    return settings.endpoint(table.endpoint.setting).url + table.endpoint.path


def sample_delivery(table: RawTable, settings: Settings, day: date) -> object:
    """What the source would deliver on `day` in sample mode: the loaders and the signals
    must see the same delivery, or a signal would move without the data."""
    return catalog.sample_data(table, scale=settings.sample_scale, day=day)


def _arcgis(table: RawTable, settings: Settings, day: date, now: datetime) -> Fetched:
    url = None
    if settings.sources is SourceMode.SAMPLE:
        layer = sample_delivery(table, settings, day)
        assert isinstance(layer, arcgis.LayerData)
    else:
        url = source_url(settings, table)
        client = source_client(settings, table)
        try:
            layer = arcgis.ArcgisLayer(client, url, settings.http.concurrency).read()
        finally:
            client.close()
    data, names = warehouse_columns(table, layer.table)
    field_types = {f["name"]: f.get("type") for f in layer.metadata.get("fields") or ()}
    return Fetched(
        data,
        layer.last_edit,
        url,
        system_fields=arcgis.system_fields(layer.metadata),
        kinds=delivered_kinds(data, typed=True),  # typed by the layer's field list
        source_types={names[n]: str(t) for n, t in field_types.items() if n in names and t},
    )


def _malibu(table: RawTable, settings: Settings, day: date, now: datetime) -> Fetched:
    import pyarrow as pa

    if settings.sources is SourceMode.SAMPLE:
        rows = sample_delivery(table, settings, day)
        assert isinstance(rows, list)
        return Fetched(warehouse_columns(table, malibu.rows_to_table(rows))[0])
    url = source_url(settings, table)
    client = source_client(settings, table, tries=settings.http.malibu_tries)
    try:
        data = malibu.fetch_endpoint(client, url)
    finally:
        client.close()
    if data.num_rows == 0:  # `[]` has no columns: the delivery check, not the contract, decides
        data = pa.table({name: pa.array([], pa.string()) for name in table.columns})
    return Fetched(warehouse_columns(table, data)[0], url=url)


def _airtable(table: RawTable, settings: Settings, day: date, now: datetime) -> Fetched:
    if settings.sources is SourceMode.SAMPLE:
        records = sample_delivery(table, settings, day)
        assert isinstance(records, list)
        return _airtable_fetched(records, now)
    endpoint = settings.endpoint("airtable").url
    config = settings.airtable
    assert config.token and config.base_id  # enforced by the settings
    records = airtable.fetch_records(
        endpoint=endpoint,
        token=config.token.value,
        base_id=config.base_id,
        table=config.table,
        http=settings.http,
    )
    url = f"{endpoint}/v0/{config.base_id}/{config.table}"
    return _airtable_fetched(records, now, url)


def _airtable_fetched(records: list[dict], now: datetime, url: str | None = None) -> Fetched:
    """Kinds from the JSON values (the table's types are the converters'), and which
    documented fields no record had: Airtable leaves empty fields out."""
    data = airtable.records_to_table(records, now, where=url or "sample data")
    kinds = airtable.value_kinds(records)
    return Fetched(
        data,
        url=url,
        kinds={**kinds, catalog.FIVETRAN_SYNCED: frozenset({Kind.TIMESTAMP})},
        omitted=tuple(c for c in catalog.AIRTABLE_METRICS.columns if not kinds.get(c)),
    )


def _sample_only(table: RawTable, settings: Settings, day: date, now: datetime) -> Fetched:
    """No public endpoint (page feedback): Fivetran lands it in dev/prd, sample data here."""
    import pyarrow as pa

    data = sample_delivery(table, settings, day)
    assert isinstance(data, pa.Table)
    return Fetched(data)


_READERS: dict[Family, Callable[[RawTable, Settings, date, datetime], Fetched]] = {
    Family.ARCGIS: _arcgis,
    Family.MALIBU: _malibu,
    Family.AIRTABLE: _airtable,
    Family.FEEDBACK: _sample_only,
}


def fetch(table: RawTable, settings: Settings, *, day: date, now: datetime) -> Fetched:
    """Read one raw table for the load of `day` (Pacific date) at `now` (UTC)."""
    return _READERS[table.family](table, settings, day, now)
