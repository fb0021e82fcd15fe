"""Deterministic sample data shaped exactly like the real sources, at any scale, on any day.

One module per source family; each catalog entry (`core/catalog.py`) names its generator.
"""

from ddrc_platform.ingest.sample.airtable import airtable_records
from ddrc_platform.ingest.sample.arcgis import arcgis_layer
from ddrc_platform.ingest.sample.common import SAMPLE_DAY_ZERO, ArcgisSample
from ddrc_platform.ingest.sample.feedback import page_feedback_rows
from ddrc_platform.ingest.sample.malibu import malibu_endpoints

__all__ = [
    "SAMPLE_DAY_ZERO",
    "ArcgisSample",
    "airtable_records",
    "arcgis_layer",
    "malibu_endpoints",
    "page_feedback_rows",
]
