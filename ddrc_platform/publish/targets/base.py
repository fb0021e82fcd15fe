"""What a publish target offers: the live file, and every version it ever published.

Versions are named by time and content hash, so a rollback always has something to roll
back to and a version's name says what it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from ddrc_platform.publish.document import content_hash

VERSION_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{12}\.json$")


def version_name(content: bytes, at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{content_hash(content)[:12]}.json"


@dataclass(frozen=True)
class Published:
    location: str  # path or URL of the live file
    version: str  # history name of this content


class Publisher(Protocol):
    kind: str

    def current(self) -> bytes | None: ...

    def publish(self, content: bytes, at: datetime) -> Published: ...

    def versions(self) -> list[str]: ...

    def version(self, name: str) -> bytes: ...
