"""dbt dies with the run that started it.

dagster-dbt starts dbt with a plain `subprocess.Popen`: when the run's process is killed
(SIGKILL, the OOM killer, a node going away) the dbt child runs on alone, holding the DuckDB
file, and the next run waits for it. A preexec hook could arm `PR_SET_PDEATHSIG`, but
dagster-dbt offers none; its public `dbt_executable` and `global_config_flags` can name a
command, though, so dbt is started as this module (`python -m`), which asks Linux to
SIGKILL it when its parent dies and then *becomes* dbt (`execv`: same PID, no extra
process, the signal setting survives the exec).

Why not a PID file that the next run kills: that works only once a next run starts, and
must prove an old PID is still our dbt; the kernel's own signal needs neither. What remains:
where `prctl` does not exist (macOS) dbt starts unguarded, as before; and on Linux the
signal follows the *thread* that started dbt, which in Dagster is the step's own thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported at run time: this module starts before every dbt run
    from dagster_dbt import DbtCliResource

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
MODULE = "ddrc_platform.transform.children"


def dying_with_the_run(dbt: DbtCliResource) -> DbtCliResource:
    """The same resource, starting dbt through this module (its own flags kept after)."""
    flags = ["-m", MODULE, *dbt.global_config_flags]
    return dbt.model_copy(update={"dbt_executable": sys.executable, "global_config_flags": flags})


def dbt_executable() -> Path:
    """The dbt installed beside this Python (the project's environment)."""
    return Path(sys.executable).parent / "dbt"


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; False where it cannot."""
    libc_name = ctypes.util.find_library("c")
    try:
        prctl = ctypes.CDLL(libc_name, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    return prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def become(executable: Path, args: Sequence[str], parent: int) -> None:
    """Arm the death signal, make sure `parent` did not die before it was armed, then
    replace this process with `executable`."""
    die_with_parent()
    if os.getppid() != parent:  # orphaned already: the run that wanted the child is gone
        raise SystemExit(f"ddrc: the run that started {executable.name} is gone; not started")
    os.execv(executable, [str(executable), *args])


if __name__ == "__main__":
    become(dbt_executable(), sys.argv[1:], os.getppid())
