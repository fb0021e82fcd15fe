"""The public file `ddrc-metrics.json`, its gate and checks, and the blocking checks the
publisher adds on the summary: the jump check and the public-values check.

The bodies here only translate: they fetch what `ddrc_platform/publish/` decides on (the
checks' latest evaluations, the pin, the summary, the live file) and turn its plain
results into Dagster events.
"""

from collections.abc import Callable, Iterator
from datetime import datetime

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.core import catalog
from ddrc_platform.core.names import (
    GATE_CHECK,
    JUMP_CHECK,
    OWNERS,
    PUBLISH_GROUP,
    PUBLISH_KEY,
    PUBLISH_POOL,
    SUMMARY_KEY,
    VERIFY_CHECK,
)
from ddrc_platform.integrations.dagster import failed_asset_checks
from ddrc_platform.publish.checks import (
    Gate,
    PublishVerificationError,
    find_jumps,
    jump_summary,
    load_acknowledgements,
    verify_published,
)
from ddrc_platform.publish.plan import (
    PinnedHold,
    Plan,
    carry_out,
    newest_version,
    outcome_lines,
    pinned_hold,
    plan_publication,
    read_summary,
)
from ddrc_platform.publish.public_values import (
    MAX_CLOCK_SKEW,
    PUBLIC_VALUES_CHECK,
    find_unsafe_values,
    unsafe_summary,
)
from ddrc_platform.publish.rollback import PIN_METADATA
from ddrc_platform.publish.targets.base import Publisher
from ddrc_platform.settings import Settings
from ddrc_platform.transform.assets import blocking_check_keys, summary_relation
from ddrc_platform.warehouse.base import Warehouse

# The public file is as fresh as the summary must be: the strictest of its sources'
# windows (the same rule the translator gives every model).
PUBLISH_FRESHNESS = catalog.strictest_freshness(catalog.RAW_TABLES)

# A release of the rollback's pin, as an asset of its own upstream of the publish: the
# rollback job materializes it when it lifts the pin (never when it sets one), so the next
# automation tick sees an updated input and publishes, through the usual checks, with no
# one launching a run. A publish does not update it, so it cannot re-trigger itself.
PIN_RELEASE_KEY = dg.AssetKey(["publish", "pin_release"])
PIN_RELEASE = dg.AssetSpec(
    PIN_RELEASE_KEY,
    group_name=PUBLISH_GROUP,
    owners=OWNERS,
    description="Materialized by the job `ddrc_rollback` each time it releases the pin "
    "(`./ddrc rollback --release`); the public file is published at the next automation "
    "tick, through the usual checks.",
)
_AC = dg.AutomationCondition
_RELEASE = dg.AssetSelection.assets(PIN_RELEASE_KEY)
# Published when the summary changed, or the pin was released since the last tick, and
# every blocking check on the summary passed, or the summary is built in the same run: its
# checks then run first, and one that fails stops the publish step (and its gate). Dagster's
# `all_deps_blocking_checks_passed` waits for checks that never ran, so an empty
# deployment's first summary published only a run later. Never released is not missing:
# most deployments never pin.
_CHECKS_PASSED_OR_REBUILT = _AC.all_deps_match(
    _AC.all_checks_match(_AC.check_passed() | _AC.will_be_requested(), blocking_only=True)
    | _AC.will_be_requested()
).with_label("blocking checks passed, or run with their asset")
# `eager()` counts a file missing at its first evaluation as handled: on an empty
# deployment whose loads end before the automation's first tick, the first summary would
# be published only at the tick after
_NEVER_PUBLISHED = (_AC.missing() & _AC.any_deps_updated() & ~_AC.in_progress()).with_label(
    "never published, its summary built"
)
PUBLISH_CONDITION = (
    _AC.eager().ignore(_RELEASE)
    | _NEVER_PUBLISHED
    | (_AC.any_deps_match(_AC.newly_updated()).allow(_RELEASE) & ~_AC.in_progress()).with_label(
        "pin released"
    )
) & _CHECKS_PASSED_OR_REBUILT


def build_jump_check(settings: Settings, summary_relation: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=SUMMARY_KEY,
        name=JUMP_CHECK,
        blocking=True,
        description=(
            "Blocks publication when a metric moves more than DDRC_JUMP_MAX_FRACTION "
            f"({settings.jump_max_fraction:.0%}) from the value the public sees now, or "
            "disappears, unless `config/acknowledgements.yaml` names the metric and new value."
        ),
    )
    def no_unacknowledged_jumps(
        analytics: dg.ResourceParam[Warehouse], publisher: dg.ResourceParam[Publisher]
    ) -> dg.AssetCheckResult:
        jumps = find_jumps(
            publisher.current(),
            read_summary(analytics, summary_relation),
            settings.jump_max_fraction,
            load_acknowledgements(settings.acknowledgements_path),
        )
        return dg.AssetCheckResult(
            check_name=JUMP_CHECK,
            passed=not jumps,
            severity=dg.AssetCheckSeverity.ERROR,
            description=jump_summary(jumps, settings.jump_max_fraction),
            metadata={"jumps": dg.MetadataValue.json([j.describe for j in jumps])},
        )

    return no_unacknowledged_jumps


def build_public_values_check(
    summary_relation: str, clock: Callable[[], datetime]
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=SUMMARY_KEY,
        name=PUBLIC_VALUES_CHECK,
        blocking=True,
        description=(
            "Blocks publication when a published text (METRIC_NAME, METRIC_TYPE, "
            "METRIC_UNIT_LABEL) is not plain text of bounded length (markup typed into "
            "Airtable would reach the website verbatim), or a LAST_UPDATED lies more than "
            f"{MAX_CLOCK_SKEW} in the future of the run's clock, or before the fires began."
        ),
    )
    def published_values_are_plain(analytics: dg.ResourceParam[Warehouse]) -> dg.AssetCheckResult:
        violations = find_unsafe_values(read_summary(analytics, summary_relation), clock())
        return dg.AssetCheckResult(
            check_name=PUBLIC_VALUES_CHECK,
            passed=not violations,
            severity=dg.AssetCheckSeverity.ERROR,
            description=unsafe_summary(violations),
            metadata={"violations": dg.MetadataValue.json([v.describe for v in violations])},
        )

    return published_values_are_plain


PUBLISH_DESCRIPTION = (
    "**The public contract**: `ddrc-metrics.json`, read by the DDRC website. Built from "
    "the metrics summary only when every blocking check on it passed, validated against "
    "`ddrc_platform/publish/schemas/ddrc-metrics.schema.json` "
    "(docs/published-contract.md), written atomically, every version "
    "kept in `history/`, re-read and compared with the summary after writing; unchanged "
    "content is not republished. Roll back (and pin) with the job `ddrc_rollback` or "
    "`./ddrc rollback`; while pinned, publishing holds."
)
PUBLISH_CHECKS = [
    dg.AssetCheckSpec(
        GATE_CHECK,
        asset=PUBLISH_KEY,
        description="Every blocking check on the summary passed at its latest "
        "evaluation, so even a manual publish cannot skip them.",
    ),
    dg.AssetCheckSpec(
        VERIFY_CHECK,
        asset=PUBLISH_KEY,
        description="The file the public reads, re-read after publishing, is exactly "
        "what the summary says.",
    ),
]


def build_publish_asset(
    summary_relation: str,
    publisher_kind: str,
    clock: Callable[[], datetime],
    blocking_checks: list[dg.AssetCheckKey],
) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISH_KEY,
        deps=[SUMMARY_KEY, PIN_RELEASE_KEY],
        group_name=PUBLISH_GROUP,
        kinds={"json", publisher_kind},
        owners=OWNERS,
        description=PUBLISH_DESCRIPTION,
        metadata={"summary": summary_relation, "json_schema": "ddrc-metrics.schema.json"},
        tags={"ddrc/layer": "publish"},
        pool=PUBLISH_POOL,  # one publish step at a time, whatever run it is in (deploy/)
        freshness_policy=PUBLISH_FRESHNESS,
        automation_condition=PUBLISH_CONDITION,
        check_specs=PUBLISH_CHECKS,
    )
    def ddrc_metrics_json(
        context: dg.AssetExecutionContext,
        analytics: dg.ResourceParam[Warehouse],
        publisher: dg.ResourceParam[Publisher],
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        failed = failed_asset_checks(context.instance, blocking_checks)
        gate = Gate(publisher.pin(), sorted(key.name for key in failed))
        yield dg.AssetCheckResult(
            check_name=GATE_CHECK,
            passed=gate.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=gate.describe(),
            metadata={PIN_METADATA: gate.pin.describe()} if gate.pin else {},
        )
        if gate.pin is not None:
            yield from pinned_results(pinned_hold(gate.pin, publisher.current()))
            return
        if gate.failed:
            raise gate.held_error()
        plan = plan_publication(
            read_summary(analytics, summary_relation),
            publisher.current(),
            newest_version(publisher),
        )
        outcome = carry_out(plan, publisher, clock)
        for line in outcome_lines(plan, outcome):
            context.log.info(line)
        # the diff keeps its place among the metadata, rendered as Markdown
        diff = dg.MetadataValue.md(plan.diff_markdown)
        metadata = plan.metadata(outcome.published, outcome.repaired)
        yield dg.MaterializeResult(metadata=metadata | {"diff": diff})
        yield from verification_results(publisher.current(), plan)

    return ddrc_metrics_json


def pinned_results(hold: PinnedHold) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    yield dg.MaterializeResult(metadata=hold.metadata())
    yield dg.AssetCheckResult(
        check_name=VERIFY_CHECK, passed=hold.intact, description=hold.describe()
    )


def verification_results(live: bytes | None, plan: Plan) -> Iterator[dg.AssetCheckResult]:
    """The failed check is recorded before the step fails, so the sensor reports the
    verification, not a bare step failure."""
    try:
        verify_published(live, plan.content)
    except PublishVerificationError as error:
        yield dg.AssetCheckResult(check_name=VERIFY_CHECK, passed=False, description=str(error))
        raise
    yield dg.AssetCheckResult(
        check_name=VERIFY_CHECK,
        passed=True,
        description=f"the published file is the summary's {plan.metric_count} metrics",
    )


@dg.definitions
def publish() -> dg.Definitions:
    """The public file, gated on every blocking check of the summary (dbt's, the jump and
    the public values)."""
    build = current()
    latest, _history = build.dbt_assets
    summary = summary_relation(latest)
    checks = [
        build_jump_check(build.settings, summary),
        build_public_values_check(summary, build.clock),
    ]
    blocking = [
        *blocking_check_keys(latest, SUMMARY_KEY),
        *(key for check in checks for key in check.check_keys),
    ]
    kind = build.resources["publisher"].kind
    return dg.Definitions(
        assets=[build_publish_asset(summary, kind, build.clock, blocking), PIN_RELEASE],
        asset_checks=checks,
    )
