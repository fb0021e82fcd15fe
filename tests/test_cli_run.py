"""`./ddrc run` as a newcomer sees it when it fails: the step, its error and the log.

(A successful first run's few lines, no warnings, the full log in a file: the first command
of tests/test_runbook_commands.py, which runs it through the script.)"""

from __future__ import annotations

from datetime import date

import pytest

from stand_ins.base import Fault
from stand_ins.sources import LAYER_PATHS, serve_sample_sources

pytestmark = pytest.mark.slow


def test_a_failed_run_names_the_step_its_error_and_the_log(tmp_path, ddrc_cli):
    with serve_sample_sources(day=date.today(), scale=0.05) as live:
        live.arcgis.fail_always(LAYER_PATHS["epa"], Fault.status(503, "Service Unavailable"))
        env = {**live.env, "DDRC_HTTP_TRIES": "1", "DDRC_HTTP_BACKOFF": "0.01"}
        env |= {"DDRC_HOME": str(tmp_path), "DDRC_SAMPLE_SCALE": "0.05"}
        done = ddrc_cli(env, "run")
    assert done.returncode == 1
    assert "FAILED" in done.stdout
    failed = [line for line in done.stdout.splitlines() if "raw__epa" in line or "raw/epa" in line]
    assert any("503" in line for line in failed), done.stdout
    assert "full log" in done.stdout
    assert len(done.stdout.splitlines()) < 40
