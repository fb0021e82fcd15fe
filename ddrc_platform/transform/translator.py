"""How dbt nodes become Dagster assets: keys by layer, groups by domain, our owners and kinds,
when they run (on change), and how fresh they must be (as fresh as their sources)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from ddrc_platform.core import catalog
from ddrc_platform.core.automation import (
    built_once,
    code_changed,
    loads_settled,
    no_publication_in_flight,
)
from ddrc_platform.core.catalog import Keeping
from ddrc_platform.core.names import (
    HISTORY_MODEL,
    OWNERS,
    PUBLISH_KEY,
    SUMMARY_KEY,
    TRANSFORM_GROUP,
)


class DdrcDbtTranslator(DagsterDbtTranslator):
    """Keys by layer (`staging/…`, `marts/…`, `summary/ddrc_metrics_summary`), groups by domain.

    Sources keep the key their `meta.dagster.asset_key` names: the loader asset, so
    lineage runs unbroken from a source to a number on the public site.

    Every model and seed runs when something upstream changed (`eager`), so a changed
    source rebuilds only what lies below it, when its own SQL changed (a deployed rule
    change; the partitioned history then takes a backfill of the range to recompute), and
    when it was never built and its inputs exist: an empty deployment (a seed has nothing
    upstream to change) bootstraps by itself (`core/automation.py`); none of it while a
    source load is queued or running, so a burst of loads takes one downstream run.
    A model reads every kept snapshot, but depends on the latest (today's) partition of a
    snapshot source: a backfilled past day triggers nothing, and a source whose today's
    load failed holds back only its own models. Each model's freshness is the strictest
    of the sources it is built from (the catalog's `freshness`: no second table).
    """

    def __init__(self, warehouse_kind: str) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.warehouse_kind = warehouse_kind
        self._sources_cache: dict[str, frozenset[dg.AssetKey]] = {}
        # one condition for every model, built once rather than per node at each load
        self._settled = loads_settled(t.asset_key for t in catalog.RAW_TABLES)
        # the history is also folded into a publishing run's build: not while one reports it
        self._history = (
            dg.AutomationCondition.eager() & self._settled & no_publication_in_flight(PUBLISH_KEY)
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key: the loader
        name = dbt_resource_props["name"]
        if name == SUMMARY_KEY.path[-1]:
            return SUMMARY_KEY
        fqn = dbt_resource_props.get("fqn") or []
        layer = (
            fqn[1]
            if dbt_resource_props["resource_type"] == "model" and len(fqn) > 2
            else (dbt_resource_props["resource_type"] + "s")
        )
        return dg.AssetKey([layer, name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        domain = (dbt_resource_props.get("meta") or {}).get("domain") or (
            dbt_resource_props.get("config", {}).get("meta") or {}
        ).get("domain")
        return domain or TRANSFORM_GROUP

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        if dbt_resource_props["name"] == HISTORY_MODEL:  # a rule change: backfill by hand
            return self._history
        # a deployed rule change (the model's code version) rebuilds the latest state
        return (dg.AutomationCondition.eager() | built_once() | code_changed()) & self._settled

    def get_partition_mapping(
        self, dbt_resource_props: Mapping[str, Any], dbt_parent_resource_props: Mapping[str, Any]
    ) -> dg.PartitionMapping | None:
        if dbt_parent_resource_props["resource_type"] != "source":
            return None
        table = catalog.BY_KEY.get(super().get_asset_key(dbt_parent_resource_props))
        if table is None or table.keeping is not Keeping.SNAPSHOT:
            return None
        return dg.LastPartitionMapping()

    def source_tables(self, manifest: Mapping[str, Any], unique_id: str) -> frozenset[dg.AssetKey]:
        """The raw tables (their keys) a node is built from, through any number of models."""
        if unique_id in self._sources_cache:
            return self._sources_cache[unique_id]
        if unique_id in manifest["sources"]:
            key = super().get_asset_key(manifest["sources"][unique_id])
            found = frozenset([key] if key in catalog.BY_KEY else [])
        else:
            found = frozenset().union(
                *(
                    self.source_tables(manifest, p)
                    for p in manifest["parent_map"].get(unique_id, [])
                )
            )
        self._sources_cache[unique_id] = found
        return found

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        description = dbt_resource_props.get("description") or ""
        path = dbt_resource_props.get("original_file_path", "")
        return f"{description}\n\nDefined in `ddrc_dbt/{path}`.".strip()

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        # the manifest names the adapter it was parsed for; the deployment decides
        spec = super().get_asset_spec(manifest, unique_id, project)
        if unique_id in manifest["sources"]:
            return spec.replace_attributes(kinds={"dbt", self.warehouse_kind})
        return spec.replace_attributes(
            kinds={"dbt", self.warehouse_kind},
            freshness_policy=catalog.strictest_freshness(
                catalog.BY_KEY[key] for key in self.source_tables(manifest, unique_id)
            ),
        )
