"""What the dbt assets decide, as plain functions; their Dagster definitions are in
`defs/transform/`. Also the dbt resource that runs them, and what the publish stage reads
of them (the summary's relation, its blocking checks)."""

from collections.abc import Mapping, Set
from datetime import date, datetime
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from ddrc_platform.core.names import SUMMARY_KEY, pacific_date
from ddrc_platform.integrations.dagster_dbt import DdrcDbtCliResource, dbt_manifest
from ddrc_platform.settings import Settings
from ddrc_platform.transform.children import guarded_command
from ddrc_platform.transform.manifests import dbt_vars
from ddrc_platform.transform.project import dbt_project

# what DuckDB says when another process holds its file
DUCKDB_LOCKED = "Could not set lock on file"


def warehouse_was_locked(dbt_error: str) -> bool:
    """Whether dbt failed only because another process held the DuckDB file (retry later)."""
    return DUCKDB_LOCKED in dbt_error


def counted_relation(manifest: Mapping[str, Any], unique_id: str | None) -> str | None:
    """The relation whose rows a built node's event reports: models and seeds only."""
    node = manifest["nodes"].get(unique_id) if unique_id else None
    if node and node["resource_type"] in ("model", "seed"):
        return node["relation_name"]
    return None


def load_dates(first: date, end: date) -> dict[str, str]:
    """The history's load dates [first, end), as the environment `metric_history.sql` reads.

    Environment, not `--vars`: dbt re-parses the whole project (about 6 s) when its vars
    differ from the last invocation's, and only the one file when an `env_var` it reads
    changes, so a day change or a backfill costs no parse.
    """
    return {"DDRC_HISTORY_MIN_DATE": first.isoformat(), "DDRC_HISTORY_MAX_DATE": end.isoformat()}


def folded_history_day(
    builds_parent: bool, run_selects_history: bool, run_partition: str | None, now: datetime
) -> date | None:
    """The day whose history a latest-state build computes in the same dbt invocation.

    A change reaches the history through its parent (the pipeline metrics): building both in
    one invocation saves a second dbt start (5-6 s, and a run) per change. Not when the run
    builds the history itself (a backfill, a hand-picked selection). The day is the run's
    partition (the reconcile, `./ddrc run`), else today in California.
    """
    if not builds_parent or run_selects_history:
        return None
    return date.fromisoformat(run_partition) if run_partition else pacific_date(now)


def attached_nodes(manifest: Mapping[str, Any], model: str) -> frozenset[str]:
    """A model's unique id and those of the tests attached to it."""
    model_id = next(
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["name"] == model
    )
    tests = (
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and node.get("attached_node") == model_id
    )
    return frozenset([model_id, *tests])


def fqn_selector(manifest: Mapping[str, Any], unique_id: str) -> str:
    """How dbt's `--select` names one node (it does not take unique ids)."""
    return "fqn:" + ".".join(manifest["nodes"][unique_id]["fqn"])


FAILED = ("error", "fail", "runtime error")  # a node's status in dbt's results


def failed_node(raw_event: Mapping[str, Any]) -> str | None:
    """The node a dbt log event reports failed (a node's events carry its status; its
    result event, `LogModelResult`, `LogTestResult`…, the final one).

    From the events, not `run_results.json`: dbt writes no JSON artifacts in the
    platform's builds (`--no-write-json`; each build wrote the manifest twice, ~0.3 s).
    """
    node = raw_event.get("data", {}).get("node_info") or {}
    return node.get("unique_id") if node.get("node_status") in FAILED else None


def failed_only_within(failed: Set[str], nodes: frozenset[str]) -> bool:
    """Whether a failed dbt build failed on `nodes` alone (the folded history, say)."""
    return bool(failed) and failed <= nodes


def on_partition(event: Any, partition: str) -> Any:
    """A materialization or check evaluation of a partitioned asset reported from a build
    of unpartitioned ones: the same event, for `partition`."""
    if isinstance(event, dg.AssetMaterialization):
        return dg.AssetMaterialization(
            asset_key=event.asset_key,
            description=event.description,
            metadata=event.metadata,
            partition=partition,
        )
    if isinstance(event, dg.AssetCheckEvaluation):
        return dg.AssetCheckEvaluation(
            asset_key=event.asset_key,
            check_name=event.check_name,
            passed=event.passed,
            metadata=event.metadata,
            target_materialization_data=event.target_materialization_data,
            severity=event.severity,
            description=event.description,
            blocking=event.blocking,
            partition=partition,
        )
    return event


def home_dbt_vars(settings: Settings) -> dict[str, str]:
    """The vars every dbt invocation of this deployment's home passes (which Snowflake)."""
    objects = settings.snowflake.objects if settings.snowflake else None
    return dbt_vars(settings.deployment.value, objects)


def build_dbt_resource(settings: Settings) -> DbtCliResource:
    """dbt started through `children.py`: it dies with its run, and starts warm."""
    executable, flags = guarded_command(settings.home, settings.dbt_warm)
    return DdrcDbtCliResource(
        project_dir=dbt_project(settings.deployment.value),
        target=settings.deployment.value,
        dbt_executable=executable,
        global_config_flags=flags,
    )


def model_relation(manifest: Mapping[str, Any], name: str) -> str:
    """A model's relation as dbt names it for the target the manifest was parsed for."""
    return next(
        n["relation_name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["name"] == name
    )


def summary_relation(dbt_assets_def: dg.AssetsDefinition) -> str:
    """The summary's relation, from the manifest the dbt assets were built from."""
    return model_relation(dbt_manifest(dbt_assets_def, SUMMARY_KEY), SUMMARY_KEY.path[-1])


def blocking_check_keys(
    dbt_assets_def: dg.AssetsDefinition, key: dg.AssetKey
) -> list[dg.AssetCheckKey]:
    """The dbt tests on `key` that hold publication back (error severity)."""
    return [
        spec.key for spec in dbt_assets_def.check_specs if spec.asset_key == key and spec.blocking
    ]
