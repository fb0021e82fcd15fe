"""The shared automation conditions (`core/automation.py`) and the publication's, on small
graphs: what they request, tick by tick, against a real (ephemeral) instance's runs."""

from __future__ import annotations

import dagster as dg

from ddrc_platform.core.automation import loads_settled, no_publication_in_flight
from ddrc_platform.core.names import FIRST_LOAD_DATE, PUBLISH_KEY, SUMMARY_KEY, daily_partitions
from ddrc_platform.defs.publish.public_file import PIN_RELEASE, PIN_RELEASE_KEY, PUBLISH_CONDITION

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


PUBLISH = dg.AssetKey(["publish", "file"])  # a stand-in: no condition of its own


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


# -- the publication's condition (defs/publish/public_file.py), on a summary and its check

CHECK_PASSES = [True]
SOURCE = dg.AssetKey(["raw", "source"])


@dg.asset(key=SOURCE)
def source() -> None: ...


@dg.asset(key=SUMMARY_KEY, deps=[SOURCE], automation_condition=dg.AutomationCondition.eager())
def summary() -> None: ...


# a check of its own definition, as the jump check is: the automation never asks for it,
# its asset's runs run it
@dg.asset_check(asset=SUMMARY_KEY, blocking=True)
def floor() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=CHECK_PASSES[0])


@dg.asset(
    key=PUBLISH_KEY, deps=[SUMMARY_KEY, PIN_RELEASE_KEY], automation_condition=PUBLISH_CONDITION
)
def public_file() -> None: ...


PUBLISHING = dg.Definitions(
    assets=[source, summary, PIN_RELEASE, public_file], asset_checks=[floor]
)


def tick(instance: dg.DagsterInstance, cursor=None):
    return dg.evaluate_automation_conditions(defs=PUBLISHING, instance=instance, cursor=cursor)


def test_a_first_summary_is_published_in_its_own_run():
    """On an empty deployment the summary's blocking checks have never run: the publish
    is asked for with the summary (its checks run first), not a run later."""
    with dg.DagsterInstance.ephemeral() as instance:
        cursor = tick(instance).cursor
        dg.materialize([source], instance=instance)
        result = tick(instance, cursor)
        assert result.get_num_requested(SUMMARY_KEY) == 1
        assert result.get_num_requested(PUBLISH_KEY) == 1


def test_a_summary_whose_blocking_check_failed_is_not_published():
    with dg.DagsterInstance.ephemeral() as instance:
        cursor = tick(instance).cursor
        CHECK_PASSES[0] = False
        try:
            dg.materialize([source, summary, floor], instance=instance, raise_on_error=False)
        finally:
            CHECK_PASSES[0] = True
        result = tick(instance, cursor)
        assert result.get_num_requested(PUBLISH_KEY) == 0
        dg.materialize([summary, floor], instance=instance)  # fixed
        assert tick(instance, result.cursor).get_num_requested(PUBLISH_KEY) == 1
