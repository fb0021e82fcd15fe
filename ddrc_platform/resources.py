"""The resources of each deployment, on one screen.

The dev/prd modules (Snowflake, Azure) are imported only when that deployment is chosen,
so the local deployment loads none of their SDKs.
"""

from __future__ import annotations

from typing import Any

from ddrc_platform.defs.incidents.slack_resource import build_slack
from ddrc_platform.publish.targets.base import Publisher
from ddrc_platform.publish.targets.local import LocalPublisher
from ddrc_platform.settings import Settings
from ddrc_platform.transform.assets import build_dbt_resource
from ddrc_platform.warehouse.base import Warehouse
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse


def build_warehouse(settings: Settings, layer: str = "loader") -> Warehouse:
    """Loader: where raw snapshots are written (Snowflake: LOADER role, RAW database).
    Transformer: where the models are read (Snowflake: the TRANSFORMER role dbt runs as)."""
    if settings.snowflake is None:
        return DuckDBWarehouse(
            path=str(settings.warehouse_path), lock_wait_seconds=settings.warehouse_lock_wait
        )
    from ddrc_platform.warehouse.snowflake import snowflake_warehouse

    return snowflake_warehouse(settings.snowflake, layer)


def build_publisher(settings: Settings) -> Publisher:
    if settings.azure is None:
        return LocalPublisher(directory=str(settings.publish_dir))
    from ddrc_platform.publish.targets.azure_blob import AzureBlobPublisher

    return AzureBlobPublisher.from_settings(settings.azure)


def build_resources(settings: Settings) -> dict[str, Any]:
    return {
        "warehouse": build_warehouse(settings),
        "analytics": build_warehouse(settings, layer="transformer"),
        "publisher": build_publisher(settings),
        "dbt": build_dbt_resource(settings),
        "slack": build_slack(settings.slack),
    }
