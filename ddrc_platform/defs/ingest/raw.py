"""The raw layer: a loader per source (or Fivetran's tables in dev/prd) and its change sensor."""

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.ingest.assets import build_ingest_defs


@dg.definitions
def ingest() -> dg.Definitions:
    build = current()
    return build_ingest_defs(build.settings, build.resources["warehouse"].kind, build.clock)
