"""The resources of a deployment, built from its settings."""

from __future__ import annotations

from typing import Any

from ddrc_platform.deployment import Deployment, Settings
from ddrc_platform.publishers import LocalPublisher, Publisher
from ddrc_platform.transform import build_dbt_resource
from ddrc_platform.warehouse import DuckDBWarehouse, Warehouse


def build_warehouse(settings: Settings) -> Warehouse:
    if settings.deployment is Deployment.LOCAL:
        return DuckDBWarehouse(path=str(settings.warehouse_path))
    raise NotImplementedError(f"deployment {settings.deployment.value} is not wired yet")


def build_publisher(settings: Settings) -> Publisher:
    if settings.deployment is Deployment.LOCAL:
        return LocalPublisher(directory=str(settings.publish_dir))
    raise NotImplementedError(f"deployment {settings.deployment.value} is not wired yet")


def build_resources(settings: Settings) -> dict[str, Any]:
    return {
        "warehouse": build_warehouse(settings),
        "publisher": build_publisher(settings),
        "dbt": build_dbt_resource(settings),
    }
