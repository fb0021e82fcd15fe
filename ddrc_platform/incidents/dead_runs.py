"""Runs whose process is gone, so that they end as failures instead of staying STARTED.

A run worker killed outright (SIGKILL, the OOM killer, a power cut) writes no RUN_FAILURE:
Dagster shows the run STARTED forever, holding the publishing slot and hiding that nothing
was published. Dagster's run monitoring notices dead workers only for launchers that can
check them (the Kubernetes launcher of `deploy/`); the DefaultRunLauncher of `./ddrc ui` and
the in-process runs of `./ddrc run` cannot be checked by it, so the incident sensor does.

Dagster records no host for a run, only the PID of the process that wrote each event. The
PID means something only on the machine the run worker ran on: the sensor assumes that is
its own, which holds where the launcher is the DefaultRunLauncher (run workers are children
of the code server that evaluates the sensor, and `./ddrc run` writes to the same local
SQLite instance); the sensor checks no other instance.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
# the kernel counts a process's start in clock ticks from a boot time given in whole seconds
_CLOCK_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class StartedRun:
    run_id: str
    job_name: str
    pid: int | None  # of the process that wrote the run's RUN_START; None: not recorded
    started_at: float  # when it did, seconds since the epoch


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    message: str


def _boot_time() -> float:
    for line in (_PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError(f"{_PROC / 'stat'} names no boot time (btime)")


def pid_alive(pid: int, started_at: float) -> bool:
    """Whether the process that started the run at `started_at` still runs.

    A zombie has exited (only its parent has not read its status yet), and a process that
    began after the run started is another one that was given the PID back.
    """
    if not _PROC.is_dir():  # no /proc (macOS): existence is all there is to go on
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # someone else's process: it exists
            return True
        return True
    try:
        # fields after the command name (which may hold spaces and parentheses)
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state, start_ticks = fields[0], int(fields[19])
    began = _boot_time() + start_ticks / os.sysconf("SC_CLK_TCK")
    return state != "Z" and began <= started_at + _CLOCK_SLACK_SECONDS


def dead_runs(
    started_runs: Iterable[StartedRun], alive: Callable[[int, float], bool] = pid_alive
) -> list[DeadRun]:
    """The STARTED runs whose process is gone, with the message that ends each.

    A run without a recorded PID cannot be judged and is left to the hung-run check.
    """
    dead = []
    for run in started_runs:
        if run.pid is None or alive(run.pid, run.started_at):
            continue
        dead.append(
            DeadRun(
                run.run_id,
                f"the process of run {run.run_id} of {run.job_name} (pid {run.pid}) is gone: "
                "it was killed or crashed without ending the run, so the run is marked failed",
            )
        )
    return dead
