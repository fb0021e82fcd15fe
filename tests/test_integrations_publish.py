"""The Dagster internal the publish gate asks, checked so an upgrade that moves it fails here.

`failed_asset_checks` reads the event log storage of the instance (not public in Dagster
1.13); the gate holds publication on what it answers, so it is tested on a real instance
with real check evaluations.
"""

# no `from __future__ import annotations`: Dagster reads the config annotation when it defines
# the asset
from collections.abc import Iterator

import dagster as dg

from ddrc_platform.integrations.dagster import failed_asset_checks

KEY = dg.AssetKey("summary")


class Outcome(dg.Config):
    fail: bool


@dg.asset(
    key=KEY,
    check_specs=[dg.AssetCheckSpec("passes", asset=KEY), dg.AssetCheckSpec("fails", asset=KEY)],
)
def summary(config: Outcome) -> Iterator[dg.Output | dg.AssetCheckResult]:
    yield dg.Output(None)
    yield dg.AssetCheckResult(check_name="passes", passed=True)
    yield dg.AssetCheckResult(check_name="fails", passed=not config.fail)


def test_failed_asset_checks_names_exactly_the_checks_whose_latest_evaluation_failed():
    instance = dg.DagsterInstance.ephemeral()
    passes, fails = (dg.AssetCheckKey(KEY, name) for name in ("passes", "fails"))
    never_run = dg.AssetCheckKey(KEY, "never_run")
    assert failed_asset_checks(instance, [passes, fails, never_run]) == []
    for fail, failed in ((True, [fails]), (False, [])):  # the latest evaluation counts
        config = {"ops": {"summary": {"config": {"fail": fail}}}}
        assert dg.materialize([summary], instance=instance, run_config=config).success
        assert failed_asset_checks(instance, [passes, fails, never_run]) == failed
    assert failed_asset_checks(instance, []) == []
