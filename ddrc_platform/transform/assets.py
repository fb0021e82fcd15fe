"""The dbt project as Dagster assets, and the dbt resource that runs it."""

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtCliRuntimeError, DbtCliResource, dbt_assets

from ddrc_platform.core.names import (
    DAILY_PARTITIONS,
    HISTORY_MODEL,
    SUMMARY_KEY,
    pacific_date,
    utc_now,
)
from ddrc_platform.integrations.dagster_dbt import DdrcDbtCliResource
from ddrc_platform.settings import Settings
from ddrc_platform.transform.project import dbt_project, dbt_vars, prepare_manifest, vars_args
from ddrc_platform.transform.translator import DdrcDbtTranslator
from ddrc_platform.warehouse.base import Warehouse, WarehouseBusyError

# what DuckDB says when another process holds its file
DUCKDB_LOCKED = "Could not set lock on file"


def with_row_counts(
    events: Iterable[Any], manifest: Mapping[str, Any], warehouse: Warehouse
) -> Iterator[Any]:
    """Add `dagster/row_count` to each built model, counted through our own warehouse.

    Not dagster-dbt's `fetch_row_counts()`: it opens the dbt adapter in this process, and
    dbt-duckdb keeps that DuckDB file open process-wide, locking out the next dbt run.
    """
    nodes = manifest["nodes"]
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            unique_id = event.metadata.get("unique_id")
            node = nodes.get(unique_id.value) if unique_id else None
            if node and node["resource_type"] in ("model", "seed"):
                counted = warehouse.query(f"select count(*) as n from {node['relation_name']}")
                metadata = {**event.metadata, "dagster/row_count": counted.column("n")[0].as_py()}
                event = event.with_metadata(metadata)
        yield event


def run_dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    analytics: Warehouse,
    variables: dict[str, str],
    target_path: Path,
) -> Iterator[Any]:
    """`dbt build` of the selected models, their tests as checks, row counts after.

    dbt holds the DuckDB file while it runs: take the warehouse's run lock for it, count
    rows once it has finished, and report what did build even when a test failed.
    """
    events: list[Any] = []
    with analytics.exclusive():
        invocation = dbt.cli(
            ["build", *vars_args(variables)], context=context, target_path=target_path
        )
        try:
            events.extend(invocation.stream())
            failure = None
        except DagsterDbtCliRuntimeError as error:
            failure = error
    yield from with_row_counts(events, invocation.manifest, analytics)
    if failure is not None and DUCKDB_LOCKED in str(failure):
        raise WarehouseBusyError(
            "another run (or a process outside Dagster) is using the warehouse: "
            f"dbt could not open it. {failure}"
        ) from failure
    if failure is not None:
        raise failure


def load_dates(first: date, end: date) -> dict[str, str]:
    """The history's vars for load dates [first, end)."""
    return {"min_date": first.isoformat(), "max_date": end.isoformat()}


def build_dbt_assets(
    settings: Settings, warehouse_kind: str, clock: Callable[[], datetime] = utc_now
) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    """The models that hold the latest state (summary included), and the metric history.

    Two definitions because the history alone is partitioned by day: a run of it computes
    its partitions' load dates (vars `min_date`, `max_date`), and a backfill of any range
    is one dbt run (`BackfillPolicy.single_run()`), as dagster-open-platform does it.

    The latest state passes today's dates too, though no model of it reads them: dbt
    re-parses the whole project (about 6 s) whenever the vars differ from its last
    invocation's, so both builds of a day's runs share one set and parse partially.
    """
    project = dbt_project(settings.deployment.value)
    manifest = prepare_manifest(project)
    objects = settings.snowflake.objects if settings.snowflake else None
    variables = dbt_vars(settings.deployment.value, settings.home, objects)
    translator = DdrcDbtTranslator(warehouse_kind)

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        name="ddrc_dbt",
        exclude=HISTORY_MODEL,
    )
    def ddrc_dbt(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        analytics: dg.ResourceParam[Warehouse],
    ) -> Iterator[Any]:
        today = pacific_date(clock())
        dates = load_dates(today, today + timedelta(days=1))
        yield from run_dbt_build(
            context, dbt, analytics, {**variables, **dates}, settings.dbt_target_path
        )

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        name="ddrc_dbt_history",
        select=HISTORY_MODEL,
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def ddrc_dbt_history(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        analytics: dg.ResourceParam[Warehouse],
    ) -> Iterator[Any]:
        window = context.partition_time_window
        dates = load_dates(window.start.date(), window.end.date())
        yield from run_dbt_build(
            context, dbt, analytics, {**variables, **dates}, settings.dbt_target_path
        )

    return ddrc_dbt, ddrc_dbt_history


def build_dbt_resource(settings: Settings) -> DbtCliResource:
    return DdrcDbtCliResource(
        project_dir=dbt_project(settings.deployment.value),
        target=settings.deployment.value,
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )


def model_relation(manifest: Mapping[str, Any], name: str) -> str:
    """A model's relation as dbt names it for the target the manifest was parsed for."""
    return next(
        n["relation_name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["name"] == name
    )


def summary_relation(dbt_assets_def: dg.AssetsDefinition) -> str:
    manifest = dbt_assets_def.metadata_by_key[SUMMARY_KEY]["dagster_dbt/manifest"].manifest
    return model_relation(manifest, SUMMARY_KEY.path[-1])


def blocking_check_keys(
    dbt_assets_def: dg.AssetsDefinition, key: dg.AssetKey
) -> list[dg.AssetCheckKey]:
    """The dbt tests on `key` that hold publication back (error severity)."""
    return [
        spec.key for spec in dbt_assets_def.check_specs if spec.asset_key == key and spec.blocking
    ]


def build_transform_defs(
    settings: Settings, warehouse_kind: str, clock: Callable[[], datetime] = utc_now
) -> tuple[dg.Definitions, dg.AssetsDefinition]:
    """The dbt stage, and the assets definition of the summary (the publisher reads it)."""
    latest, history = build_dbt_assets(settings, warehouse_kind, clock)
    return dg.Definitions(assets=[latest, history]), latest
