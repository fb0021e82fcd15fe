"""The dbt project as Dagster assets: the latest state (summary included) and the history.

Functions only, no module-level definitions: `dbt.py` beside it contributes them to the
graph (through `build.py`, which builds them once for the transform and publish stages).
What the assets decide is in `ddrc_platform/transform/assets.py`.
"""

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtCliRuntimeError, DbtCliResource, dbt_assets

from ddrc_platform.core.names import DAILY_PARTITIONS, HISTORY_MODEL
from ddrc_platform.settings import Settings
from ddrc_platform.transform.assets import (
    counted_relation,
    home_dbt_vars,
    load_dates,
    warehouse_was_locked,
)
from ddrc_platform.transform.project import dbt_project, require_manifest, vars_args
from ddrc_platform.transform.translator import DdrcDbtTranslator
from ddrc_platform.warehouse.base import Warehouse, WarehouseBusyError


def with_row_counts(
    events: Iterable[Any], manifest: Mapping[str, Any], warehouse: Warehouse
) -> Iterator[Any]:
    """Add `dagster/row_count` to each built model, counted through our own warehouse.

    Not dagster-dbt's `fetch_row_counts()`: it opens the dbt adapter in this process, and
    dbt-duckdb keeps that DuckDB file open process-wide, locking out the next dbt run.
    """
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            unique_id = event.metadata.get("unique_id")
            relation = counted_relation(manifest, unique_id.value if unique_id else None)
            if relation:
                counted = warehouse.query(f"select count(*) as n from {relation}")
                metadata = {**event.metadata, "dagster/row_count": counted.column("n")[0].as_py()}
                event = event.with_metadata(metadata)
        yield event


def run_dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    analytics: Warehouse,
    variables: dict[str, str],
    target_path: Path,
    environment: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """`dbt build` of the selected models, their tests as checks, row counts after.

    dbt holds the DuckDB file while it runs: take the warehouse's run lock for it, count
    rows once it has finished, and report what did build even when a test failed.
    """
    events: list[Any] = []
    with analytics.exclusive():
        invocation = dbt.cli(
            ["build", *vars_args(variables)],
            context=context,
            target_path=target_path,
            environment=environment,
        )
        try:
            events.extend(invocation.stream())
            failure = None
        except DagsterDbtCliRuntimeError as error:
            failure = error
    yield from with_row_counts(events, invocation.manifest, analytics)
    if failure is not None and warehouse_was_locked(str(failure)):
        raise WarehouseBusyError(
            "another run (or a process outside Dagster) is using the warehouse: "
            f"dbt could not open it. {failure}"
        ) from failure
    if failure is not None:
        raise failure


def build_dbt_assets(
    settings: Settings, warehouse_kind: str
) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    """The models that hold the latest state (summary included), and the metric history.

    Two definitions because the history alone is partitioned by day: a run of it computes
    its partitions' load dates (`load_dates`, in dbt's environment), and a backfill of any
    range is one dbt run (`BackfillPolicy.single_run()`), as dagster-open-platform does it.

    Every build of a home passes the same vars (where the warehouse is), so dbt parses
    partially from the home's own parse (`transform.project.prepare_home`).
    """
    project = dbt_project(settings.deployment.value)
    manifest = require_manifest(project)
    variables = home_dbt_vars(settings)
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
        yield from run_dbt_build(context, dbt, analytics, variables, settings.dbt_target_path)

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
            context, dbt, analytics, variables, settings.dbt_target_path, environment=dates
        )

    return ddrc_dbt, ddrc_dbt_history
