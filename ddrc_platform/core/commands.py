"""The shell commands a responder is told to run, spelt with the verbs `./ddrc` parses.

Runbooks, incidents and the README name commands; each one is built here from the same
verb and flag names `cli.py` gives argparse, so renaming a verb breaks a test rather than a
responder's fix (tests/test_runbook_commands.py runs every command they name). Nothing
here imports Dagster's definitions: the incident runbooks use it, and the definitions
import the runbooks.
"""

from __future__ import annotations

from collections.abc import Sequence

DDRC = "./ddrc"
RUN = "run"
RELOAD = "reload"
VERSIONS = "versions"
ROLLBACK = "rollback"
INCIDENTS = "incidents"
DBT = "dbt"
SELECT = "--select"
TO = "--to"
RELEASE = "--release"
DOWNSTREAM = "+"  # after a key in `--select`: the key and everything below it
RAW_PREFIX = "raw/"  # a source's asset key is `raw/` + its path in the catalog


def source_name(raw_key: str) -> str:
    """A raw table's key without its `raw/` prefix: what `./ddrc reload` takes."""
    return raw_key.removeprefix(RAW_PREFIX)


def reload(raw_key: str) -> str:
    """Today's snapshot of one source, and everything below it through the usual checks."""
    return f"{DDRC} {RELOAD} {source_name(raw_key)}"


def run(keys: Sequence[str] = (), downstream: bool = False) -> str:
    """The pipeline for today's partition: all of it, or these assets (and what lies below)."""
    if not keys:
        return f"{DDRC} {RUN}"
    selection = ",".join(f"{k}{DOWNSTREAM}" if downstream else k for k in keys)
    return f"{DDRC} {RUN} {SELECT} '{selection}'"


def rollback(to: str | None = None) -> str:
    return f"{DDRC} {ROLLBACK}" + (f" {TO} {to}" if to else "")


def release() -> str:
    return f"{DDRC} {ROLLBACK} {RELEASE}"


def versions() -> str:
    return f"{DDRC} {VERSIONS}"


def incidents(incident_id: str | None = None) -> str:
    return f"{DDRC} {INCIDENTS}" + (f" show {incident_id}" if incident_id else "")


def dbt_build(model: str) -> str:
    """dbt by hand on this deployment's warehouse, with the vars the pipeline passes."""
    return f"{DDRC} {DBT} build {SELECT} {model}"
