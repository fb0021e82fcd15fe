"""After `./ddrc rollback --release`, the next automation tick publishes through the usual
checks, with no one launching a run; never while pinned, and never twice (issue 18)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core.names import GATE_CHECK, PUBLISH_KEY, ROLLBACK_JOB, VERIFY_CHECK
from ddrc_platform.definitions import build_definitions
from ddrc_platform.defs.publish.public_file import PIN_RELEASE_KEY
from ddrc_platform.publish.targets.local import LocalPublisher
from ddrc_platform.settings import load_settings
from tests.support import BUILT_AT, BUILT_SCALE, instance_knowing, run_pipeline

pytestmark = pytest.mark.slow

LATER = BUILT_AT + dt.timedelta(hours=1)  # the same Pacific day as the built home


def requested(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor: object, minutes: int
) -> tuple[set[dg.AssetKey], object]:
    """One automation tick: the assets it requests, and its cursor."""
    tick = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=LATER + dt.timedelta(minutes=minutes), cursor=cursor
    )
    keys = {r.key for r in tick.results if r.true_subset.size and isinstance(r.key, dg.AssetKey)}
    return keys, tick.cursor


def rollback(defs: dg.Definitions, instance: dg.DagsterInstance, **config: object) -> None:
    result = defs.resolve_job_def(ROLLBACK_JOB).execute_in_process(
        instance=instance, run_config={"ops": {"rollback_publication": {"config": config}}}
    )
    assert result.success


def test_a_release_publishes_at_the_next_tick_once(home_copy: Path) -> None:
    settings = load_settings({"DDRC_HOME": str(home_copy), "DDRC_SAMPLE_SCALE": BUILT_SCALE})
    publisher = LocalPublisher(directory=str(settings.publish_dir))
    defs = build_definitions(settings, clock=lambda: LATER)
    # the instance knows what the built home holds, and that the summary's blocking checks
    # passed when it was built
    instance = instance_knowing(defs)
    graph = defs.resolve_asset_graph()
    for check in graph.asset_check_keys:
        if graph.get_check_spec(check).blocking:
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(check.asset_key, check.name, passed=True)
            )
    _, cursor = requested(defs, instance, None, 0)

    rollback(defs, instance, to=publisher.versions()[0])
    assert publisher.pin() is not None
    pinned, cursor = requested(defs, instance, cursor, 1)
    assert PUBLISH_KEY not in pinned  # nothing may publish while pinned

    rollback(defs, instance, release=True)
    assert publisher.pin() is None
    assert instance.get_latest_materialization_event(PIN_RELEASE_KEY) is not None
    released, cursor = requested(defs, instance, cursor, 2)
    assert released == {PUBLISH_KEY}

    _, result = run_pipeline(settings, instance, LATER, selection=[PUBLISH_KEY])
    assert result.success
    checked = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checked[GATE_CHECK] and checked[VERIFY_CHECK]  # through the usual checks
    after, _ = requested(defs, instance, cursor, 3)
    assert after == set()  # the publish does not trigger itself
