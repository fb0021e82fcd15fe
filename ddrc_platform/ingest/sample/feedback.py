"""Sample page-feedback rows as Fivetran lands the DynamoDB table."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ddrc_platform.core import catalog
from ddrc_platform.ingest.sample.common import (
    NEVER,
    _day_index,
    _labels,
    _midnights_ms,
    _rng,
    _size,
    _uuid4,
)

# -- page feedback (Fivetran-landed DynamoDB table) -----------------------------------------
_SITE_PAGES = {
    "/": ["hero", "latest-updates", "recovery-metrics"],
    "/debris-removal/": ["phase-1", "phase-2", "right-of-entry", "faq"],
    "/rebuilding-permits/": ["apply", "fee-waivers", "faq"],
    "/financial-assistance/": ["fema", "sba-loans", "unemployment"],
    "/housing/": ["temporary-housing", "rental-assistance"],
    "/replace-documents/": ["vital-records", "drivers-license"],
}
_COMMENTS = [
    "Very helpful, thank you.",
    "Could not find when my debris will be picked up.",
    "The right of entry link did not work for me.",
    "Please add information in Spanish.",
    "Great summary of the permit steps.",
    "Numbers look out of date.",
    "Call me back please at (626) 555-0147, I have questions about my lot.",
    "My email is maria.gonzalez@example.com, nobody answered my ROE question.",
    "I live at 1234 E Mariposa St, Altadena and still no update on Phase 2.",
    "Nothing about renters here.",
]


def page_feedback_rows(*, scale: float = 1.0, day: date) -> pa.Table:
    """The page-feedback table as Fivetran lands it from DynamoDB, synced through `day`."""
    d = _day_index(day)
    n = _size(5_000, scale, 100)
    rng = _rng("page_feedback")
    sent_day = np.sort(
        np.where(np.arange(n) < 20, rng.integers(1, 8, n), 1 + np.round(rng.exponential(140, n)))
    )
    sent_day = sent_day.astype(np.int64)
    seconds = rng.integers(0, 86_400, n).astype(np.int64)
    keys = _uuid4(rng, n)
    pairs = [(page, section) for page, sections in _SITE_PAGES.items() for section in sections]
    pair = rng.integers(0, len(pairs), n)
    domain = np.where(rng.random(n) < 0.88, "recovery.lafires.ca.gov", "lafires.ca.gov")
    helpful = rng.random(n) < 0.7
    has_comment = rng.random(n) < np.where(helpful, 0.2, 0.55)
    comment = rng.integers(0, len(_COMMENTS), n)
    deleted_after = np.where(rng.random(n) < 0.05, rng.integers(1, 20, n), NEVER)

    deleted_day = sent_day + deleted_after  # the snapshot day that first shows the deletion
    deleted_seconds = rng.integers(0, 86_400, n).astype(np.int64)
    sync_jitter = rng.integers(60, 900, n).astype(np.int64) * 1000

    m = int((sent_day <= d).sum())  # sent on day index t-1 at the latest, so before `day`
    midnights = _midnights_ms(d)
    sent_ms = midnights[sent_day[:m] - 1] + seconds[:m] * 1000
    deleted = deleted_day[:m] <= d
    deleted_ms = midnights[np.where(deleted, deleted_day[:m] - 1, 0)] + deleted_seconds[:m] * 1000
    changed_ms = np.where(deleted, np.maximum(deleted_ms, sent_ms), sent_ms)
    six_hours = 6 * 3_600_000  # Fivetran's sync interval
    synced_ms = (changed_ms // six_hours + 1) * six_hours + sync_jitter[:m]
    page = _labels([p for p, _ in pairs], pair[:m])
    section = _labels([s for _, s in pairs], pair[:m])
    url = pc.binary_join_element_wise(
        pc.binary_join_element_wise("https://", pa.array(domain[:m]), page, ""), section, "#"
    )
    return pa.table(
        {
            "FEEDBACK_KEY": keys.slice(0, m),
            "SITE_DOMAIN": pa.array(domain[:m], pa.string()),
            "PAGE": page,
            "PAGE_SECTION": section,
            "URL": url,
            "TIME": pa.array(sent_ms * 1000, pa.timestamp("us")),
            "IS_HELPFUL": pa.array(helpful[:m]),
            "COMMENTS": pc.if_else(
                pa.array(has_comment[:m]),
                _labels(_COMMENTS, comment[:m]),
                pa.scalar(None, pa.string()),
            ),
            "_FIVETRAN_SYNCED": pa.array(synced_ms * 1000, pa.timestamp("us")),
            "_FIVETRAN_DELETED": pa.array(deleted),
        }
    )


catalog.register_sample(catalog.PAGE_FEEDBACK, page_feedback_rows)
