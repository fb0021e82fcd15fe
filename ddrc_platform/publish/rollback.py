"""Making an earlier published version live again: the responder's last-resort fix."""

from __future__ import annotations

from datetime import datetime

from ddrc_platform.publish import document as publication
from ddrc_platform.publish.targets.base import Publisher


class RollbackError(RuntimeError):
    """There is nothing (or no such version) to roll back to; nothing changed."""


def rollback(publisher: Publisher, to: str | None, at: datetime) -> str:
    """Make an earlier version live again (itself recorded as a new history version)."""
    versions = publisher.versions()
    current = publisher.current()
    if to is None:
        live = publication.content_hash(current)[:12] if current else None
        earlier = [v for v in versions if not v.endswith(f"-{live}.json")]
        if not earlier:
            raise RollbackError("no earlier version to roll back to")
        to = earlier[-1]
    elif to not in versions:
        raise RollbackError(f"no version {to!r}; see `./ddrc versions`")
    content = publisher.version(to)
    publication.validate(content)
    publisher.publish(content, at)
    return to
