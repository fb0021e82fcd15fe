"""When an asset with no change to react to still has to run: it was never built.

Dagster's `eager()` counts what is missing at its first evaluation as handled (it only
runs what goes missing later), so on an empty deployment a seed, a source no sensor
watches, or a model whose inputs arrive before the automation sees them stay missing for
good: nothing upstream changes again. This runs such an asset once its inputs exist, and
never one whose inputs do not (an absent relation fails the run and pages for nothing).
"""

from __future__ import annotations

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
