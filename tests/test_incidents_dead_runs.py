"""Which STARTED runs have lost their process (issue 17 item 6c); the sensor's part is in
tests/test_fault_campaign.py (17.6c)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ddrc_platform.incidents.dead_runs import StartedRun, dead_runs, pid_alive
from tests.process import wait_until

linux_only = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")


def test_only_runs_whose_process_is_gone_are_dead_named_with_their_pid():
    runs = [
        StartedRun("alive", "ddrc_pipeline", 101, 1.0),
        StartedRun("gone", "ddrc_pipeline", 202, 2.0),
        StartedRun("unknown", "ddrc_pipeline", None, 3.0),  # no PID recorded: not judged
    ]
    asked = []

    def alive(pid: int, started_at: float) -> bool:
        asked.append((pid, started_at))
        return pid == 101

    (dead,) = dead_runs(runs, alive)
    assert asked == [(101, 1.0), (202, 2.0)]
    assert dead.run_id == "gone"
    assert "(pid 202) is gone" in dead.message
    assert "run gone of ddrc_pipeline" in dead.message and "marked failed" in dead.message


def test_a_running_process_is_alive():
    assert pid_alive(os.getpid(), time.time())


@linux_only
def test_a_process_begun_after_the_run_started_is_another_one_with_the_pid_back():
    assert not pid_alive(os.getpid(), started_at=0.0)


@linux_only
def test_a_killed_process_is_gone_whether_or_not_its_parent_reaped_it():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    started = time.time()
    try:
        assert pid_alive(child.pid, started)
        child.send_signal(signal.SIGKILL)
        # not reaped yet: a zombie, which has exited all the same
        wait_until(lambda: not pid_alive(child.pid, started), 30, "waiting for the kill")
        assert Path(f"/proc/{child.pid}").exists()  # the zombie is there, and judged gone
    finally:
        child.kill()
        child.wait(30)
    assert not pid_alive(child.pid, started)
