"""The local deployment's publish target: `$DDRC_HOME/publish/` and its `history/`.

The live file is replaced first (atomically, by rename), then its history copy is written:
the live file is never partial, and a version whose live write failed never enters the
history. The pin is `pin.json` beside the live file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from ddrc_platform.core.locks import exclusive
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.publish.targets.base import (
    VERSION_NAME,
    Pin,
    Published,
    repaired_version_name,
    version_name,
)


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

    @property
    def _lock(self) -> Path:
        return Path(self.directory) / ".publish.lock"

    @property
    def pin_path(self) -> Path:
        return Path(self.directory) / "pin.json"

    def current(self) -> bytes | None:
        return self.live_path.read_bytes() if self.live_path.exists() else None

    def publish(self, content: bytes, at: datetime) -> Published:
        """Live file, then its history copy; one publisher at a time on this directory.

        Kubernetes serialises publishes with the `ddrc_publish` pool; `dagster dev` and
        `./ddrc run` on one home do not, so a file lock keeps two runs from interleaving.
        """
        with exclusive(self._lock, wait_seconds=60, what="the local publish directory"):
            self.history_dir.mkdir(parents=True, exist_ok=True)
            name = version_name(content, at)
            _atomic_write(self.live_path, content)
            _atomic_write(self.history_dir / name, content)
        return Published(location=str(self.live_path), version=name)

    def copy_live_to_history(self, before: datetime) -> str:
        """Named by the live file's modification time: when the public started seeing it."""
        with exclusive(self._lock, wait_seconds=60, what="the local publish directory"):
            content = self.live_path.read_bytes()
            went_live = datetime.fromtimestamp(self.live_path.stat().st_mtime, UTC)
            name = repaired_version_name(content, went_live, before)
            self.history_dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.history_dir / name, content)
        return name

    def versions(self) -> list[str]:
        if not self.history_dir.exists():
            return []
        return sorted(p.name for p in self.history_dir.iterdir() if VERSION_NAME.match(p.name))

    def version(self, name: str) -> bytes:
        return (self.history_dir / name).read_bytes()

    def pin(self) -> Pin | None:
        return Pin.from_bytes(self.pin_path.read_bytes()) if self.pin_path.exists() else None

    def set_pin(self, pin: Pin | None) -> None:
        if pin is None:
            self.pin_path.unlink(missing_ok=True)
        else:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            _atomic_write(self.pin_path, pin.to_bytes())


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
