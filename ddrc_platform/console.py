"""What `./ddrc run` shows: one line per finished step, the full log in a file.

Dagster's console logger prints every event of a run (about 600 lines for the whole graph);
a newcomer needs the handful that say what happened. This module is a Dagster logger that
writes every record to a log file under `$DDRC_HOME/logs/` and prints one line per
finished step (`raw/epa/public_status_assessment  20,000 rows  1.2 s`), a spinner while a
step runs (on a terminal only), and the warnings at the end.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import dagster as dg

from ddrc_platform.core.names import PUBLISH_KEY

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass
class _Step:
    started: float
    assets: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)


def _value(metadata: Mapping[str, Any], key: str) -> Any:
    entry = metadata.get(key)
    return getattr(entry, "value", entry)


class RunConsole(logging.Handler):
    """Receives every Dagster log record of one run; prints the few that matter."""

    def __init__(self, log_path: Path, out: TextIO | None = None) -> None:
        super().__init__(logging.DEBUG)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._file = log_path.open("w", encoding="utf-8")
        # the stdout of the moment, not of the import (a caller may have redirected it since)
        out = out or sys.stdout
        self._out = out
        self._steps: dict[str, _Step] = {}
        self._lock = threading.Lock()
        self._running: str | None = None
        self._tty = out.isatty()
        self.warnings: list[str] = []
        self.failures: list[str] = []
        self.lines = 0
        if self._tty:
            threading.Thread(target=self._spin, daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        step = meta.get("step_key")
        self._file.write(f"{record.levelname:7} {step or '-':40} {record.getMessage()}\n")
        event = meta.get("dagster_event")
        if record.levelno >= logging.WARNING and event is None:
            first_line = (meta.get("orig_message") or record.getMessage()).strip().splitlines()
            message = first_line[0] if first_line else ""
            if message.startswith("Dependencies for step"):
                self._print(f"  skipped   {step} (an upstream step failed)")
            else:
                self.warnings.append(f"{step or 'run'}: {message}")
        if event is None or (step is None and event.event_type_value != "PIPELINE_FAILURE"):
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self._steps[step] = _Step(time.perf_counter())
            self._running = step
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            key = materialization.asset_key.to_user_string()
            self._steps[step].assets.append((key, materialization.metadata))
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                self._steps[step].checks_passed += 1
            else:
                self._steps[step].checks_failed.append(evaluation.check_name)
        elif kind == "STEP_SUCCESS":
            self._print(self._summary(step, ok=True))
        elif kind == "STEP_FAILURE":
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:  # the user code's own error
                error = error.cause
            message = (error.message if error else "").strip().splitlines()
            self.failures.append(f"{step}: {message[0] if message else 'failed'}")
            self._print(self._summary(step, ok=False))

    def _summary(self, step: str, ok: bool) -> str:
        self._running = None
        state = self._steps.get(step) or _Step(time.perf_counter())
        seconds = time.perf_counter() - state.started
        mark = "ok    " if ok else "FAILED"
        failed = f", {len(state.checks_failed)} failed" if state.checks_failed else ""
        if len(state.assets) > 1:  # the dbt step: many models in one
            what = (
                f"dbt: {len(state.assets)} models built, {state.checks_passed} tests passed{failed}"
            )
        elif state.assets:
            key, metadata = state.assets[0]
            what = f"{key:44} {self._detail(key, metadata)}"
        elif state.checks_passed or state.checks_failed:
            what = f"check {step}: {state.checks_passed} passed{failed}"
        else:
            what = step
        return f"  {mark}    {what:78} {seconds:6.1f} s"

    @staticmethod
    def _detail(key: str, metadata: Mapping[str, Any]) -> str:
        if key == PUBLISH_KEY.to_user_string():
            status = _value(metadata, "status")
            return (
                f"{_value(metadata, 'metric_count')} metrics, {status}, "
                f"{_value(metadata, 'changed')} changed"
            )
        rows = _value(metadata, "dagster/row_count")
        unchanged = " (unchanged)" if _value(metadata, "unchanged") else ""
        return f"{rows:,} rows{unchanged}" if isinstance(rows, int) else ""

    def _print(self, line: str) -> None:
        with self._lock:
            if self._tty:
                self._out.write("\r\033[K")
            self._out.write(line + "\n")
            self._out.flush()
            self.lines += 1

    def _spin(self) -> None:
        for frame in itertools.cycle(_SPINNER):
            time.sleep(0.1)
            running = self._running
            if running:
                with self._lock:
                    self._out.write(f"\r\033[K  {frame}         {running} …")
                    self._out.flush()

    def warning_summary(self, limit: int = 5) -> list[str]:
        """Distinct warnings, most frequent first, each with how often it came."""
        counts: dict[str, int] = {}
        for warning in self.warnings:
            counts[warning[:110]] = counts.get(warning[:110], 0) + 1
        ranked = sorted(counts.items(), key=lambda item: -item[1])
        lines = [f"{text}{f' ({n} times)' if n > 1 else ''}" for text, n in ranked[:limit]]
        if len(ranked) > limit:
            lines.append(f"... and {len(ranked) - limit} other warnings in the log")
        return lines

    def finish(self) -> None:
        """Close the log file once the run is over.

        Not `close()`: Dagster's instance reconfigures Python logging when it starts a run
        (`logging.config.dictConfig`), which calls `close()` on every handler it knows.
        """
        self._file.close()


def console_logger(console: RunConsole) -> dg.LoggerDefinition:
    """A Dagster logger whose records go to `console`, for one in-process run."""

    @dg.logger(description="One line per finished step; everything to the run's log file.")
    def ddrc_console(_init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("ddrc.run", logging.DEBUG)
        logger.addHandler(console)
        return logger

    return ddrc_console


@contextmanager
def warnings_into(console: RunConsole) -> Iterator[None]:
    """Python's warnings to `console` (the log file and the summary), not the screen.

    Process-wide while it lasts (the `py.warnings` logger), so for one run only, and put
    back as it was afterwards.
    """
    logger = logging.getLogger("py.warnings")
    propagate = logger.propagate
    logging.captureWarnings(True)
    logger.addHandler(console)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(console)
        logger.propagate = propagate
        logging.captureWarnings(False)
