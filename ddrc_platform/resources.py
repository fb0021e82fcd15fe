"""The resources of a deployment, built from its settings."""

from __future__ import annotations

from typing import Any

from ddrc_platform.blob_publisher import AzureBlobPublisher
from ddrc_platform.deployment import Deployment, Settings
from ddrc_platform.publishers import LocalPublisher, Publisher
from ddrc_platform.slack import build_slack
from ddrc_platform.snowflake_warehouse import snowflake_warehouse_from_env
from ddrc_platform.transform import build_dbt_resource
from ddrc_platform.warehouse import DuckDBWarehouse, Warehouse


def build_warehouse(settings: Settings) -> Warehouse:
    """Where the loaders write raw snapshots (Snowflake: the LOADER role, RAW database)."""
    if settings.deployment is Deployment.LOCAL:
        return DuckDBWarehouse(path=str(settings.warehouse_path))
    return snowflake_warehouse_from_env(settings.env, settings.deployment)


def build_analytics(settings: Settings) -> Warehouse:
    """Where the models are read from (Snowflake: the TRANSFORMER role, which dbt runs as)."""
    if settings.deployment is Deployment.LOCAL:
        return DuckDBWarehouse(path=str(settings.warehouse_path))
    return snowflake_warehouse_from_env(settings.env, settings.deployment, layer="transformer")


def build_publisher(settings: Settings) -> Publisher:
    if settings.deployment is Deployment.LOCAL:
        return LocalPublisher(directory=str(settings.publish_dir))
    return AzureBlobPublisher.from_env(settings.env)


def build_resources(settings: Settings) -> dict[str, Any]:
    return {
        "warehouse": build_warehouse(settings),
        "analytics": build_analytics(settings),
        "publisher": build_publisher(settings),
        "dbt": build_dbt_resource(settings),
        "slack": build_slack(settings),
    }
