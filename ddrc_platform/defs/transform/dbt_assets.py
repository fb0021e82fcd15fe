"""The dbt project as Dagster assets: the latest state (summary included) and the history.

Functions only, no module-level definitions: `dbt.py` beside it contributes them to the
graph (through `build.py`, which builds them once for the transform and publish stages).
What the assets decide is in `ddrc_platform/transform/assets.py`.
"""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtCliRuntimeError, DbtCliInvocation, DbtCliResource, dbt_assets

from ddrc_platform.core.names import (
    HISTORY_KEY,
    HISTORY_MODEL,
    HISTORY_PARENT,
    PARTITION_TAG,
    utc_now,
)
from ddrc_platform.integrations.dagster_dbt import dbt_unique_id
from ddrc_platform.settings import Settings
from ddrc_platform.transform.assets import (
    attached_nodes,
    counted_relation,
    failed_node,
    failed_only_within,
    folded_history_day,
    fqn_selector,
    home_dbt_vars,
    load_dates,
    on_partition,
    warehouse_was_locked,
)
from ddrc_platform.transform.manifests import vars_args
from ddrc_platform.transform.project import dbt_project, require_manifest
from ddrc_platform.transform.translator import DdrcDbtTranslator
from ddrc_platform.warehouse.base import Warehouse, WarehouseBusyError


def with_row_counts(
    events: Iterable[Any], manifest: Mapping[str, Any], warehouse: Warehouse
) -> Iterator[Any]:
    """Add `dagster/row_count` to each built model, counted through our own warehouse.

    Not dagster-dbt's `fetch_row_counts()`: it opens the dbt adapter in this process, and
    dbt-duckdb keeps that DuckDB file open process-wide, locking out the next dbt run. One
    query for every relation: a connection per model cost more than the counts.
    """
    events = list(events)
    relations = [
        counted_relation(manifest, _unique_id(event))
        if isinstance(event, dg.Output | dg.AssetMaterialization)
        else None
        for event in events
    ]
    counts = row_counts(warehouse, sorted({r for r in relations if r}))
    for event, relation in zip(events, relations, strict=True):
        if relation in counts:
            event = event.with_metadata({**event.metadata, "dagster/row_count": counts[relation]})
        yield event


def _unique_id(event: dg.Output | dg.AssetMaterialization) -> str | None:
    unique_id = event.metadata.get("unique_id")
    return unique_id.value if unique_id else None


def row_counts(warehouse: Warehouse, relations: list[str]) -> dict[str, int]:
    if not relations:
        return {}
    sql = " union all ".join(
        f"select {i} as i, count(*) as n from {relation}" for i, relation in enumerate(relations)
    )
    counted = warehouse.query(sql)  # by position: Snowflake reports names upper case
    return {
        relations[i]: n
        for i, n in zip(counted.column(0).to_pylist(), counted.column(1).to_pylist(), strict=True)
    }


# A test runs only when every model it reads is built by this invocation or upstream of it:
# dbt's default ("eager") also runs a seed's tests that read models not built yet (on an
# empty deployment, the summary's), which fail on the absent relation. dagster-dbt still sets
# its own value when a run selects only some of an asset's checks.
BUILDABLE_TESTS = {"DBT_INDIRECT_SELECTION": "buildable"}


@dataclass(frozen=True)
class Fold:
    """Nodes built beside the selection, reported for another (partitioned) asset."""

    nodes: frozenset[str]  # dbt unique ids: a model and its tests
    day: date
    manifest: Mapping[str, Any]
    translator: DdrcDbtTranslator

    @property
    def partition(self) -> str:
        return self.day.isoformat()

    @property
    def environment(self) -> dict[str, str]:
        return load_dates(self.day, self.day + timedelta(days=1))


def history_fold(
    context: dg.AssetExecutionContext,
    manifest: Mapping[str, Any],
    translator: DdrcDbtTranslator,
    now: datetime,
) -> Fold | None:
    """What a latest-state build also builds of the history, from the run it is part of."""
    day = folded_history_day(
        builds_parent=HISTORY_PARENT in context.selected_asset_keys,
        run_selects_history=HISTORY_KEY in (context.run.asset_selection or ()),
        run_partition=context.run.tags.get(PARTITION_TAG),
        now=now,
    )
    if day is None:
        return None
    return Fold(attached_nodes(manifest, HISTORY_MODEL), day, manifest, translator)


def stream_events(
    invocation: DbtCliInvocation,
    context: dg.AssetExecutionContext,
    fold: Fold | None,
    failed: set[str],
) -> Iterator[Any]:
    """dagster-dbt's events; a folded node's as its own asset's, on its partition. The
    nodes that failed are added to `failed`.

    Built without the op's context, dagster-dbt reports a node outside the op's outputs as
    an AssetMaterialization and its tests as AssetCheckEvaluations (with the context, as
    observations and a warning each), which then take the partition.
    """
    for raw in invocation.stream_raw_events():
        if failure := failed_node(raw.raw_event):
            failed.add(failure)
        node = (raw.raw_event["data"].get("node_info") or {}).get("unique_id")
        folded = fold is not None and node in fold.nodes
        for event in raw.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=None if folded else context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            yield on_partition(event, fold.partition) if folded and fold else event


def run_dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    analytics: Warehouse,
    variables: dict[str, str],
    target_path: Path,
    environment: Mapping[str, str] | None = None,
    fold: Fold | None = None,
) -> Iterator[Any]:
    """`dbt build` of the selected models (and any folded ones), their tests as checks,
    row counts after.

    dbt holds the DuckDB file while it runs: take the warehouse's run lock for it, count
    rows once it has finished, and report what did build even when a test failed. A
    failure of the folded nodes alone fails neither the step nor what it published: their
    own asset shows it, and its automation asks for the partition again.
    """
    events: list[Any] = []
    failed: set[str] = set()
    selection, selected_by = _selection(context, fold)
    with analytics.exclusive():
        invocation = dbt.cli(
            # no JSON artifacts: dagster-dbt reads dbt's events, and each build otherwise
            # wrote the whole manifest twice (~0.3 s of a one-source change)
            ["build", "--no-write-json", *vars_args(variables), *selection],
            **selected_by,
            target_path=target_path,
            environment={**(environment or {}), **BUILDABLE_TESTS},
        )
        try:
            events.extend(stream_events(invocation, context, fold, failed))
            failure = None
        except DagsterDbtCliRuntimeError as error:
            failure = error
    yield from with_row_counts(events, invocation.manifest, analytics)
    if failure is not None and warehouse_was_locked(str(failure)):
        raise WarehouseBusyError(
            "another run (or a process outside Dagster) is using the warehouse: "
            f"dbt could not open it. {failure}"
        ) from failure
    if failure is not None and fold and failed_only_within(failed, fold.nodes):
        context.log.warning(f"the history's partition {fold.partition} failed: {failure}")
    elif failure is not None:
        raise failure


def _selection(
    context: dg.AssetExecutionContext, fold: Fold | None
) -> tuple[list[str], dict[str, Any]]:
    """The `--select` and how dagster-dbt learns the nodes: from the context, or from us.

    Ours when nodes are folded in: dagster-dbt puts its own selection last on the command
    line, and dbt keeps only the last `--select`.
    """
    if fold is None:
        return [], {"context": context}
    selected = [dbt_unique_id(context.assets_def, key) for key in context.selected_asset_keys]
    nodes = " ".join(sorted(fqn_selector(fold.manifest, uid) for uid in {*selected, *fold.nodes}))
    by_us = {"manifest": fold.manifest, "dagster_dbt_translator": fold.translator}
    return ["--select", nodes], by_us


def build_dbt_assets(
    settings: Settings,
    warehouse_kind: str,
    partitions: dg.PartitionsDefinition,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    """The models that hold the latest state (summary included), and the metric history.

    Two definitions because the history alone is partitioned by day: a run of it computes
    its partitions' load dates (`load_dates`, in dbt's environment), and a backfill of any
    range is one dbt run (`BackfillPolicy.single_run()`), as dagster-open-platform does it.
    A change pays no second dbt start for it: a latest-state build of the history's parent
    builds the day's history too (`history_fold`). Every build of a home passes the same
    vars, so dbt parses partially from the home's parse (`project.prepare_home`).
    """
    project = dbt_project(settings.deployment.value)
    manifest = require_manifest(project)
    variables = home_dbt_vars(settings)
    translator = DdrcDbtTranslator(warehouse_kind)
    parsed = json.loads(manifest.read_text())

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
        fold = history_fold(context, parsed, translator, clock())
        environment = fold.environment if fold else None
        yield from run_dbt_build(
            context, dbt, analytics, variables, settings.dbt_target_path, environment, fold
        )

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        name="ddrc_dbt_history",
        select=HISTORY_MODEL,
        partitions_def=partitions,
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
