"""Checks that decide what reaches the public: the jump check, the gate, the verification.

dbt's tests guard the summary's shape and floors; these guard what only the publisher
can know: how the numbers compare with what the public already sees, whether every
blocking check on the summary passed (a manual publish must not skip them), and whether
what was published really is what the summary says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from ddrc_platform.publish import document as publication
from ddrc_platform.publish.rollback import RELEASE_HINT
from ddrc_platform.publish.targets.base import Pin


class PublicationHeldError(RuntimeError):
    """A blocking check failed: nothing is published, the previous file stays."""


class PublishVerificationError(RuntimeError):
    """What was published differs from the summary: the public file may be wrong."""


@dataclass(frozen=True)
class Jump:
    metric: str
    old: Decimal
    new: Decimal | None  # None: the metric disappeared

    @property
    def describe(self) -> str:
        if self.new is None:
            return f"{self.metric}: published {self.old:,.2f} but missing from the summary"
        return f"{self.metric}: {self.old:,.2f} → {self.new:,.2f}"


def load_acknowledgements(path: Path) -> dict[str, Decimal | None]:
    """metric -> the acknowledged new value (None acknowledges a removal).

    The file lives in the repository, so acknowledging a jump is a reviewed change.
    """
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    acknowledged = {}
    for entry in data.get("acknowledged") or []:
        value = entry.get("value")
        acknowledged[entry["metric"]] = None if value is None else Decimal(str(value))
    return acknowledged


def find_jumps(
    published: bytes | None,
    metrics: list[publication.Metric],
    max_fraction: float,
    acknowledged: dict[str, Decimal | None],
) -> list[Jump]:
    """Metrics that moved more than `max_fraction` from their published value, or vanished."""
    if not published:
        return []
    old = {m["METRIC_NAME"]: Decimal(str(m["METRIC_VALUE"])) for m in json.loads(published)}
    new = {m.name: m.value for m in metrics}
    jumps = []
    for name, before in old.items():
        after = new.get(name)
        if after is None:
            jumps.append(Jump(name, before, None))
        elif before == 0:
            if after != 0:
                jumps.append(Jump(name, before, after))
        elif abs(after - before) / abs(before) > Decimal(str(max_fraction)):
            jumps.append(Jump(name, before, after))
    return [
        j
        for j in jumps
        if j.metric not in acknowledged
        or (
            acknowledged[j.metric] != j.new
            and not (j.new is None and acknowledged[j.metric] is None)
        )
    ]


def jump_summary(jumps: list[Jump], max_fraction: float) -> str:
    """What the jump check tells a responder, including how to let a right value through."""
    if not jumps:
        return f"No metric moved more than {max_fraction:.0%} from its published value."
    return (
        f"{len(jumps)} metric(s) moved more than {max_fraction:.0%} or vanished; "
        "if the new values are right, acknowledge them in config/acknowledgements.yaml: "
        + "; ".join(j.describe for j in jumps)
    )


@dataclass(frozen=True)
class Gate:
    """What holds a publish before the summary is even read: a rollback's pin, or failed checks.

    dbt builds the summary before testing it, so a failed test leaves a bad table behind:
    reading the table is not enough, the publisher must ask the checks (`failed`).
    """

    pin: Pin | None
    failed: list[str]  # blocking checks on the summary whose latest evaluation failed

    @property
    def reasons(self) -> list[str]:
        held = [f"held: {self.pin.describe()}; {RELEASE_HINT}"] if self.pin else []
        return held + ([f"failed: {', '.join(self.failed)}"] if self.failed else [])

    @property
    def passed(self) -> bool:
        return not self.reasons

    def describe(self) -> str:
        return "; ".join(self.reasons) or "all passed"

    def held_error(self) -> PublicationHeldError:
        return PublicationHeldError(
            f"blocking checks on the summary failed ({', '.join(self.failed)}): nothing "
            "published, the public file is unchanged"
        )


def verify_published(published: bytes | None, expected: bytes) -> None:
    """Re-read what the public gets and compare it with what the summary says."""
    if published is None:
        raise PublishVerificationError("ddrc-metrics.json is missing right after publishing")
    if published != expected:
        changes = publication.diff(expected, published)
        detail = "; ".join(f"{c.metric} {c.kind}" for c in changes[:10]) or "bytes differ"
        raise PublishVerificationError(
            f"the published ddrc-metrics.json differs from the summary ({detail})"
        )
