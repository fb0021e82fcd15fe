"""One process at a time on a local resource (the DuckDB warehouse, the publish directory).

DuckDB lets one process open its file; two runs on one local home would otherwise collide
inside dbt with a lock error that reads like a broken model. An advisory file lock next
to the resource makes the second run wait for it, then refuse with a clear message.
Kubernetes deployments serialise runs with the run queue and pools instead.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ResourceBusyError(RuntimeError):
    """Another process held the resource for longer than we were willing to wait."""


@contextmanager
def exclusive(
    lock_file: Path,
    *,
    wait_seconds: float,
    what: str,
    busy: type[RuntimeError] = ResourceBusyError,
) -> Iterator[None]:
    """Hold `lock_file` exclusively; after `wait_seconds` raise `busy` naming `what`.

    The lock belongs to the open file: it is released when the block ends or the process
    dies, so a crashed run never leaves the resource locked.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy(
                        f"another run is using {what} ({lock_file}); waited "
                        f"{wait_seconds:g} s — let it finish, then rerun"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
