"""How dbt nodes become Dagster assets: keys by layer, groups by domain, our owners and kinds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from ddrc_platform.core.names import OWNERS, SUMMARY_KEY, TRANSFORM_GROUP


class DdrcDbtTranslator(DagsterDbtTranslator):
    """Keys by layer (`staging/…`, `marts/…`, `summary/ddrc_metrics_summary`), groups by domain.

    Sources keep the key their `meta.dagster.asset_key` names: the loader asset, so
    lineage runs unbroken from a source to a number on the public site.
    """

    def __init__(self, warehouse_kind: str) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.warehouse_kind = warehouse_kind

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
        return spec.replace_attributes(kinds={"dbt", self.warehouse_kind})
