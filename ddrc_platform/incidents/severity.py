"""How bad a failure is, decided by whether the public can see it.

The team's rule: high severity only when bad or stale data reached the public file,
because only that justifies night and weekend work. Everything upstream of a successful
publish leaves the site on the last good data, so it waits for business hours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from ddrc_platform.core import catalog
from ddrc_platform.core.freshness import breach_time
from ddrc_platform.core.names import PACIFIC
from ddrc_platform.incidents.model import FailureKind, Severity

_PUBLIC_FILE_WRONG = frozenset(
    {FailureKind.PUBLISH_VERIFICATION_FAILED, FailureKind.PUBLISHED_FILE_STALE}
)


# failures that stop a source's numbers moving while the rest of the site moves on
_AGES = frozenset({FailureKind.SOURCE_LOAD_FAILED, FailureKind.FIVETRAN_SYNC_FAILED})


# the platform itself is broken: no source's fix helps, nothing can publish until a person
# repairs it, so the public file is bound to go stale; waiting for business hours is wrong
_NOTHING_CAN_PUBLISH = frozenset({FailureKind.WAREHOUSE_CORRUPT, FailureKind.DISK_FULL})

# the public file itself can no longer be published: the publish step fails, or the gate
# holds it (a failed blocking check stays failed until a person fixes its cause, and the
# gate holds every publish until then); no later run of anything else helps, so the file
# ages towards stale while a deferred incident waits for Monday
_PUBLISH_STOPPED = frozenset({FailureKind.PUBLISH_FAILED, FailureKind.PUBLICATION_HELD})

# `Pin.describe()`, as the rollback's note and the gate's description quote it
_PIN = re.compile(r"pinned by rollback at [^;]*")

_HIGH = _PUBLIC_FILE_WRONG | _NOTHING_CAN_PUBLISH | _PUBLISH_STOPPED


def severity_of(kind: FailureKind) -> Severity:
    """HIGH when the public file is wrong, older than its freshness window
    (PUBLISHED_FILE_STALE, from `core/freshness.py`), can no longer be published at all, or
    nothing can publish any more (the platform's own disk or warehouse), else LOW.

    A failure upstream of the publish (a source, a dbt model) is LOW: the site keeps the
    last good numbers, and if it lasts past the file's freshness window the stale file
    raises its own HIGH incident. So is a pin (PUBLICATION_PINNED): a person chose the
    version the site shows, in working hours or not, and nobody is paged for their choice;
    if the pin outlives the freshness window, the stale file pages.
    """
    return Severity.HIGH if kind in _HIGH else Severity.LOW


def public_view(severity: Severity) -> str:
    """What the public sees, in the words the Slack message and the issue use."""
    if severity is Severity.HIGH:
        return "the public file is wrong or stale"
    return "the site still shows the last good data"


def local_time(at: datetime) -> str:
    """How every incident text writes a moment: the team's time zone, the day spelled out."""
    local = at.astimezone(PACIFIC)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"


def public_impact(
    kind: FailureKind,
    severity: Severity,
    keys: Sequence[str],
    metrics: Sequence[str],
    last_good: datetime | None = None,
    error: str = "",
) -> str:
    """What the public sees, in one sentence or two: the first thing a responder reads.

    A failed source freezes only its own numbers (the summary takes each family's latest
    good snapshot), so its incident says they are aging and when, from the last good load
    and the catalog's freshness window, they become a breach. A pin names itself in its
    `error` (the rollback's note, the gate's description): who pinned which version.
    """
    if kind is FailureKind.PUBLICATION_PINNED:
        found = _PIN.search(error)
        pin = found.group(0).strip() if found else "a rollback pinned"
        return (
            f"The site shows the version {pin}; no new numbers reach it until the pin is released."
        )
    if kind in _NOTHING_CAN_PUBLISH:
        return (
            "The site still shows the last good data, but nothing can publish until this is "
            "fixed: every number ages and turns stale at its freshness window."
        )
    if kind in _PUBLISH_STOPPED:
        return (
            "The site still shows the last published file, but no new numbers can reach it "
            "until this is fixed: the file ages and turns stale at its freshness window."
        )
    seen = public_view(severity).capitalize() + "."
    tables = [t for t in catalog.RAW_TABLES if t.asset_key.to_user_string() in keys]
    if kind not in _AGES or not tables:
        return seen
    window = catalog.strictest_freshness(tables)
    assert window is not None
    shown = ", ".join(metrics) or "Its numbers"
    when = f"{_hours(window.fail_window.to_timedelta())} after its last good load"
    if last_good is not None:
        when = f"at {local_time(breach_time(last_good, window))}, {when} ({local_time(last_good)})"
    return (
        f"{seen} {shown}: the last good value, aging; the other sources keep publishing. "
        f"{', '.join(t.title for t in tables)} breaches its freshness window {when}; "
        "from then on the public number is stale (high severity)."
    )


def _hours(window: timedelta) -> str:
    return f"{window.total_seconds() / 3600:g} h"
