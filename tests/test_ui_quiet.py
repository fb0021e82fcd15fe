"""`./ddrc ui` started from a plain shell says nothing a user cannot act on.

A user's shell has no virtual environment active and no `.venv/bin` on its PATH, unlike
`uv run pytest`'s; started that way, `dg dev` used to warn twice that the active
environment did not match the project's, and the code server could not find `dbt`. The
log of one start is read once the definitions have loaded (the repository answers).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytest_plugins = ["tests.daemon"]
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOISE = re.compile(r"warning|superseded|does not match|DEBUG|Traceback|ERROR", re.IGNORECASE)


def plain_shell_path() -> str:
    venv = str((ROOT / ".venv").resolve())
    return os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if venv not in p)


def test_the_ui_starts_without_warnings_from_a_plain_shell(ddrc_ui, tmp_path):
    daemon = ddrc_ui(
        {"DDRC_HOME": str(tmp_path / "ddrc"), "VIRTUAL_ENV": "", "PATH": plain_shell_path()}
    )
    daemon.wait_loaded()
    log = daemon.server.log.read_text(errors="replace")
    assert "Serving dagster-webserver" in log
    noise = [line for line in log.splitlines() if NOISE.search(line)]
    assert noise == [], noise
