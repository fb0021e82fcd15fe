"""`./ddrc rollback` refusing a version says why in one line, and changes nothing.

Run as a responder's shell runs it (a subprocess on its own DDRC_HOME, two public versions
published by the local target): a path-like or an unknown version is refused with a
non-zero exit, one line on stderr naming the reason, nothing on stdout, the live file and
the pin untouched; Dagster's log goes to the file the line names.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ddrc_platform.publish.document import Metric, render
from ddrc_platform.publish.targets.local import LocalPublisher

pytestmark = pytest.mark.slow  # each case starts a process that builds the definitions

NOW = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)


def document(value: int) -> bytes:
    return render([Metric("people_helped_drc", Decimal(value), "count", "people", "daily", NOW)])


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("../../etc/passwd", "'../../etc/passwd' is a path, not a version name"),
        ("/etc/passwd", "'/etc/passwd' is a path, not a version name"),
        ("20990101T000000Z-000000000000.json", "no version '20990101T000000Z-000000000000.json'"),
    ],
)
def test_a_refused_rollback_says_why_in_one_line(tmp_path: Path, version: str, reason: str):
    home = tmp_path / "ddrc"
    publisher = LocalPublisher(directory=str(home / "publish"))
    publisher.publish(document(61000), NOW)
    publisher.publish(document(61100), NOW + dt.timedelta(hours=1))
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {"DDRC_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "ddrc_platform.cli", "rollback", "--to", version],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"rollback refused: {reason}; see `./ddrc versions` (full log: ")
    assert "dagster" not in line.lower() and "Traceback" not in done.stderr
    log = Path(line.rsplit("(full log: ", 1)[1].removesuffix(")"))
    assert "RollbackError" in log.read_text()  # the whole story is kept, off the screen
    assert publisher.current() == document(61100) and publisher.pin() is None
