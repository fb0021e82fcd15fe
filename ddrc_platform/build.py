"""What the stages under `defs/` are built for: one deployment's settings, clock and resources.

Dagster autoloads `defs/` (`dg.load_from_defs_folder`); each stage there reads the
deployment it builds for from here. `definitions.py` binds it, so a test or a backfill can
build the whole graph for its own settings and "now" through the same autoload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ddrc_platform.core.names import pacific_date, utc_now
from ddrc_platform.partitions import deployment_partitions
from ddrc_platform.settings import Settings, load_settings

if TYPE_CHECKING:
    import dagster as dg


@dataclass
class Build:
    settings: Settings
    clock: Callable[[], datetime] = field(default=utc_now)

    @cached_property
    def resources(self) -> dict[str, Any]:
        from ddrc_platform.resources import build_resources

        return build_resources(self.settings)

    @cached_property
    def partitions(self) -> dg.DailyPartitionsDefinition:
        """The daily partitions every partitioned asset shares (`partitions.py`)."""
        return deployment_partitions(self.settings, pacific_date(self.clock()))

    @cached_property
    def dbt_assets(self) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
        """(latest state, history): built once, read by the transform and publish stages."""
        from ddrc_platform.defs.transform.dbt_assets import build_dbt_assets

        kind = self.resources["warehouse"].kind
        return build_dbt_assets(self.settings, kind, self.partitions, self.clock)


_BOUND: ContextVar[Build | None] = ContextVar("ddrc_build", default=None)


@contextmanager
def bound(build: Build) -> Iterator[Build]:
    token = _BOUND.set(build)
    try:
        yield build
    finally:
        _BOUND.reset(token)


def current() -> Build:
    """The build `definitions.py` bound; the environment's when `defs/` is loaded on its own."""
    build = _BOUND.get()
    if build is None:
        build = Build(load_settings())
        _BOUND.set(build)
    return build
