"""The job `ddrc_rollback`: restore a published version and pin it, or release the pin.

What a rollback does is `ddrc_platform/publish/rollback.py`; this job records it on the
publish asset and wires the incident desk in as the rollback's responders, so the domain
never imports incidents. `./ddrc rollback` runs this same job in-process.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import dagster as dg
from pydantic import Field

from ddrc_platform.build import current
from ddrc_platform.core.names import GATE_CHECK, PUBLISH_KEY, PUBLISH_POOL, ROLLBACK_JOB
from ddrc_platform.defs.incidents.desk import make_desk
from ddrc_platform.defs.incidents.slack_resource import IncidentSlackResource
from ddrc_platform.defs.publish.public_file import PIN_RELEASE_KEY
from ddrc_platform.incidents import FailureKind, IncidentDesk
from ddrc_platform.publish.rollback import RollbackDone, roll_back_or_release, tell_responders
from ddrc_platform.publish.targets.base import Publisher
from ddrc_platform.settings import Settings


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


@dataclass(frozen=True)
class DeskResponders:
    """The incident desk as a rollback's responders, with the run that did it."""

    desk: IncidentDesk
    run_id: str
    run_url: str

    def report_hold(self, note: str) -> None:
        self.desk.report(
            FailureKind.PUBLICATION_PINNED,
            [PUBLISH_KEY],
            run_id=self.run_id,
            run_url=self.run_url,
            error=note,
            check_name=GATE_CHECK,
        )

    def note(self, text: str) -> None:
        self.desk.note_open_incidents(text)


def rollback_events(
    done: RollbackDone,
) -> list[dg.AssetMaterialization | dg.AssetObservation]:
    """A rollback changes the public file (a materialization); a release only the pin, on
    the file's page (an observation) and as the pin release the next publish waits for."""
    if done.released:
        metadata = {"pin": "released", "released_version": done.pin.version}
        return [
            dg.AssetObservation(asset_key=PUBLISH_KEY, metadata=metadata),
            dg.AssetMaterialization(asset_key=PIN_RELEASE_KEY, metadata=metadata),
        ]
    rolled_back = dg.AssetMaterialization(
        asset_key=PUBLISH_KEY,
        description=done.note,
        metadata={
            "status": "rolled back",
            "version": done.pin.version,
            "content_hash": done.pin.content_hash,
            "pinned": done.pin.describe(),
        },
    )
    return [rolled_back]


def build_rollback_job(settings: Settings, clock: Callable[[], datetime]) -> dg.JobDefinition:
    """The job. Its incidents concern the public file only, which carries every published
    metric: the file's key is all the graph its incident desk needs."""
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
        done = roll_back_or_release(
            publisher, to=config.to, lift=config.release, at=clock(), by=f"run {context.run_id}"
        )
        if done is None:
            context.log.info("nothing was pinned")
            return
        for event in rollback_events(done):
            context.log_event(event)
        tell_responders(done, DeskResponders(desk, context.run_id, run_url), run_url)
        # the responders read it in the incident's thread now, not at the sensor's next tick
        delivery = desk.deliver()
        for incident_id, error in delivery.failed.items():
            context.log.warning(
                f"incident {incident_id} not told yet (the sensor retries): {error}"
            )
        context.log.info(done.note)

    @dg.job(
        name=ROLLBACK_JOB,
        description="Roll the public ddrc-metrics.json back to a version the public has seen "
        "(default: the previous one) and pin it; `release: true` lifts the pin.",
    )
    def ddrc_rollback() -> None:
        rollback_publication()

    return ddrc_rollback


@dg.definitions
def rollback() -> dg.Definitions:
    build = current()
    return dg.Definitions(jobs=[build_rollback_job(build.settings, build.clock)])
