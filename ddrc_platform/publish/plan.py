"""What a publish step does once the gate lets it through, and what a pinned step confirms.

Plain values in, plain values out: the asset in `defs/publish/` fetches the inputs (the
summary, the live file, the pin) and turns these results into Dagster events, so every
decision here is tested without a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ddrc_platform.publish import document as publication
from ddrc_platform.publish.targets.base import Pin, Published, Publisher
from ddrc_platform.warehouse.base import Warehouse


def read_summary(warehouse: Warehouse, relation: str) -> list[publication.Metric]:
    rows = warehouse.query(f"select * from {relation}").to_pylist()
    return publication.metrics_from_rows(rows)


@dataclass(frozen=True)
class Plan:
    """The document the summary makes, and what it changes for the public."""

    content: bytes  # rendered and validated: nothing invalid ever reaches a publisher
    metric_count: int
    changes: list[publication.Change]
    unchanged: bool  # the live file already holds these bytes
    # the live file is not the newest history version: a publish was killed between its
    # two writes, and that public version would never be a rollback target
    repair_history: bool = False

    @property
    def diff_markdown(self) -> str:
        return publication.diff_markdown(self.changes)

    def metadata(
        self, published: Published | None, repaired: str | None = None
    ) -> dict[str, str | int]:
        """What the materialization records; `published` is None when nothing was written,
        `repaired` the history copy written for a live file that had none."""
        outcome: dict[str, str | int] = (
            {"status": "unchanged"}
            if published is None
            else {
                "status": "published",
                "location": published.location,
                "version": published.version,
            }
        )
        return (
            {
                "metric_count": self.metric_count,
                "content_hash": publication.content_hash(self.content),
                "diff": self.diff_markdown,
                "added": sum(c.kind == "added" for c in self.changes),
                "removed": sum(c.kind == "removed" for c in self.changes),
                "changed": sum(c.kind == "changed" for c in self.changes),
            }
            | outcome
            | ({"repaired_history": repaired} if repaired else {})
        )


def history_lacks_live(live: bytes | None, newest_version: bytes | None) -> bool:
    """Whether the live file went public without its history copy.

    Every publish (and rollback) ends with the live file's copy as the newest history
    version, so anything else means one was killed between its two writes. Compared by
    content hash: a name can be right while its content is not.
    """
    if live is None:
        return False
    return newest_version is None or (
        publication.content_hash(newest_version) != publication.content_hash(live)
    )


def newest_version(publisher: Publisher) -> bytes | None:
    """The newest history version's content (names sort by time), None for no history."""
    names = publisher.versions()
    return publisher.version(names[-1]) if names else None


def plan_publication(
    metrics: list[publication.Metric], live: bytes | None, newest_version: bytes | None = None
) -> Plan:
    """Render and validate before anything is written; compare with what the public sees
    and with the newest history version (`newest_version`), to repair a half publish."""
    content = publication.render(metrics)
    publication.validate(content)
    return Plan(
        content=content,
        metric_count=len(metrics),
        changes=publication.diff(live, content),
        unchanged=live is not None
        and publication.content_hash(live) == publication.content_hash(content),
        repair_history=history_lacks_live(live, newest_version),
    )


@dataclass(frozen=True)
class Outcome:
    published: Published | None  # None: the content was unchanged
    repaired: str | None  # the history copy written for the live file that lacked one


def carry_out(plan: Plan, publisher: Publisher, clock: Callable[[], datetime]) -> Outcome:
    """Repair first, then publish: the version the public saw until now enters the history
    (named by when it went live) before a new one replaces it. Unchanged content is not
    republished, so every history version is one the public saw change."""
    if plan.unchanged and not plan.repair_history:
        return Outcome(None, None)
    now = clock()
    repaired = publisher.copy_live_to_history(now) if plan.repair_history else None
    published = None if plan.unchanged else publisher.publish(plan.content, now)
    return Outcome(published, repaired)


def outcome_lines(plan: Plan, outcome: Outcome) -> list[str]:
    """What the step logs: the repair first (a responder looks for it), then the publish."""
    lines = []
    if outcome.repaired:
        lines.append(
            f"repaired the history: the live file had no history copy (a publish was "
            f"interrupted between its two writes); added {outcome.repaired}"
        )
    if outcome.published is None:
        lines.append(f"{publication.FILE_NAME} unchanged; not republished")
    else:
        lines.append(f"published {plan.metric_count} metrics to {outcome.published.location}")
    return lines


@dataclass(frozen=True)
class PinnedHold:
    """A pinned file is not overwritten; the step confirms it still is the pinned version.

    Materialized (status `pinned`), not failed: the hold is deliberate, and the public file
    is confirmed as intended, so it does not turn stale while a rollback stands.
    """

    pin: Pin
    live_hash: str | None  # None: no live file

    @property
    def intact(self) -> bool:
        return self.live_hash == self.pin.content_hash

    def describe(self) -> str:
        if self.intact:
            return f"the published file is the pinned version {self.pin.version}"
        return f"the published file is not the pinned version {self.pin.version}: roll back again"

    def metadata(self) -> dict[str, str]:
        return {
            "status": "pinned",
            "pinned": self.pin.describe(),
            "version": self.pin.version,
            "content_hash": self.live_hash or "(no file)",
        }


def pinned_hold(pin: Pin, live: bytes | None) -> PinnedHold:
    return PinnedHold(pin, publication.content_hash(live) if live else None)
