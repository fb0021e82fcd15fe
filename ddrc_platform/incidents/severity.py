"""How bad a failure is, decided by whether the public can see it.

The team's rule: high severity only when bad or stale data reached the public file,
because only that justifies night and weekend work. Everything upstream of a successful
publish leaves the site on the last good data, so it waits for business hours.
"""

from __future__ import annotations

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
