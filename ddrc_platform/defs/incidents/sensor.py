"""Failed runs, failed checks and freshness breaches, turned into incidents."""

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.incidents.sensor import build_incident_defs


@dg.definitions
def incidents() -> dg.Definitions:
    return build_incident_defs(current().settings)
