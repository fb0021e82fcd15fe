"""Deterministic sample data shaped exactly like the real sources, at any scale, on any day.

One module per source family; each registers its generators with the catalog
(`catalog.register_sample`), so the catalog names no generator and imports none.
"""

from ddrc_platform.ingest.sample.airtable import airtable_records
from ddrc_platform.ingest.sample.arcgis import arcgis_layer
from ddrc_platform.ingest.sample.common import SAMPLE_DAY_ZERO
from ddrc_platform.ingest.sample.feedback import page_feedback_rows
from ddrc_platform.ingest.sample.malibu import malibu_endpoints

__all__ = [
    "SAMPLE_DAY_ZERO",
    "airtable_records",
    "arcgis_layer",
    "malibu_endpoints",
    "page_feedback_rows",
]
