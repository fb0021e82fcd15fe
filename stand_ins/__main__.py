"""Serve every public source from sample data on 127.0.0.1, for `DDRC_SOURCES=live` offline.

    uv run python -m stand_ins --scale 1 [--day 2025-06-02]

Prints one JSON line with the environment variables that point the live clients at the
stand-ins, then serves until it receives SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from datetime import date

from stand_ins.sources import serve_sample_sources


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m stand_ins")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--day", type=date.fromisoformat, default=date.today())
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with serve_sample_sources(day=args.day, scale=args.scale) as live:
        print(json.dumps(live.env), flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
