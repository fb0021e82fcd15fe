"""Making an earlier public version live again, and keeping it live until released.

A rollback the next scheduled run undoes is no fix: `rollback` restores a version the
public has seen and **pins** it (`Publisher.set_pin`, beside the file), and the publish
asset holds while a pin is set. `release` lifts the pin; the next publish then goes
through the usual checks. Both run as the job `ddrc_rollback` (launchable from the UI;
`./ddrc rollback` launches the same job), which records the restored version on the
publish asset and the pin in the incident store.
"""

from collections.abc import Callable
from datetime import datetime

import dagster as dg
from pydantic import Field

from ddrc_platform.core.names import GATE_CHECK, PUBLISH_KEY, PUBLISH_POOL, ROLLBACK_JOB
from ddrc_platform.defs.incidents.slack_resource import IncidentSlackResource
from ddrc_platform.incidents.model import FailureKind
from ddrc_platform.publish import document as publication
from ddrc_platform.publish.targets.base import Pin, Publisher
from ddrc_platform.settings import Settings

RELEASE_HINT = (
    "release with `./ddrc rollback --release` or the job ddrc_rollback with release: true"
)


class RollbackError(RuntimeError):
    """There is nothing (or no such version) to roll back to; nothing changed."""


def previous_public_version(publisher: Publisher) -> str:
    """The newest history version whose content is not the live file's."""
    current = publisher.current()
    live = publication.content_hash(current)[:12] if current else None
    earlier = [v for v in publisher.versions() if not v.endswith(f"-{live}.json")]
    if not earlier:
        raise RollbackError("no earlier version to roll back to")
    return earlier[-1]


def rollback(publisher: Publisher, to: str | None, at: datetime, by: str) -> Pin:
    """Make a public version live again (recorded as a new history version) and pin it.

    The pin is set before the file is replaced, so a publish starting meanwhile already
    holds rather than overwriting the restored file.
    """
    if to is None:
        to = previous_public_version(publisher)
    elif to not in publisher.versions():
        raise RollbackError(f"no version {to!r}; see `./ddrc versions`")
    content = publisher.version(to)
    publication.validate(content)
    pin = Pin(to, publication.content_hash(content), at, by)
    publisher.set_pin(pin)
    if publisher.current() != content:
        publisher.publish(content, at)
    return pin


def release(publisher: Publisher) -> Pin | None:
    """Lift the pin (the one lifted, or None if there was none)."""
    pin = publisher.pin()
    publisher.set_pin(None)
    return pin


class RollbackConfig(dg.Config):
    to: str | None = Field(
        default=None,
        description="History version to restore (`./ddrc versions`); default: the previous "
        "public version.",
    )
    release: bool = Field(
        default=False,
        description="Lift the pin instead: the next publish goes through the usual checks.",
    )


def build_rollback_job(settings: Settings, clock: Callable[[], datetime]) -> dg.JobDefinition:
    """The job. Its incidents concern the public file only, which carries every published
    metric: the file's key is all the graph its incident desk needs."""
    from ddrc_platform.defs.incidents.desk import make_desk

    graph = dg.Definitions(assets=[dg.AssetSpec(PUBLISH_KEY)])

    @dg.op(
        pool=PUBLISH_POOL,  # never interleaved with a publish step
        description="Restores a published version and pins it (publishing holds), or releases "
        "the pin; records it on publish/ddrc_metrics_json and in the incident store.",
    )
    def rollback_publication(
        context: dg.OpExecutionContext,
        config: RollbackConfig,
        publisher: dg.ResourceParam[Publisher],
        slack: IncidentSlackResource,
    ) -> None:
        run_url = f"{settings.webserver_url}/runs/{context.run_id}"
        desk = make_desk(settings, graph, publisher, slack)
        if config.release:
            pin = release(publisher)
            if pin is None:
                context.log.info("nothing was pinned")
                return
            note = f"Pin released ({pin.describe()}): the next publish goes through the checks."
            context.log_event(
                dg.AssetObservation(
                    asset_key=PUBLISH_KEY,
                    metadata={"pin": "released", "released_version": pin.version},
                )
            )
        else:
            pin = rollback(publisher, config.to, clock(), by=f"run {context.run_id}")
            note = f"Rolled back: {pin.describe()}; publishing holds ({RELEASE_HINT})."
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=PUBLISH_KEY,
                    description=note,
                    metadata={
                        "status": "rolled back",
                        "version": pin.version,
                        "content_hash": pin.content_hash,
                        "pinned": pin.describe(),
                    },
                )
            )
            # the hold itself is an incident (the one a pinned publish run reports), so
            # responders see the pin where they look, until the gate passes again
            desk.report(
                FailureKind.PUBLICATION_HELD,
                [PUBLISH_KEY],
                run_id=context.run_id,
                run_url=run_url,
                error=note,
                check_name=GATE_CHECK,
            )
        context.log.info(note)
        desk.note_open_incidents(f"{note} Run: {run_url}")

    @dg.job(
        name=ROLLBACK_JOB,
        description="Roll the public ddrc-metrics.json back to a version the public has seen "
        "(default: the previous one) and pin it; `release: true` lifts the pin.",
    )
    def ddrc_rollback() -> None:
        rollback_publication()

    return ddrc_rollback
