"""`./ddrc run` as a newcomer sees it: a few lines and no warnings, the full log in a file,
clear failures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from stand_ins.base import Fault
from stand_ins.sources import LAYER_PATHS, serve_sample_sources

pytestmark = pytest.mark.slow


def ddrc_run(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ddrc_platform.cli", "run"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "DDRC_HOME": str(home), "DDRC_SAMPLE_SCALE": "0.05", **env},
    )


def test_a_successful_run_says_what_happened_in_few_lines_and_keeps_the_full_log(tmp_path):
    done = ddrc_run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) < 40, done.stdout
    assert any(line.split()[:2] == ["ok", "raw/epa/public_status_assessment"] for line in lines)
    assert any("dbt:" in line and "models built" in line for line in lines)
    assert any("publish/ddrc_metrics_json" in line and "published" in line for line in lines)
    assert "./ddrc ui" in done.stdout and "streamlit run dashboards/app.py" in done.stdout
    log = Path(next(line.split()[-1] for line in lines if "full log" in line))
    assert log.is_file() and "STEP_SUCCESS" in log.read_text()
    assert (tmp_path / "publish" / "ddrc-metrics.json").is_file()
    assert "Running with dbt" not in done.stdout  # dbt's own progress went to the log
    # nothing a newcomer cannot act on: no warnings (summed up or raw), no debug lines
    noise = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if re.search(r"warning|DEBUG", line, re.IGNORECASE)
    ]
    assert noise == [], noise


def test_a_failed_run_names_the_step_its_error_and_the_log(tmp_path):
    with serve_sample_sources(day=date.today(), scale=0.05) as live:
        live.arcgis.fail_always(LAYER_PATHS["epa"], Fault.status(503, "Service Unavailable"))
        done = ddrc_run(tmp_path, **live.env, DDRC_HTTP_TRIES="1", DDRC_HTTP_BACKOFF="0.01")
    assert done.returncode == 1
    assert "FAILED" in done.stdout
    failed = [line for line in done.stdout.splitlines() if "raw__epa" in line or "raw/epa" in line]
    assert any("503" in line for line in failed), done.stdout
    assert "full log" in done.stdout
    assert len(done.stdout.splitlines()) < 40
