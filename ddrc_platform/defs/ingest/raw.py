"""The raw layer: a loader asset per table our loaders land (Fivetran's are in `fivetran.py`).

The asset body only translates: the partition key in, check results, metadata and
failures out. What a load decides is `ingest/load.py`.
"""

# No `from __future__ import annotations` here: Dagster reads the asset function's
# annotations at definition time (context type, resource parameter).
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.core import catalog
from ddrc_platform.core.automation import built_once
from ddrc_platform.core.catalog import Keeping, RawTable
from ddrc_platform.core.names import (
    INGESTION_GROUP,
    OWNERS,
    SCHEMA_CONTRACT_CHECK,
    pacific_date,
    utc_now,
)
from ddrc_platform.ingest.contract import ContractReport, enforce
from ddrc_platform.ingest.load import (
    Delivery,
    Kept,
    PastDayRefusedError,
    describe,
    keep,
    load_day,
    loaded_here,
    receive,
    source_kind,
)
from ddrc_platform.ingest.signals import watched_tables
from ddrc_platform.partitions import deployment_partitions
from ddrc_platform.settings import Settings
from ddrc_platform.warehouse.base import Warehouse

if TYPE_CHECKING:
    import pyarrow as pa


def column_schema(table: "pa.Table") -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name=f.name, type=str(f.type)) for f in table.schema]
    )


def _contract_check(report: ContractReport) -> dg.AssetCheckResult:
    """Missing or retyped columns fail the check at ERROR (and the load); new ones warn."""
    if report.refused:
        return dg.AssetCheckResult(
            check_name=SCHEMA_CONTRACT_CHECK,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=report.summary,
            metadata={
                "missing_columns": ", ".join(report.missing) or "none",
                "changed_types": "; ".join(map(str, report.changed)) or "none",
            },
        )
    return dg.AssetCheckResult(
        check_name=SCHEMA_CONTRACT_CHECK,
        passed=not report.undocumented,
        severity=dg.AssetCheckSeverity.WARN,
        description=report.summary,
        metadata={"undocumented_columns": ", ".join(report.undocumented) or "none"},
    )


def _metadata(
    table: RawTable, settings: Settings, delivery: Delivery, kept: Kept, seconds: float, day: str
) -> "dict[str, dg.RawMetadataValue]":  # not exported at run time
    rows = kept.result.rows
    metadata: dict[str, dg.RawMetadataValue] = {
        "dagster/row_count": rows,
        "dagster/column_schema": column_schema(kept.data),
        "load_seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds else rows,
        "replaced_rows": kept.result.replaced_rows,
        "unchanged": kept.result.unchanged,
        "source_mode": settings.sources.value,
    }
    if table.keeping is Keeping.SNAPSHOT:
        metadata["load_date"] = day
    fetched = delivery.fetched
    if fetched.last_edit is not None:
        metadata["source_last_edit"] = dg.MetadataValue.timestamp(fetched.last_edit)
    if fetched.url:
        metadata["read_from"] = dg.MetadataValue.url(fetched.url)
    if delivery.report.undocumented:
        metadata["undocumented_columns"] = ", ".join(delivery.report.undocumented)
    return metadata


def _partitions_def(
    table: RawTable,
    settings: Settings,
    clock: Callable[[], datetime],
    shared: dg.PartitionsDefinition | None,
) -> dg.PartitionsDefinition | None:
    """A snapshot table's: the build's daily partitions (`shared`), else the deployment's."""
    if table.keeping is not Keeping.SNAPSHOT:
        return None
    return shared or deployment_partitions(settings, pacific_date(clock()))


def build_raw_asset(
    table: RawTable,
    settings: Settings,
    warehouse_kind: str,
    clock: Callable[[], datetime] = utc_now,
    partitions: dg.PartitionsDefinition | None = None,
) -> dg.AssetsDefinition:
    """A loader asset: fetch, enforce the schema contract, write atomically, report.
    Without a change signal (page feedback locally) the automation loads it when missing."""

    @dg.asset(
        key=table.asset_key,
        group_name=INGESTION_GROUP,
        kinds={source_kind(table, settings.sources), warehouse_kind},
        owners=OWNERS,
        description=describe(table, settings.sources),
        metadata={
            "source_url": dg.MetadataValue.url(table.source_url),
            "dagster/table_name": table.path,
            "keeping": table.keeping.value,
            "documented_columns": ", ".join(table.all_columns),
        },
        tags={"ddrc/source": table.name, "ddrc/layer": "raw"},
        freshness_policy=table.freshness,
        automation_condition=None if table in watched_tables(settings) else built_once(),
        partitions_def=_partitions_def(table, settings, clock, partitions),
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
        partition = context.partition_key if context.has_partition_key else None
        try:
            day = load_day(table, partition, settings.sources, now)
        except PastDayRefusedError as refused:
            raise dg.Failure(str(refused)) from None
        delivery = receive(table, settings, warehouse, day, now)
        if delivery.report.refused:
            yield _contract_check(delivery.report)
            enforce(delivery.report)
        if delivery.report.undocumented:
            context.log.warning(delivery.report.summary)
        kept = keep(table, warehouse, delivery.fetched, day, now)
        seconds = time.perf_counter() - started
        yield dg.MaterializeResult(
            metadata=_metadata(table, settings, delivery, kept, seconds, day.isoformat())
        )
        yield _contract_check(delivery.report)

    return load_raw_table


def build_raw_assets(
    settings: Settings,
    warehouse_kind: str,
    tables: tuple[RawTable, ...] = catalog.RAW_TABLES,
    clock: Callable[[], datetime] = utc_now,
    partitions: dg.PartitionsDefinition | None = None,
) -> list[dg.AssetsDefinition]:
    return [build_raw_asset(t, settings, warehouse_kind, clock, partitions) for t in tables]


@dg.definitions
def raw() -> dg.Definitions:
    build = current()
    kind = build.resources["warehouse"].kind
    tables = loaded_here(build.settings)
    return dg.Definitions(
        assets=build_raw_assets(build.settings, kind, tables, build.clock, build.partitions)
    )
