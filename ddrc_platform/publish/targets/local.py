"""The local deployment's publish target: `$DDRC_HOME/publish/` and its `history/`.

The history copy is written before the live file is replaced (atomically, by rename), so
the live file is never partial and every version that went live is kept.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import dagster as dg

from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.publish.targets.base import VERSION_NAME, Published, version_name


class LocalPublisher(dg.ConfigurableResource):
    """A directory: the live file and `history/` beside it."""

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
