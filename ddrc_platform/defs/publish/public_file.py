"""The public file `ddrc-metrics.json`, its gate and checks, and the rollback job."""

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.publish.asset import build_publish_defs


@dg.definitions
def publish() -> dg.Definitions:
    build = current()
    latest, _history = build.dbt_assets
    return build_publish_defs(
        build.settings, latest, build.resources["publisher"].kind, build.clock
    )
