"""ddrc-metrics.json: the public contract, built from the summary and checked before it leaves.

The bytes are deterministic (metrics sorted by name, values with exactly two decimals,
timestamps in one format), so "unchanged" is a hash comparison and every published
version is identified by its content hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).parent / "schemas" / "ddrc-metrics.schema.json"
FILE_NAME = "ddrc-metrics.json"
KEYS = (
    "METRIC_NAME",
    "METRIC_VALUE",
    "METRIC_TYPE",
    "METRIC_UNIT_LABEL",
    "UPDATE_FREQUENCY",
    "LAST_UPDATED",
)
CENT = Decimal("0.01")


class PublicationError(ValueError):
    """The document would break the public contract; nothing was published."""


@dataclass(frozen=True)
class Metric:
    name: str
    value: Decimal
    type: str
    unit_label: str
    update_frequency: str
    last_updated: datetime  # UTC


def format_timestamp(moment: datetime) -> str:
    """`2025-08-21T17:04:35.000+00:00`, the format the website has always read."""
    if moment.tzinfo is None:  # the warehouse keeps naive UTC
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def metrics_from_rows(rows: list[dict[str, Any]]) -> list[Metric]:
    """Summary rows (lower-case or upper-case column names) to metrics."""
    metrics = []
    for row in rows:
        r = {k.lower(): v for k, v in row.items()}
        metrics.append(
            Metric(
                name=r["metric_name"],
                value=Decimal(str(r["metric_value"])).quantize(CENT, ROUND_HALF_UP),
                type=r["metric_type"],
                unit_label=r["metric_unit_label"],
                update_frequency=r["update_frequency"],
                last_updated=r["last_updated"],
            )
        )
    return metrics


def render(metrics: list[Metric]) -> bytes:
    """One JSON array, one object per metric, keys upper case, values with two decimals."""
    objects = []
    for m in sorted(metrics, key=lambda m: m.name):
        fields = [
            json.dumps(m.name),
            f"{m.value:.2f}",
            json.dumps(m.type),
            json.dumps(m.unit_label),
            json.dumps(m.update_frequency),
            json.dumps(format_timestamp(m.last_updated)),
        ]
        objects.append(
            "  {" + ", ".join(f'"{k}": {v}' for k, v in zip(KEYS, fields, strict=True)) + "}"
        )
    return ("[\n" + ",\n".join(objects) + "\n]\n").encode()


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def validate(content: bytes) -> list[dict]:
    """Parse and validate a document; raise PublicationError saying what and where."""
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        raise PublicationError(f"{FILE_NAME} is not valid JSON: {exc}") from None
    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(document), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(document)"
        raise PublicationError(
            f"{FILE_NAME} breaks its JSON Schema at {where}: {errors[0].message}"
            + (f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else "")
        )
    names = [item["METRIC_NAME"] for item in document]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PublicationError(f"{FILE_NAME} names metrics twice: {', '.join(duplicates)}")
    return document


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class Change:
    metric: str
    old: float | None
    new: float | None

    @property
    def kind(self) -> str:
        return "added" if self.old is None else "removed" if self.new is None else "changed"


def diff(previous: bytes | None, current: bytes) -> list[Change]:
    """What the public will see change: added, removed and changed metric values."""
    old = {m["METRIC_NAME"]: m for m in json.loads(previous)} if previous else {}
    new = {m["METRIC_NAME"]: m for m in json.loads(current)}
    changes = [
        Change(name, old[name]["METRIC_VALUE"] if name in old else None, new[name]["METRIC_VALUE"])
        for name in sorted(new)
        if name not in old or old[name] != new[name]
    ]
    changes += [Change(name, old[name]["METRIC_VALUE"], None) for name in sorted(old.keys() - new)]
    return changes


def diff_markdown(changes: list[Change]) -> str:
    if not changes:
        return "No change."

    def show(value: float | None) -> str:
        return "—" if value is None else f"{value:,.2f}"

    lines = ["| metric | change | old | new |", "|---|---|---:|---:|"]
    lines += [f"| `{c.metric}` | {c.kind} | {show(c.old)} | {show(c.new)} |" for c in changes]
    return "\n".join(lines)
