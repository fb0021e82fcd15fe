"""The one Definitions of the DDRC platform: wiring only.

Dagster autoloads each stage from `defs/` (one folder per stage of the data's path, plus the
deployment's resources on one screen in `defs/resources.py`); this module binds the
deployment they are built for (`build.py`). Building has no side effects: what a process
needs before it loads the definitions, `enter` does once, at an entry (`defs()` here,
`./ddrc` in `cli.py`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import dagster as dg

from ddrc_platform.build import Build, bound
from ddrc_platform.core.names import pacific_date, utc_now
from ddrc_platform.integrations.dagster import load_defs_folder
from ddrc_platform.partitions import record_first_live_day
from ddrc_platform.settings import Settings, load_settings
from ddrc_platform.transform.assets import home_dbt_vars
from ddrc_platform.transform.project import dbt_project, prepare_home, prepare_manifest

# what `[tool.dg.project]` in pyproject.toml says, for `dg` (root_module + ".defs")
DEFS_MODULE = "ddrc_platform.defs"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def enter(settings: Settings, runs_dbt: bool = True) -> None:
    """Once per process, before the definitions load: the effect they must not have.

    The deployment's dbt manifest is parsed when missing or out of date: building only
    reads it. Here as well as in `./ddrc`, because `dg dev`, `dg check defs` and the code
    servers start from `defs()`, on a fresh clone too. A second load finds it prepared and
    parses nothing. The home's own parse too (`prepare_home`), so that no run of it parses
    the whole project; skipped (`runs_dbt=False`) by a command that starts no dbt: a
    rollback at 2 a.m. must not wait for a parse. A local live home records its first live
    day, where its partitions start from then on (`partitions.py`).
    """
    record_first_live_day(settings, pacific_date(utc_now()))
    target = settings.deployment.value
    prepare_manifest(dbt_project(target), warm=settings.dbt_warm)
    if runs_dbt:
        prepare_home(
            target,
            home_dbt_vars(settings),
            settings.home,
            settings.dbt_target_path,
            settings.dbt_warm,
        )


def build_definitions(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> dg.Definitions:
    """The graph for one deployment; `clock` lets tests and backfills fix "now"."""
    with bound(Build(settings, clock)):
        return load_defs_folder(DEFS_MODULE, PROJECT_ROOT)


def kept_for_the_process(defs: dg.Definitions) -> dg.Definitions:
    """The definitions of a process that holds them until it exits (a code server, a run's
    worker), moved out of the garbage collector's sight.

    Most of their 300,000-odd objects are the dbt manifest's, and every full collection
    walked them all: a whole run spent a second of its seven there, an automation
    evaluation half its time (`./ddrc bench`, docs/dbt-invocations.md). Not for a process
    that builds definitions again and again (the tests): frozen objects are never freed.
    """
    gc.freeze()  # no `gc.collect()` first: 0.15 s of every load, to free ~100 objects
    return defs


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    enter(settings)
    return kept_for_the_process(build_definitions(settings))
