"""Whether a delivery may replace the kept data: empty and shrinking deliveries are decided.

An ArcGIS layer answering 0 features, a Malibu endpoint answering `[]`, an Airtable table
come back empty: each is far more often an outage or a botched rebuild upstream than the
truth, and accepting it replaces today's snapshot (or the current state) with nothing —
the metrics then quietly fall back to older rows. So a delivery with no rows, or one that
lost more than its source's `max_shrink` fraction of the last kept rows, fails the load and
the kept data stays. A layer that really was emptied or cut is accepted by a reviewed entry
under `deliveries:` in config/acknowledgements.yaml naming the source and the exact row
count, as metric jumps are acknowledged.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ddrc_platform.core.catalog import RawTable


class DeliveryRefusedError(ValueError):
    """A delivery is empty or shrank too much; the earlier snapshot is kept."""


def load_delivery_acknowledgements(path: Path) -> dict[str, set[int]]:
    """source name -> acknowledged row counts, from the `deliveries:` section."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    acknowledged: dict[str, set[int]] = {}
    for entry in data.get("deliveries") or []:
        acknowledged.setdefault(entry["source"], set()).add(int(entry["rows"]))
    return acknowledged


def decide_delivery(
    table: RawTable, rows: int, kept_rows: int | None, acknowledged: dict[str, set[int]]
) -> None:
    """Raise `DeliveryRefusedError` for an empty or shrunken delivery not acknowledged."""
    if rows in acknowledged.get(table.name, set()):
        return
    how = (
        f"add `{{source: {table.name}, rows: {rows}, by: ..., reason: ...}}` under "
        "`deliveries:` in config/acknowledgements.yaml (a reviewed change)"
    )
    kept = "no earlier load" if kept_rows is None else f"{kept_rows} rows kept"
    if rows == 0:
        raise DeliveryRefusedError(
            f"{table.title} ({table.path}) delivered no rows ({kept}): refused, the kept data "
            f"stays. If the source really is empty now, {how}."
        )
    if kept_rows and rows < kept_rows * (1 - table.max_shrink):
        raise DeliveryRefusedError(
            f"{table.title} ({table.path}) delivered {rows} rows, {1 - rows / kept_rows:.0%} "
            f"fewer than the {kept_rows} kept (more than its limit of {table.max_shrink:.0%}): "
            f"refused, the kept data stays. If the drop is real, {how}."
        )
