"""Every public source at once, served on 127.0.0.1 from sample data, for `DDRC_SOURCES=live`.

Tests and benchmarks point the live clients here through the same variables an
operator would use (DDRC_EPA_URL, ...), so the live code path runs end to end offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date

from ddrc_platform.sources import sample
from ddrc_platform.stand_ins.airtable import AirtableServer
from ddrc_platform.stand_ins.arcgis import ArcgisServer
from ddrc_platform.stand_ins.malibu import MalibuServer

AIRTABLE_TOKEN = "patLOCALSTANDIN.0000000000000000"
AIRTABLE_BASE = "appLOCALSTANDIN01"
LAYER_PATHS = {
    "epa": "/ArcGIS/rest/services/SoCalFires2025_PublicStatusNightly/FeatureServer/0",
    "usace": "/arcgis/rest/services/USACE_Debris_Parcels_Southern_California_Public/MapServer/0",
    "pasadena": "/arcgis/rest/services/Eaton_Fire_Rebuild_Permits/FeatureServer/0",
}


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
        for name, path in LAYER_PATHS.items():
            arcgis.add_layer(path, sample.arcgis_layer(name, scale=scale, day=day))
        malibu = MalibuServer(sample.malibu_endpoints(scale=scale, day=day))
        stack.enter_context(malibu.start())
        airtable = AirtableServer(
            AIRTABLE_TOKEN, AIRTABLE_BASE, "Metrics", sample.airtable_records(scale=scale, day=day)
        )
        stack.enter_context(airtable.start())
        env = {
            "DDRC_SOURCES": "live",
            **{f"DDRC_{name.upper()}_URL": arcgis.url + path for name, path in LAYER_PATHS.items()},
            "DDRC_MALIBU_BASE_URL": malibu.url,
            "DDRC_AIRTABLE_ENDPOINT": airtable.url,
            "AIRTABLE_TOKEN": AIRTABLE_TOKEN,
            "DDRC_AIRTABLE_BASE_ID": AIRTABLE_BASE,
        }
        yield LiveSources(arcgis, malibu, airtable, env)
