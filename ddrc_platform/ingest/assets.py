"""The raw layer as Dagster assets: one asset per raw table, same key in every deployment."""

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import dagster as dg
import pyarrow as pa

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Keeping, RawTable
from ddrc_platform.core.names import (
    DAILY_PARTITIONS,
    INGESTION_GROUP,
    OWNERS,
    SCHEMA_CONTRACT_CHECK,
    pacific_date,
    utc_now,
)
from ddrc_platform.ingest.contract import check_columns, enforce
from ddrc_platform.ingest.delivery import decide_delivery, load_delivery_acknowledgements
from ddrc_platform.ingest.fetch import Fetched, fetch
from ddrc_platform.ingest.signals import build_watch_defs
from ddrc_platform.settings import Settings, SourceMode
from ddrc_platform.warehouse.base import Warehouse, table_hash


def column_schema(table: pa.Table) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name=f.name, type=str(f.type)) for f in table.schema]
    )


def with_snapshot_columns(
    table: RawTable, fetched: Fetched, load_date: date, loaded_at: datetime
) -> pa.Table:
    """Stamp every row with the day it belongs to (Pacific) and when it was loaded (UTC)."""
    data = fetched.table
    n = data.num_rows
    naive_utc = loaded_at.astimezone(UTC).replace(tzinfo=None)
    if catalog.LAST_EDIT_DATE in table.system_columns:
        edit = fetched.last_edit
        last_edit = edit.astimezone(UTC).replace(tzinfo=None) if edit else None
        data = data.append_column(
            catalog.LAST_EDIT_DATE, pa.array([last_edit] * n, pa.timestamp("us"))
        )
    data = data.append_column(catalog.LOAD_DATE, pa.array([load_date] * n, pa.date32()))
    return data.append_column(catalog.LOADED_AT, pa.array([naive_utc] * n, pa.timestamp("us")))


def load_date_of(
    context: dg.AssetExecutionContext, table: RawTable, settings: Settings, now: datetime
) -> date:
    """The day this load is the snapshot of: the run's partition, else today (Pacific).

    A live source serves only its present state, so a past day cannot be fetched: that
    fails before any request, saying so. Sample data can be generated for any day.
    """
    today = pacific_date(now)
    if not context.has_partition_key:
        return today
    day = date.fromisoformat(context.partition_key)
    if day != today and settings.sources is SourceMode.LIVE:
        raise dg.Failure(
            f"{table.asset_key.to_user_string()}: cannot load the past day {day} from the live "
            f"source ({table.source_url}): it serves only its present state, today's "
            f"partition is {today}. Snapshots are kept per day as they are loaded; past days "
            "can be generated only in sample mode (DDRC_SOURCES=sample)."
        )
    return day


def _description(table: RawTable, settings: Settings) -> str:
    keeping = (
        "Dated snapshots: one per Pacific day (`_LOAD_DATE`, the partition key), earlier "
        "days kept; a same-day reload replaces that day's rows in one transaction. Loaded "
        "when its change signal (sensor `watch_...`) sees a change; a past day can be "
        "backfilled in sample mode only (a live source serves only today)."
        if table.keeping is Keeping.SNAPSHOT
        else "Current state keyed by record id, in the table shape Fivetran lands it."
    )
    origin = (
        "built-in sample data"
        if settings.sources is SourceMode.SAMPLE or table.endpoint is None
        else f"[the live source]({table.source_url})"
    )
    return (
        f"**{table.title}**, read from {origin}.\n\n{keeping}\n\n"
        f"Warehouse table `{table.path}`. Documented columns: {', '.join(table.columns)}."
    )


def build_raw_asset(
    table: RawTable,
    settings: Settings,
    warehouse_kind: str,
    clock: Callable[[], datetime] = utc_now,
) -> dg.AssetsDefinition:
    """A loader asset: fetch, enforce the schema contract, write atomically, report."""
    source_kind = "python" if settings.sources is SourceMode.SAMPLE else table.kind
    snapshot = table.keeping is Keeping.SNAPSHOT

    @dg.asset(
        key=table.asset_key,
        group_name=INGESTION_GROUP,
        kinds={source_kind, warehouse_kind},
        owners=OWNERS,
        description=_description(table, settings),
        metadata={
            "source_url": dg.MetadataValue.url(table.source_url),
            "dagster/table_name": table.path,
            "keeping": table.keeping.value,
            "documented_columns": ", ".join(table.all_columns),
        },
        tags={"ddrc/source": table.name, "ddrc/layer": "raw"},
        freshness_policy=table.freshness,
        partitions_def=DAILY_PARTITIONS if snapshot else None,
        check_specs=[
            dg.AssetCheckSpec(
                SCHEMA_CONTRACT_CHECK,
                asset=table.asset_key,
                description="Delivered columns match the documented ones (docs/sources.md); "
                "missing columns fail the load, new ones warn.",
            )
        ],
    )
    def load_raw_table(
        context: dg.AssetExecutionContext, warehouse: dg.ResourceParam[Warehouse]
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        started = time.perf_counter()
        now = clock()
        load_date = load_date_of(context, table, settings, now)
        fetched = fetch(table, settings, day=load_date, now=now)
        acknowledged = load_delivery_acknowledgements(settings.acknowledgements_path)
        decide_delivery(
            table, fetched.table.num_rows, warehouse.last_kept_rows(table), acknowledged
        )
        report = check_columns(table, fetched.table.column_names, fetched.system_fields)
        if report.missing:
            yield dg.AssetCheckResult(
                check_name=SCHEMA_CONTRACT_CHECK,
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=report.summary,
                metadata={"missing_columns": ", ".join(report.missing)},
            )
            enforce(report)
        if report.undocumented:
            context.log.warning(report.summary)

        if snapshot:
            data = with_snapshot_columns(table, fetched, load_date, now)
            digest = (
                f"{table_hash(fetched.table)}@{fetched.last_edit}"  # the edit time is published
            )
            result = warehouse.write_snapshot(table, data, load_date, digest)
        else:
            data = fetched.table
            result = warehouse.write_current_state(table, data)
        seconds = time.perf_counter() - started

        metadata: dict[str, dg.RawMetadataValue] = {
            "dagster/row_count": result.rows,
            "dagster/column_schema": column_schema(data),
            "load_seconds": round(seconds, 3),
            "rows_per_second": round(result.rows / seconds) if seconds else result.rows,
            "replaced_rows": result.replaced_rows,
            "unchanged": result.unchanged,
            "source_mode": settings.sources.value,
        }
        if snapshot:
            metadata["load_date"] = load_date.isoformat()
        if fetched.last_edit is not None:
            metadata["source_last_edit"] = dg.MetadataValue.timestamp(fetched.last_edit)
        if fetched.url:
            metadata["read_from"] = dg.MetadataValue.url(fetched.url)
        if report.undocumented:
            metadata["undocumented_columns"] = ", ".join(report.undocumented)
        yield dg.MaterializeResult(metadata=metadata)
        yield dg.AssetCheckResult(
            check_name=SCHEMA_CONTRACT_CHECK,
            passed=not report.undocumented,
            severity=dg.AssetCheckSeverity.WARN,
            description=report.summary,
            metadata={"undocumented_columns": ", ".join(report.undocumented) or "none"},
        )

    return load_raw_table


def build_raw_assets(
    settings: Settings,
    warehouse_kind: str,
    tables: tuple[RawTable, ...] = catalog.RAW_TABLES,
    clock: Callable[[], datetime] = utc_now,
) -> list[dg.AssetsDefinition]:
    return [build_raw_asset(t, settings, warehouse_kind, clock) for t in tables]


def build_ingest_defs(
    settings: Settings, warehouse_kind: str, clock: Callable[[], datetime] = utc_now
) -> dg.Definitions:
    """The raw layer: our loaders for every table, or (dev/prd) Fivetran for its tables;
    each with what tells the graph it changed (`signals.py`, Fivetran's polling sensor).

    The Fivetran module is imported only in dev/prd: the local deployment never pays for
    dagster-fivetran.
    """
    watch = build_watch_defs(settings, clock)
    if settings.fivetran is None:  # local: Airtable and feedback loaded in Fivetran's shape
        return dg.Definitions(
            assets=build_raw_assets(settings, warehouse_kind, clock=clock), sensors=watch
        )
    from ddrc_platform.ingest.fivetran import (
        FIVETRAN_RESOURCE_KEY,
        build_fivetran_assets,
        build_fivetran_sensor,
        build_fivetran_workspace,
    )

    ours = tuple(t for t in catalog.RAW_TABLES if not t.synced_by_fivetran)
    workspace = build_fivetran_workspace(settings.fivetran)
    return dg.Definitions(
        assets=[
            *build_raw_assets(settings, warehouse_kind, tables=ours, clock=clock),
            *build_fivetran_assets(workspace),
        ],
        sensors=[*watch, build_fivetran_sensor(workspace, settings.watch.watch_seconds)],
        resources={FIVETRAN_RESOURCE_KEY: workspace},
    )
