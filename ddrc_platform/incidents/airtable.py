"""The Airtable entries behind a held publication: "revert the Airtable entry" made concrete.

A manual metric changes when someone edits its entry in Airtable; the raw table
(`AIRTABLE.METRICS`, as Fivetran or the local loader lands it) says who and when. For each
affected manual metric whose latest entry differs from what the public sees, the responder
gets the published value, the new one, who changed it, when, and a link to the record.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ddrc_platform.core import catalog

_TABLE = catalog.AIRTABLE_METRICS
# the rows `entry_changes` reads, in any warehouse the raw table lands in
ENTRIES_QUERY = (
    'select "ID", "METRIC", "METRIC_MODIFIED_BY", "DATE_METRIC_MODIFIED", "DATE_CREATED", '
    '"METRIC_MACHINE_NAME_FROM_METRIC_DEFINITION_" as "NAME" '
    f"from {_TABLE.schema}.{_TABLE.table}"
)


def _first(value: Any) -> Any:
    """A lookup field: an array of one value (JSON text locally, a list or VARIANT text)."""
    if isinstance(value, str) and value.startswith("["):
        value = json.loads(value)
    return value[0] if isinstance(value, list) and value else value


def _person(value: Any) -> str:
    """A collaborator field: {"id", "email", "name"} (JSON text in the warehouse), by name."""
    if isinstance(value, str) and value.startswith("{"):
        value = json.loads(value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("email") or value.get("id"))
    return str(value or "unknown")


def _number(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return repr(value)


def record_url(base_id: str | None, table: str, record_id: str) -> str | None:
    return f"https://airtable.com/{base_id}/{table}/{record_id}" if base_id else None


def entry_changes(
    rows: Iterable[Mapping[str, Any]],
    published: bytes | None,
    metrics: Collection[str],
    base_id: str | None,
    table: str,
) -> list[str]:
    """One line per metric in `metrics` whose latest Airtable entry is not what is published.

    `rows`: the raw table's entries as `ENTRIES_QUERY` reads them. "Latest" as the summary
    takes it: the newest `DATE_CREATED` with a `METRIC` set.
    """
    latest: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        name = _first(row["NAME"])
        if name not in metrics or row["METRIC"] in (None, ""):
            continue
        if name not in latest or str(row["DATE_CREATED"]) > str(latest[name]["DATE_CREATED"]):
            latest[name] = row
    public = {m["METRIC_NAME"]: m["METRIC_VALUE"] for m in json.loads(published or b"[]")}
    lines = []
    for name, row in sorted(latest.items()):
        before = public.get(name)
        if before is not None and _number(before) == _number(row["METRIC"]):
            continue
        shown = "not published" if before is None else _number(before)
        line = (
            f"Airtable entry {row['ID']} ({name}): published {shown} → new "
            f"{_number(row['METRIC'])}, changed by {_person(row['METRIC_MODIFIED_BY'])} "
            f"at {row['DATE_METRIC_MODIFIED'] or 'unknown time'}"
        )
        url = record_url(base_id, table, row["ID"])
        lines.append(f"{line}; {url}" if url else line)
    return lines
