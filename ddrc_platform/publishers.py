"""Where ddrc-metrics.json goes: a local directory, or an Azure Blob container.

Every publisher keeps every version it ever published (named by time and content
hash) and writes the history copy before it replaces the live file, so a rollback
always has something to roll back to and the live file is never partial.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import dagster as dg

from ddrc_platform.publication import FILE_NAME, content_hash

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


class LocalPublisher(dg.ConfigurableResource):
    """The local deployment's publish target: `$DDRC_HOME/publish/` and its `history/`."""

    directory: str

    @property
    def kind(self) -> str:
        return "file"

    @property
    def live_path(self) -> Path:
        return Path(self.directory) / FILE_NAME

    @property
    def history_dir(self) -> Path:
        return Path(self.directory) / "history"

    def current(self) -> bytes | None:
        return self.live_path.read_bytes() if self.live_path.exists() else None

    def publish(self, content: bytes, at: datetime) -> Published:
        self.history_dir.mkdir(parents=True, exist_ok=True)
        name = version_name(content, at)
        _atomic_write(self.history_dir / name, content)
        _atomic_write(self.live_path, content)
        return Published(location=str(self.live_path), version=name)

    def versions(self) -> list[str]:
        if not self.history_dir.exists():
            return []
        return sorted(p.name for p in self.history_dir.iterdir() if VERSION_NAME.match(p.name))

    def version(self, name: str) -> bytes:
        return (self.history_dir / name).read_bytes()


def _atomic_write(path: Path, content: bytes) -> None:
    """Write beside the target, flush to disk, then rename over it: never a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # a public file: mkstemp's 0600 would hide it from a web server
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
