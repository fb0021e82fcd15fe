"""Every public source at once, served on 127.0.0.1 from sample data, for `DDRC_SOURCES=live`.

Tests and benchmarks point the live clients here through the same variables an
operator would use (DDRC_EPA_URL, ...), so the live code path runs end to end offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date

from ddrc_platform.core import catalog
from ddrc_platform.ingest import sample
from stand_ins.airtable import AirtableServer
from stand_ins.arcgis import ArcgisServer
from stand_ins.malibu import MalibuServer

AIRTABLE_TOKEN = "patLOCALSTANDIN.0000000000000000"
AIRTABLE_BASE = "appLOCALSTANDIN01"
# each layer where its public URL has it, so a URL variable differs from the public one
# in scheme and host only
LAYER_PATHS = {t.name: t.endpoint.stand_in_path for t in catalog.ARCGIS_TABLES if t.endpoint}


@dataclass
class LiveSources:
    arcgis: ArcgisServer
    malibu: MalibuServer
    airtable: AirtableServer
    env: dict[str, str] = field(default_factory=dict)


@contextmanager
def serve_sample_sources(*, day: date, scale: float = 1.0) -> Iterator[LiveSources]:
    """Start the stand-ins with the sample data of `day`; stop them on exit."""
    with ExitStack() as stack:
        arcgis = stack.enter_context(ArcgisServer().start())
        for table in catalog.ARCGIS_TABLES:
            layer = catalog.sample_data(table, scale=scale, day=day)
            arcgis.add_layer(LAYER_PATHS[table.name], layer)
        malibu = MalibuServer(sample.malibu_endpoints(scale=scale, day=day))
        stack.enter_context(malibu.start())
        airtable = AirtableServer(
            AIRTABLE_TOKEN, AIRTABLE_BASE, "Metrics", sample.airtable_records(scale=scale, day=day)
        )
        stack.enter_context(airtable.start())
        env = {
            "DDRC_SOURCES": "live",
            **{
                t.endpoint.variable: arcgis.url + LAYER_PATHS[t.name]
                for t in catalog.ARCGIS_TABLES
                if t.endpoint
            },
            "DDRC_MALIBU_BASE_URL": malibu.url,
            "DDRC_AIRTABLE_ENDPOINT": airtable.url,
            "AIRTABLE_TOKEN": AIRTABLE_TOKEN,
            "DDRC_AIRTABLE_BASE_ID": AIRTABLE_BASE,
        }
        yield LiveSources(arcgis, malibu, airtable, env)
