"""The one Definitions of the DDRC platform: assembles what the modules export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import dagster as dg

from ddrc_platform import catalog
from ddrc_platform.alerting import GraphFacts, build_incident_sensor
from ddrc_platform.automation import build_automation
from ddrc_platform.deployment import Deployment, Settings, load_settings
from ddrc_platform.fivetran import (
    FIVETRAN_RESOURCE_KEY,
    build_fivetran_assets,
    build_fivetran_workspace,
)
from ddrc_platform.publish import build_jump_check, build_publish_asset
from ddrc_platform.raw_assets import build_raw_assets, utc_now
from ddrc_platform.resources import build_resources
from ddrc_platform.transform import (
    SUMMARY_KEY,
    blocking_check_keys,
    build_dbt_assets,
    summary_relation,
)


def build_definitions(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> dg.Definitions:
    """The graph for one deployment; `clock` lets tests and backfills fix "now"."""
    resources = build_resources(settings)
    warehouse_kind = resources["warehouse"].kind
    if settings.deployment is Deployment.LOCAL:
        # no Fivetran here: the Airtable and feedback tables are loaded in Fivetran's shape
        loaded, synced = catalog.RAW_TABLES, []
    else:
        workspace = build_fivetran_workspace(settings.env)
        resources[FIVETRAN_RESOURCE_KEY] = workspace
        loaded = catalog.ARCGIS_TABLES + catalog.MALIBU_TABLES
        synced = build_fivetran_assets(workspace)
    dbt_assets = build_dbt_assets(settings, warehouse_kind)
    summary = summary_relation(dbt_assets)
    jump_check = build_jump_check(settings, summary)
    blocking = [*blocking_check_keys(dbt_assets, SUMMARY_KEY), *jump_check.check_keys]
    assets = [
        *build_raw_assets(settings, warehouse_kind, tables=loaded, clock=clock),
        *synced,
        dbt_assets,
        build_publish_asset(summary, resources["publisher"].kind, clock, blocking),
    ]
    facts = GraphFacts.of(
        assets,
        dbt_step=dbt_assets.node_def.name,
        blocking_checks=blocking,
        fivetran_keys=[key for a in synced for key in a.keys],
    )
    policies = {s.key: s.freshness_policy for a in assets for s in a.specs if s.freshness_policy}
    return dg.Definitions(
        assets=assets,
        asset_checks=[jump_check],
        resources=resources,
        sensors=[build_incident_sensor(settings, facts, policies)],
        **build_automation(settings),
        # DuckDB allows one writer process: run the steps of a local run in one process
        executor=dg.in_process_executor if settings.deployment is Deployment.LOCAL else None,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
