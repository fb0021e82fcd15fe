"""Every public source at once, served on 127.0.0.1 from sample data, for `DDRC_SOURCES=live`.

Tests and benchmarks point the live clients here through the same variables an
operator would use (DDRC_EPA_URL, ...), so the live code path runs end to end offline.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date

import pyarrow.compute as pc

from ddrc_platform.core import catalog
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.sources.arcgis import LayerData
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


def one_more_through_phase_1(epa: LayerData) -> LayerData:
    """The EPA layer as its editors leave it after one more residential parcel completed
    Phase 1: one value and the layer's lastEditDate move (the change signal sees it)."""
    row = pc.index(
        pc.and_(
            pc.equal(epa.table["LandUse"], "Residential"),
            pc.equal(epa.table["PublicStatus"], "Phase 1 In Progress"),
        ),
        True,
    ).as_py()
    status = epa.table["PublicStatus"].to_pylist()
    status[row] = "Phase 1 Complete"
    metadata = copy.deepcopy(epa.metadata)
    metadata["editingInfo"]["lastEditDate"] += 60_000
    column = epa.table.schema.get_field_index("PublicStatus")
    return LayerData(metadata, epa.table.set_column(column, "PublicStatus", [status]))
