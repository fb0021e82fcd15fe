"""A stand-in for the Airtable REST API's list-records endpoints, enough for pyairtable.

pyairtable 3.x lists a table with `GET /v0/{base}/{table}` (`pageSize`, `offset`, ...)
and switches to `POST /v0/{base}/{table}/listRecords` with a JSON body when the URL
would pass 16,000 characters; it follows `offset` until a page comes without one.
Airtable checks the token before anything else (401), answers an unknown base or
table with 404 `{"error": "NOT_FOUND"}`, and rejects an offset it did not issue with
422. Sorting by fields (`sort[i][field]`, `sort[i][direction]`) is served, as the change
signal asks for the newest entry; filters and field selection are refused here rather
than ignored, so a client that relies on them fails loudly instead of receiving
unfiltered rows.
"""

from __future__ import annotations

import threading
import zlib
from itertools import count
from urllib.parse import unquote

from stand_ins.base import Request, Response, StandIn

PAGE_SIZE = 100  # Airtable's default and maximum
_UNSUPPORTED = ("filterByFormula", "fields", "returnFieldsByFieldId")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _error(status: int, kind: str, message: str) -> Response:
    return Response.json({"error": {"type": kind, "message": message}}, status=status)


def _table_id(name: str) -> str:
    """A stable `tbl...` id for a table name, as Airtable gives every table one."""
    number = zlib.crc32(name.encode()) * 7919 + 1
    digits = []
    for _ in range(14):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "tbl" + "".join(digits)


def _sorted(records: list[dict], params: dict) -> list[dict]:
    """Records in `sort[i]` order (as text; empty values last, as Airtable lists them)."""
    keys = []
    for i in range(len(params)):
        field = params.get(f"sort[{i}][field]")
        if field is None:
            break
        keys.append((field, params.get(f"sort[{i}][direction]", "asc") == "desc"))
    for field, descending in reversed(keys):  # stable sorts, least significant key first
        present = [r for r in records if r["fields"].get(field) not in (None, "")]
        empty = [r for r in records if r["fields"].get(field) in (None, "")]
        present.sort(key=lambda r: str(r["fields"][field]), reverse=descending)
        records = present + empty
    return records


class AirtableServer(StandIn):
    """One base with one table of records, behind a personal access token."""

    def __init__(
        self,
        token: str,
        base_id: str,
        table_name: str,
        records: list[dict],
        *,
        table_id: str | None = None,
    ) -> None:
        super().__init__()
        self.token, self.base_id, self.table_name = token, base_id, table_name
        self.table_id = table_id or _table_id(table_name)
        self._iterators = count(1)
        self._records_lock = threading.Lock()
        self.set_records(records)

    def set_records(self, records: list[dict]) -> None:
        """Replace the table's content (records in the order the API lists them)."""
        with self._records_lock:
            self._records = list(records)
            self._position = {r["id"]: i for i, r in enumerate(self._records)}

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        parts = [unquote(p) for p in request.path.split("/") if p]
        if (
            len(parts) < 3
            or parts[0] != "v0"
            or parts[1] != self.base_id
            or parts[2] not in (self.table_name, self.table_id)
        ):
            return Response.json({"error": "NOT_FOUND"}, status=404)
        rest = parts[3:]
        if request.method == "GET" and not rest:
            return self._list(request.query)
        if request.method == "POST" and rest == ["listRecords"]:
            body = request.json() or {}
            if not isinstance(body, dict):
                return _error(422, "INVALID_REQUEST_UNKNOWN", "Invalid request body")
            return self._list({**request.query, **body})
        if request.method == "GET" and len(rest) == 1:
            with self._records_lock:
                position = self._position.get(rest[0])
                record = None if position is None else self._records[position]
            if record is None:
                return _error(404, "MODEL_ID_NOT_FOUND", "Could not find what you are looking for")
            return Response.json(record)
        return Response.json({"error": "NOT_FOUND"}, status=404)

    def _list(self, params: dict) -> Response:
        refused = [p for p in params if p.split("[")[0] in _UNSUPPORTED]
        if refused:
            return _error(
                422, "INVALID_REQUEST_UNKNOWN", f"not supported by this stand-in: {refused}"
            )
        invalid = _error(
            422,
            "INVALID_REQUEST_UNKNOWN",
            "Invalid request: parameter validation failed. Check your request data.",
        )
        try:
            page_size = int(params.get("pageSize", PAGE_SIZE))
            max_records = int(params["maxRecords"]) if params.get("maxRecords") else None
        except (TypeError, ValueError):
            return invalid
        if not 1 <= page_size <= PAGE_SIZE or (max_records is not None and max_records < 1):
            return invalid
        with self._records_lock:
            records, start = _sorted(self._records, params), 0
            if params.get("offset"):
                after = str(params["offset"]).rsplit("/", 1)[-1]
                start = next((i for i, r in enumerate(records) if r["id"] == after), -1)
                if start < 0:
                    return _error(
                        422,
                        "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
                        "The requested offset is no longer available.",
                    )
        end = len(records) if max_records is None else min(len(records), max_records)
        page = records[start : min(start + page_size, end)]
        answer: dict = {"records": page}
        if start + len(page) < end:
            answer["offset"] = f"itr{next(self._iterators):014d}/{records[start + len(page)]['id']}"
        return Response.json(answer)
