"""The asset `publish/ddrc_metrics_json` and the jump check that guards it."""

from collections.abc import Callable, Iterator
from datetime import datetime

import dagster as dg

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
from ddrc_platform.publish import document as publication
from ddrc_platform.publish.checks import (
    PublicationHeldError,
    PublishVerificationError,
    failed_blocking_checks,
    find_jumps,
    jump_check_result,
    load_acknowledgements,
    verify_published,
)
from ddrc_platform.publish.rollback import RELEASE_HINT, build_rollback_job
from ddrc_platform.publish.targets.base import Pin, Publisher
from ddrc_platform.settings import Settings
from ddrc_platform.warehouse.base import Warehouse

# The public file is as fresh as the summary must be: the strictest of its sources'
# windows (the same rule the translator gives every model).
PUBLISH_FRESHNESS = catalog.strictest_freshness(catalog.RAW_TABLES)

# Published when the summary changed and every blocking check on it passed (or runs in
# the same run: a check that fails there stops the publish step).
PUBLISH_CONDITION = (
    dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
)


def read_summary(warehouse: Warehouse, relation: str) -> list[publication.Metric]:
    rows = warehouse.query(f"select * from {relation}").to_pylist()
    return publication.metrics_from_rows(rows)


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
        return jump_check_result(jumps, settings.jump_max_fraction)

    return no_unacknowledged_jumps


def build_publish_asset(
    summary_relation: str,
    publisher_kind: str,
    clock: Callable[[], datetime],
    blocking_checks: list[dg.AssetCheckKey],
) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISH_KEY,
        deps=[SUMMARY_KEY],
        group_name=PUBLISH_GROUP,
        kinds={"json", publisher_kind},
        owners=OWNERS,
        description=(
            "**The public contract**: `ddrc-metrics.json`, read by the DDRC website. Built from "
            "the metrics summary only when every blocking check on it passed, validated against "
            "`ddrc_platform/publish/schemas/ddrc-metrics.schema.json` "
            "(docs/published-contract.md), written atomically, every version "
            "kept in `history/`, re-read and compared with the summary after writing; unchanged "
            "content is not republished. Roll back (and pin) with the job `ddrc_rollback` or "
            "`./ddrc rollback`; while pinned, publishing holds."
        ),
        metadata={"summary": summary_relation, "json_schema": "ddrc-metrics.schema.json"},
        tags={"ddrc/layer": "publish"},
        pool=PUBLISH_POOL,  # one publish step at a time, whatever run it is in (deploy/)
        freshness_policy=PUBLISH_FRESHNESS,
        automation_condition=PUBLISH_CONDITION,
        check_specs=[
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
        ],
    )
    def ddrc_metrics_json(
        context: dg.AssetExecutionContext,
        analytics: dg.ResourceParam[Warehouse],
        publisher: dg.ResourceParam[Publisher],
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        failed = failed_blocking_checks(context.instance, blocking_checks)
        pin = publisher.pin()
        held = [f"held: {pin.describe()}; {RELEASE_HINT}"] if pin else []
        held += [f"failed: {', '.join(failed)}"] if failed else []
        yield dg.AssetCheckResult(
            check_name=GATE_CHECK,
            passed=not held,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(held) or "all passed",
        )
        if pin is not None:
            yield from hold_pinned(publisher, pin)
            return
        if failed:
            raise PublicationHeldError(
                f"blocking checks on the summary failed ({', '.join(failed)}): nothing "
                "published, the public file is unchanged"
            )
        metrics = read_summary(analytics, summary_relation)
        content = publication.render(metrics)
        publication.validate(content)  # before anything is written
        previous = publisher.current()
        changes = publication.diff(previous, content)
        digest = publication.content_hash(content)
        metadata: dict[str, dg.RawMetadataValue] = {
            "metric_count": len(metrics),
            "content_hash": digest,
            "diff": dg.MetadataValue.md(publication.diff_markdown(changes)),
            "added": sum(c.kind == "added" for c in changes),
            "removed": sum(c.kind == "removed" for c in changes),
            "changed": sum(c.kind == "changed" for c in changes),
        }
        if previous is not None and publication.content_hash(previous) == digest:
            context.log.info("ddrc-metrics.json unchanged; not republished")
            metadata["status"] = "unchanged"
        else:
            published = publisher.publish(content, clock())
            context.log.info(f"published {len(metrics)} metrics to {published.location}")
            metadata |= {
                "status": "published",
                "location": published.location,
                "version": published.version,
            }
        yield dg.MaterializeResult(metadata=metadata)
        try:
            verify_published(publisher.current(), content)
        except PublishVerificationError as error:
            yield dg.AssetCheckResult(check_name=VERIFY_CHECK, passed=False, description=str(error))
            raise
        yield dg.AssetCheckResult(
            check_name=VERIFY_CHECK,
            passed=True,
            description=f"the published file is the summary's {len(metrics)} metrics",
        )

    return ddrc_metrics_json


def hold_pinned(
    publisher: Publisher, pin: Pin
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """A pinned file is not overwritten; the run confirms it is still the pinned version.

    Materialized (status `pinned`), not failed: the hold is deliberate, and the public file
    is confirmed as intended, so it does not turn stale while a rollback stands.
    """
    current = publisher.current()
    digest = publication.content_hash(current) if current else None
    yield dg.MaterializeResult(
        metadata={
            "status": "pinned",
            "pinned": pin.describe(),
            "version": pin.version,
            "content_hash": digest or "(no file)",
        }
    )
    yield dg.AssetCheckResult(
        check_name=VERIFY_CHECK,
        passed=digest == pin.content_hash,
        description=f"the published file is the pinned version {pin.version}"
        if digest == pin.content_hash
        else f"the published file is not the pinned version {pin.version}: roll back again",
    )


def build_publish_defs(
    settings: Settings,
    dbt: dg.AssetsDefinition,
    publisher_kind: str,
    clock: Callable[[], datetime],
) -> dg.Definitions:
    """The public file, gated on every blocking check of the summary (dbt's and the jump)."""
    from ddrc_platform.transform.assets import blocking_check_keys, summary_relation

    summary = summary_relation(dbt)
    jump_check = build_jump_check(settings, summary)
    blocking = [*blocking_check_keys(dbt, SUMMARY_KEY), *jump_check.check_keys]
    return dg.Definitions(
        assets=[build_publish_asset(summary, publisher_kind, clock, blocking)],
        asset_checks=[jump_check],
        jobs=[build_rollback_job(settings, clock)],
    )
