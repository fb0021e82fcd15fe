"""The City of Malibu's rebuild dashboard: four JSON list endpoints on a flaky server.

Production needed up to ten tries with exponential backoff to get through, so the
client's patience is its own setting (`DDRC_MALIBU_TRIES`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ddrc_platform.ingest.sources.http import SourceClient, SourceDataError

if TYPE_CHECKING:
    import pyarrow as pa


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Columns in first-seen order across all rows; a column with only nulls stays text."""
    import pyarrow as pa

    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {}
    for name in names:
        array = pa.array([row.get(name) for row in rows])
        columns[name] = array.cast(pa.string()) if pa.types.is_null(array.type) else array
    return pa.table(columns)


def fetch_endpoint(client: SourceClient, url: str) -> pa.Table:
    import pyarrow as pa

    payload = client.get_json(url)
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise client.error(url, "expected a JSON array of objects")
    try:
        return rows_to_table(payload)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SourceDataError(client.title, url, f"inconsistent value types: {exc}") from None
