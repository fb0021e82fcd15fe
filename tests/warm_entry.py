"""A stand-in for dbt's command line in the warm server's tests: what a child sees, and a
child that waits to be interrupted or killed."""

from __future__ import annotations

import gc
import json
import os
import sys
import time


def main(args: list[str]) -> int:
    if args[0] == "echo":
        seen = {
            "cwd": os.getcwd(),
            "probe": os.environ.get("DDRC_PROBE"),
            "args": args,
            "imports_frozen": gc.get_freeze_count() > 0,  # the server's, before its fork
        }
        print(json.dumps({**seen, "stdin": sys.stdin.readline().strip()}))
        print("to stderr", file=sys.stderr)
        return int(args[1])
    print(f"ready {os.getpid()}", flush=True)
    time.sleep(300)
    return 0
