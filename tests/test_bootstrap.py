"""An empty deployment reaches its first publication by itself (issue 18 item 1).

Nobody launches a run: the watch sensors' first requests and the automation sensor's ticks,
evaluated deterministically on an empty home (no materialization) and executed as the
daemon would, tick by tick until nothing more is requested. The file published must be the
one the full job publishes (the session's built home, same time and scale); no requested
run may fail, and no asset may be requested before every asset it reads exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core.names import PIPELINE_JOB, WATCH_SENSOR_PREFIX
from ddrc_platform.definitions import build_definitions
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.settings import load_settings
from tests.support import BUILT_AT, BUILT_SCALE

pytestmark = pytest.mark.slow

MAX_TICKS = 12  # a bootstrap takes a few; more means automation keeps asking for work


def published(home: Path) -> list[dict]:
    return json.loads((home / "publish" / FILE_NAME).read_bytes())


def watch_requests(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    """Each watch sensor's first tick (no cursor): the loads a fresh deployment starts with."""
    requests = []
    for sensor in defs.sensors or []:
        if not sensor.name.startswith(WATCH_SENSOR_PREFIX):
            continue
        context = dg.build_sensor_context(instance=instance, cursor=None, definitions=defs)
        for request in sensor.evaluate_tick(context).run_requests or []:
            keys = request.asset_selection or list(
                sensor.asset_selection.resolve(defs.resolve_asset_graph())
            )
            requests.append(request.with_replaced_attrs(asset_selection=keys))
    return requests


def automation_requests(
    result: dg.EvaluateAutomationConditionsResult, graph: dg.AssetGraph
) -> dict[str | None, set[dg.AssetKey]]:
    """What one automation tick asks for, by partition (one run per partition)."""
    runs: dict[str | None, set[dg.AssetKey]] = {}
    for key in graph.get_all_asset_keys():
        for partition in result.get_requested_partitions(key):
            runs.setdefault(partition, set()).add(key)
    return runs


def missing_inputs(
    keys: set[dg.AssetKey], graph: dg.AssetGraph, instance: dg.DagsterInstance
) -> dict[dg.AssetKey, list[dg.AssetKey]]:
    """Requested assets whose upstream assets (outside this run) were never materialized."""
    gaps = {}
    for key in keys:
        absent = [
            parent
            for parent in graph.get(key).parent_keys
            if parent not in keys
            and graph.get(parent).is_materializable
            and instance.get_latest_materialization_event(parent) is None
        ]
        if absent:
            gaps[key] = absent
    return gaps


def execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    keys: set[dg.AssetKey],
    partition: str | None,
) -> list[str]:
    """One requested run, as the daemon launches it; the errors of its failed steps."""
    run = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        asset_selection=sorted(keys),
        partition_key=partition,
    )
    return [e.step_failure_data.error.message for e in run.all_events if e.is_step_failure]


@dataclass
class Bootstrap:
    """What happened: the failed runs' errors, assets requested before their inputs existed,
    and what each automation tick asked for."""

    failed: list[str] = field(default_factory=list)
    early: dict[dg.AssetKey, list[dg.AssetKey]] = field(default_factory=dict)
    ticks: list[dict] = field(default_factory=list)


def automation_tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor, seen: Bootstrap
) -> tuple[object, bool]:
    """One automation tick and the runs it requests, executed; (cursor, requested any)."""
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def(PIPELINE_JOB)
    result = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=BUILT_AT, cursor=cursor
    )
    runs = automation_requests(result, graph)
    if runs:
        seen.ticks.append({p: sorted(k.to_user_string() for k in ks) for p, ks in runs.items()})
    for partition, keys in runs.items():
        seen.early.update(missing_inputs(keys, graph, instance))
        seen.failed += execute(job, instance, keys, partition)
    return result.cursor, bool(runs)


def bootstrap(home: Path, automation_first: bool) -> Bootstrap:
    """An empty home with its sensors on, until the automation asks for nothing more.

    `automation_first`: the automation sensor ticks before the sources' first loads end
    (in the daemon the sensors start together; either may come first).
    """
    settings = load_settings({"DDRC_HOME": str(home), "DDRC_SAMPLE_SCALE": BUILT_SCALE})
    defs = build_definitions(settings, clock=lambda: BUILT_AT)
    job = defs.resolve_job_def(PIPELINE_JOB)
    seen = Bootstrap()
    with dg.DagsterInstance.ephemeral() as instance:
        cursor = None
        if automation_first:
            cursor, _ = automation_tick(defs, instance, cursor, seen)
        for request in watch_requests(defs, instance):  # every source in one load run
            seen.failed += execute(
                job, instance, set(request.asset_selection), request.partition_key
            )
        for _ in range(MAX_TICKS):
            cursor, requested = automation_tick(defs, instance, cursor, seen)
            if not requested:
                return seen
    pytest.fail(f"automation still requests work after {MAX_TICKS} ticks: {seen.ticks[-1]}")


@pytest.mark.parametrize(
    "automation_first",
    [
        False,
        True,
    ],
    ids=["loads-first", "automation-first"],
)
def test_an_empty_deployment_publishes_by_itself(
    built_home: Path, tmp_path: Path, automation_first: bool
) -> None:
    home = tmp_path / "ddrc"
    seen = bootstrap(home, automation_first)
    assert not seen.failed, seen.failed
    assert not seen.early, {k.to_user_string(): v for k, v in seen.early.items()}
    assert seen.ticks, "automation requested nothing"
    assert (home / "publish" / FILE_NAME).exists(), seen.ticks
    assert published(home) == published(built_home), seen.ticks
    # what needs no source first, if the automation ticks before the loads end; then
    # everything else at one tick, the publish with its summary (whose checks run first)
    assert len(seen.ticks) == (2 if automation_first else 1), seen.ticks
