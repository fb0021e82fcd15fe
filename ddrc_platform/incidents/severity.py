"""How bad a failure is, decided by whether the public can see it.

The team's rule: high severity only when bad or stale data reached the public file,
because only that justifies night and weekend work. Everything upstream of a successful
publish leaves the site on the last good data, so it waits for business hours.
"""

from __future__ import annotations

from collections.abc import Sequence

from ddrc_platform.core import catalog
from ddrc_platform.incidents.model import FailureKind, Severity

_PUBLIC_FILE_WRONG = frozenset(
    {FailureKind.PUBLISH_VERIFICATION_FAILED, FailureKind.PUBLISHED_FILE_STALE}
)


def severity_of(kind: FailureKind) -> Severity:
    """HIGH when the public file is wrong or stale beyond its fail window, else LOW.

    PUBLISH_FAILED is LOW: a failed write leaves the previous good file in place, and a
    file that stays old for too long raises PUBLISHED_FILE_STALE on its own.
    """
    return Severity.HIGH if kind in _PUBLIC_FILE_WRONG else Severity.LOW


def public_view(severity: Severity) -> str:
    """What the public sees, in the words the Slack message and the issue use."""
    if severity is Severity.HIGH:
        return "the public file is wrong or stale"
    return "the site still shows the last good data"


def _hours(window: object) -> str:
    return f"{window.to_timedelta().total_seconds() / 3600:g} h"  # type: ignore[attr-defined]


def aging(kind: FailureKind, keys: Sequence[str], metrics: Sequence[str]) -> str | None:
    """What the public sees while a source's loads fail: its numbers age, the others move on.

    The summary takes each family's latest good snapshot, so the site keeps this source's
    last good values; its freshness window (the catalog's) says when that becomes a breach.
    """
    if kind not in (FailureKind.SOURCE_LOAD_FAILED, FailureKind.FIVETRAN_SYNC_FAILED):
        return None
    tables = [t for t in catalog.RAW_TABLES if t.asset_key.to_user_string() in keys]
    if not tables:
        return None
    window = catalog.strictest_freshness(tables)
    assert window is not None
    shown = ", ".join(metrics) or "no published metric"
    return (
        f"The site keeps showing the last good value of {shown}, aging: the other sources "
        f"keep publishing. {', '.join(t.title for t in tables)} warns "
        f"{_hours(window.warn_window)} and breaches its freshness window "
        f"{_hours(window.fail_window)} after its last successful load (the asset's "
        "freshness in the UI shows when), then the public number is stale (high severity)."
    )
