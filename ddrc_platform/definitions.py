"""The one Definitions of the DDRC platform: wiring only, each stage builds its own part."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import dagster as dg

from ddrc_platform.core.names import utc_now
from ddrc_platform.incidents.sensor import build_incident_defs
from ddrc_platform.ingest.assets import build_ingest_defs
from ddrc_platform.jobs import build_schedule_defs
from ddrc_platform.publish.asset import build_publish_defs
from ddrc_platform.resources import build_resources
from ddrc_platform.settings import Deployment, Settings, load_settings
from ddrc_platform.transform.assets import build_transform_defs


def build_definitions(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> dg.Definitions:
    """The graph for one deployment; `clock` lets tests and backfills fix "now"."""
    resources = build_resources(settings)
    ingest = build_ingest_defs(settings, resources["warehouse"].kind, clock)
    transform, dbt = build_transform_defs(settings, resources["warehouse"].kind, clock)
    publish = build_publish_defs(settings, dbt, resources["publisher"].kind, clock)
    graph = dg.Definitions.merge(ingest, transform, publish)
    return dg.Definitions.merge(
        graph,
        build_incident_defs(settings, graph, dbt),
        build_schedule_defs(settings),
        dg.Definitions(
            resources=resources,
            # DuckDB allows one writer process: run the steps of a local run in one process
            executor=dg.in_process_executor if settings.deployment is Deployment.LOCAL else None,
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
