"""The shared automation conditions (`core/automation.py`) on a graph of three assets: what
they request, tick by tick, against a real (ephemeral) instance's runs."""

from __future__ import annotations

import dagster as dg

from ddrc_platform.core.automation import loads_settled, no_publication_in_flight
from ddrc_platform.core.names import FIRST_LOAD_DATE, daily_partitions

LOADS = [dg.AssetKey(["raw", "a"]), dg.AssetKey(["raw", "b"])]
DAILY = daily_partitions(FIRST_LOAD_DATE)


@dg.asset(key=LOADS[0], partitions_def=DAILY)
def raw_a() -> None: ...


@dg.asset(key=LOADS[1], partitions_def=DAILY)
def raw_b() -> None: ...


@dg.asset(
    deps=[LOADS[0]],
    automation_condition=dg.AutomationCondition.missing() & loads_settled(LOADS),
)
def model() -> None: ...


PUBLISH = dg.AssetKey(["publish", "file"])


@dg.asset(key=PUBLISH, deps=[model])
def publish() -> None: ...


@dg.asset(
    deps=[model],
    automation_condition=dg.AutomationCondition.missing() & no_publication_in_flight(PUBLISH),
)
def history() -> None: ...


DEFS = dg.Definitions(assets=[raw_a, raw_b, model, publish, history])


def requested(instance: dg.DagsterInstance, key: dg.AssetKey = model.key) -> int:
    result = dg.evaluate_automation_conditions(defs=DEFS, instance=instance)
    return result.get_num_requested(key)


def test_a_model_waits_while_any_source_load_is_in_flight_then_runs_once():
    """Another source's load (not the model's own input) holds it, for any day."""
    with dg.DagsterInstance.ephemeral() as instance:
        assert requested(instance) == 1
        job = DEFS.resolve_implicit_global_asset_job_def()
        run = instance.create_run_for_job(
            job,
            asset_selection=frozenset({LOADS[1]}),
            tags={"dagster/partition": "2025-03-01"},
            status=dg.DagsterRunStatus.STARTED,
        )
        assert requested(instance) == 0
        instance.report_run_failed(run)  # a failed load is no longer in flight
        assert requested(instance) == 1


def test_the_history_waits_while_a_publishing_run_still_reports_its_fold():
    """A run that publishes folds today's history in and reports it after its parent: no
    tick in between may ask for the history again."""
    with dg.DagsterInstance.ephemeral() as instance:
        assert requested(instance, history.key) == 1
        job = DEFS.resolve_implicit_global_asset_job_def()
        run = instance.create_run_for_job(
            job, asset_selection=frozenset({model.key, PUBLISH}), status=dg.DagsterRunStatus.STARTED
        )
        assert requested(instance, history.key) == 0
        instance.report_run_failed(run)
        assert requested(instance, history.key) == 1
