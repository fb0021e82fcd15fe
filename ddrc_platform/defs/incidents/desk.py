"""The incident desk of one deployment, from its settings: the sensor's, and the rollback job's.

`ddrc_platform.incidents.build_desk` takes plain values; this is where the deployment's
settings, its Slack resource, its publisher and the dbt metric catalog become those values.
"""

from __future__ import annotations

import csv
import json

import dagster as dg

from ddrc_platform.core import catalog
from ddrc_platform.defs.incidents.slack_resource import IncidentSlackResource
from ddrc_platform.incidents import IncidentDesk, build_desk
from ddrc_platform.incidents.lineage import AssetGraphLike
from ddrc_platform.publish.targets.base import Publisher
from ddrc_platform.settings import Settings
from ddrc_platform.transform.manifests import DBT_PROJECT_DIR


def metric_sources(publisher: Publisher) -> dict[str, set[dg.AssetKey]]:
    """Published metric -> the raw tables it is computed from (catalog + Airtable for the rest)."""
    sources: dict[str, set[dg.AssetKey]] = {}
    families = catalog.by_metric_family()
    with (DBT_PROJECT_DIR / "seeds" / "metric_catalog.csv").open() as handle:
        for row in csv.DictReader(handle):
            sources[row["metric_name"]] = {families[row["source"]].asset_key}
    current = publisher.current()
    for item in json.loads(current) if current else []:
        sources.setdefault(item["METRIC_NAME"], {catalog.AIRTABLE_METRICS.asset_key})
    return sources


def make_desk(
    settings: Settings,
    defs_graph: dg.Definitions | AssetGraphLike,
    publisher: Publisher,
    slack: IncidentSlackResource,
) -> IncidentDesk:
    """Built where the graph is known (the sensor's first tick, the rollback job): lineage
    needs it, and the runbooks name the endpoints this deployment reads, not the defaults."""
    return build_desk(
        oncall_path=settings.oncall_path,
        store_path=settings.incident_store_location,
        metric_sources=metric_sources(publisher),
        graph=defs_graph,
        secrets=settings.secrets,
        deployment=settings.deployment.value,
        slack_channel=slack.channel,
        slack_token=slack.token or None,
        slack_webhook_url=slack.webhook_url,
        slack_base_url=slack.base_url,
        webserver_url=settings.webserver_url,
        source_urls={
            t.asset_key.to_user_string(): settings.endpoint(t.endpoint.setting).url
            + t.endpoint.path
            for t in catalog.RAW_TABLES
            if t.endpoint is not None and t.endpoint.setting in settings.endpoints
        },
    )
