"""The one Definitions of the DDRC platform: wiring only.

Dagster autoloads each stage from `defs/` (one folder per stage of the data's path, plus the
deployment's resources on one screen in `defs/resources.py`); this module binds the
deployment they are built for (`build.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import dagster as dg

from ddrc_platform.build import Build, bound
from ddrc_platform.core.names import utc_now
from ddrc_platform.integrations.dagster import load_defs_folder
from ddrc_platform.settings import Settings, load_settings


def build_definitions(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> dg.Definitions:
    """The graph for one deployment; `clock` lets tests and backfills fix "now"."""
    with bound(Build(settings, clock)):
        return load_defs_folder(Path(__file__).parent)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
