"""When an asset with no change to react to still has to run: it was never built.

Dagster's `eager()` counts what is missing at its first evaluation as handled (it only
runs what goes missing later), so on an empty deployment a seed, a source no sensor
watches, or a model whose inputs arrive before the automation sees them stay missing for
good: nothing upstream changes again. This runs such an asset once its inputs exist, and
never one whose inputs do not (an absent relation fails the run and pages for nothing).
And when a model with something to react to waits: while a source load is in flight.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable

import dagster as dg

AC = dg.AutomationCondition

# not while one runs, and not again after a failed run (the reconcile or a fix retries it:
# a broken seed must not fail once per automation tick)
_SETTLED = ~AC.in_progress() & ~AC.any_deps_in_progress() & ~AC.execution_failed()


def built_once() -> dg.AutomationCondition:
    """Missing (today's partition, for a daily one) and every input present."""
    return (
        AC.in_latest_time_window() & AC.missing() & ~AC.any_deps_missing() & _SETTLED
    ).with_label("never built, inputs present")


def code_changed() -> dg.AutomationCondition:
    """A deployed change of its own code (a rule): rebuilt, once its inputs exist."""
    return (AC.code_version_changed() & ~AC.any_deps_missing() & _SETTLED).with_label(
        "code changed, inputs present"
    )


def loads_settled(loaders: Iterable[dg.AssetKey]) -> dg.AutomationCondition:
    """No source load queued or running, for any day.

    The models wait for a burst of loads to end, then one run builds what they changed:
    on an empty deployment nine loads arriving one tick apart would otherwise start dbt
    nine times, each run queuing behind the others on the one warehouse writer; two sources
    changing together take one downstream run, not two. A load takes seconds, so the wait
    costs the public file little; a failed load is no longer in progress and holds nothing.
    """
    busy = [AC.asset_matches(key, AC.in_progress()) for key in loaders]
    return (~functools.reduce(operator.or_, busy)).with_label("no source load in flight")


def no_publication_in_flight(publish: dg.AssetKey) -> dg.AutomationCondition:
    """No run that publishes is queued or running.

    For the history, which a latest-state build folds in (`defs/transform/dbt_assets.py`):
    Dagster sees it built only when its materialization is reported, just after its parent's,
    and a tick falling between the two would ask for the day again (a second dbt start).
    The publish step comes after every dbt event of its run, so while it is in progress
    the fold is still being reported.
    """
    return (~AC.asset_matches(publish, AC.in_progress())).with_label("no publication in flight")
