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

With a warm dbt (`warm.py`, the default) this process does not become dbt: it asks the warm
server for a dbt child and waits for it, forwarding signals, and the server SIGKILLs that
child when this process dies, which the kernel's signal still guarantees.

dbt runs in the home: the local profile's DuckDB file is a relative path, the same for
every home, so one parse serves them all (dbt re-parses everything when a profile's path
changes). Every caller names the project and profiles folders (dagster-dbt in
DBT_PROJECT_DIR and DBT_PROFILES_DIR, `./ddrc dbt` with flags), so dbt finds them from there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ddrc_platform.transform.manifests import (
    DBT_PROJECT_DIR,
    PARTIAL_PARSE_FILE,
    shared_parse_folder,
)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
MODULE = "ddrc_platform.transform.children"
WARM_FLAG = "--ddrc-warm="
HOME_FLAG = "--ddrc-home="


def guarded_command(home: Path, warm: Path | None = None) -> tuple[str, list[str]]:
    """The executable and leading flags that start dbt through this module, in `home`
    (from the warm dbt server in the folder `warm` when one is given): a resource's
    `dbt_executable` and `global_config_flags`, set when it is built, since Dagster
    rebuilds a resource from the values it was built with."""
    return sys.executable, [
        "-m",
        MODULE,
        f"{HOME_FLAG}{home}",
        *([f"{WARM_FLAG}{warm}"] if warm else []),
    ]


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


def become(
    executable: Path,
    args: Sequence[str],
    parent: int,
    home: Path | None = None,
    warm: Path | None = None,
) -> None:
    """Arm the death signal, make sure `parent` did not die before it was armed, move into
    `home`, then run dbt warm (exiting with its status) or replace this process with
    `executable`."""
    die_with_parent()
    if os.getppid() != parent:  # orphaned already: the run that wanted the child is gone
        raise SystemExit(f"ddrc: the run that started {executable.name} is gone; not started")
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        os.chdir(home)
    if warm is not None:
        from ddrc_platform.transform import warm as warm_dbt

        status = warm_dbt.run(warm_dbt.socket_path(warm), args, prepared_parses(args))
        if status is not None:
            sys.exit(status)
    os.execv(executable, [str(executable), *args])


def prepared_parses(args: Sequence[str]) -> list[Path]:
    """The prepared parse (`./ddrc prepare`, the image build) of the target `args` name:
    what a warm server starting for them compiles from (`warm.compile_from_parse`). Only
    that target's: each parse adds about 2 s to the server's start."""
    if "--target" not in args[:-1]:
        return []
    target = args[args.index("--target") + 1]
    parse = DBT_PROJECT_DIR / shared_parse_folder(target) / PARTIAL_PARSE_FILE
    return [parse] if parse.is_file() else []


def main(argv: Sequence[str]) -> None:
    args, flags = list(argv), {}
    while args and args[0].startswith((HOME_FLAG, WARM_FLAG)):
        name, _, value = args.pop(0).partition("=")
        flags[name + "="] = Path(value)
    become(dbt_executable(), args, os.getppid(), flags.get(HOME_FLAG), flags.get(WARM_FLAG))


if __name__ == "__main__":
    main(sys.argv[1:])
