"""What a publish target offers: the live file, every version it made public, and the pin.

Versions are named by time and content hash, so a rollback always has something to roll
back to and a version's name says what it holds. A version enters the history only once it
is live: the history is the list of files the public has seen, so a rollback can never make
never-public content public.

The pin (a rollback that must stick) lives beside the file, in the same target, so every
code location, run and CLI on this deployment sees the same one.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ddrc_platform.publish.document import content_hash

VERSION_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{12}\.json$")


def version_name(content: bytes, at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{content_hash(content)[:12]}.json"


def repaired_version_name(content: bytes, went_live: datetime, before: datetime) -> str:
    """A repaired version's name: when it went live, yet a second before `before`, so a
    version published at `before` (names sort by time) stays the newest."""
    return version_name(content, min(went_live, before - timedelta(seconds=1)))


@dataclass(frozen=True)
class Published:
    location: str  # path or URL of the live file
    version: str  # history name of this content


@dataclass(frozen=True)
class Pin:
    """A rollback that holds publishing until released: which version, when, by whom."""

    version: str  # the history version that was restored
    content_hash: str  # of that version: what the live file must stay
    pinned_at: datetime
    pinned_by: str  # "run <id>" or "cli"

    def describe(self) -> str:
        return (
            f"pinned by rollback at {self.pinned_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC "
            f"to version {self.version} ({self.pinned_by})"
        )

    def to_bytes(self) -> bytes:
        return json.dumps({**asdict(self), "pinned_at": self.pinned_at.isoformat()}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Pin:
        fields = json.loads(data)
        return cls(**{**fields, "pinned_at": datetime.fromisoformat(fields["pinned_at"])})


class Publisher(Protocol):
    kind: str

    def current(self) -> bytes | None: ...

    def publish(self, content: bytes, at: datetime) -> Published:
        """Replace the live file; only then add the version to the history."""
        ...

    def copy_live_to_history(self, before: datetime) -> str:
        """Add the live file to the history, named by when it went live but earlier than
        `before` (the run's clock, so it sorts before what this run publishes); the name.

        The repair of a publish killed between its two writes (`plan.history_lacks_live`)."""
        ...

    def versions(self) -> list[str]: ...

    def version(self, name: str) -> bytes: ...

    def pin(self) -> Pin | None: ...

    def set_pin(self, pin: Pin | None) -> None:
        """Pin (a `Pin`) or release (None)."""
        ...
