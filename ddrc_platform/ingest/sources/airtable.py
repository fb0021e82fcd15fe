"""Manual metrics from Airtable, landed in the table shape Fivetran gives them.

In dev/prd Fivetran syncs the base; locally (or wherever Fivetran is absent) we read
the REST API with pyairtable and write the very same columns, so one dbt project reads
both: field names upper-cased with every run of other characters turned into `_`
("Metric Name (from Metric Definition)" -> METRIC_NAME_FROM_METRIC_DEFINITION_),
arrays and objects kept as JSON, timestamps as naive UTC, plus `_FIVETRAN_SYNCED`.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests

from ddrc_platform.core.catalog import AIRTABLE_METRICS, FIVETRAN_SYNCED, Kind
from ddrc_platform.ingest.contract import column_names
from ddrc_platform.ingest.sources.http import (
    MAX_REDIRECTS,
    SourceDataError,
    SourceError,
    WaitBeyondDeadline,
    decode_strictly,
    same_host_redirects,
)
from ddrc_platform.integrations.urllib3_retry import DeadlineRetry

if TYPE_CHECKING:
    import pyarrow as pa
    from pyairtable import Api
from ddrc_platform.settings import HttpSettings

TIMESTAMP_COLUMNS = {"DATE_CREATED", "DATE_METRIC_MODIFIED", "AS_OF_DATE_AND_TIME"}
NUMBER_COLUMNS = {"METRIC", "DATETIME_OFFSET_NUMBER"}
SOURCE = AIRTABLE_METRICS.title
# a plain decimal number as text; no thousands separators, no exponent, no "inf"/"nan"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")


def fivetran_column(field_name: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", field_name).upper().lstrip("_")


def _timestamp(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # a date-only field: midnight UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _number(value: Any) -> float | None:
    """A number field: a JSON number, or text holding a plain decimal number.

    "12,345" is rejected, not parsed: the comma is a thousands separator in the US and a
    decimal mark elsewhere, so the value is ambiguous by a factor of 1000, and in a number
    field it means someone changed the field's type in Airtable, a change to revert there.
    Non-finite values (1e309 is inf) are rejected: they can only fail later, in dbt.
    """
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value.strip()):
        hint = " (thousands separators are not accepted)" if "," in value else ""
        raise ValueError(f"{value!r} is not a number{hint}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _cell(column: str, value: Any) -> Any:
    if column in TIMESTAMP_COLUMNS:
        return _timestamp(value)
    if column in NUMBER_COLUMNS:
        return _number(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return None if value is None else str(value)


def _columns(records: list[dict]) -> dict[str, str]:
    """Field name -> column: Fivetran's name, made unambiguous (`column_names`)."""
    fields = dict.fromkeys(name for record in records for name in record.get("fields", {}))
    return column_names(list(fields), AIRTABLE_METRICS.all_columns, normalize=fivetran_column)


def records_to_table(
    records: list[dict], synced_at: datetime, where: str = "sample data"
) -> pa.Table:
    """Airtable omits empty fields; the documented columns exist even when no record has them.

    A value that is not what its column holds fails the load naming the record and field.
    """
    import pyarrow as pa

    names = _columns(records)
    columns: dict[str, list] = {name: [] for name in AIRTABLE_METRICS.columns}
    columns.update({column: [] for column in names.values() if column not in columns})
    for record in records:
        by_column = {names[k]: v for k, v in record.get("fields", {}).items()}
        by_column["ID"] = record["id"]
        for column, values in columns.items():
            try:
                values.append(_cell(column, by_column.get(column)))
            except ValueError as exc:
                raise SourceDataError(
                    SOURCE, where, f"record {record['id']}, field {column}: {exc}"
                ) from None
    types = {c: pa.timestamp("us") for c in TIMESTAMP_COLUMNS} | {
        c: pa.float64() for c in NUMBER_COLUMNS
    }
    table = pa.table(
        {name: pa.array(values, types.get(name, pa.string())) for name, values in columns.items()}
    )
    synced = pa.array(
        [synced_at.astimezone(UTC).replace(tzinfo=None)] * len(records), pa.timestamp("us")
    )
    return table.append_column(FIVETRAN_SYNCED, synced)


def _value_kind(column: str, value: Any) -> set[Kind]:
    """A JSON value's kind: lookups come as one-item lists, so a list has its items' kinds;
    a date field's ISO text is a timestamp (its parse fails loudly if it is not one)."""
    if value is None or value == "":
        return set()
    if isinstance(value, list):
        return set().union(*(_value_kind(column, item) for item in value))
    if isinstance(value, bool):
        return {Kind.BOOLEAN}
    if isinstance(value, int | float):
        return {Kind.NUMBER}
    return {Kind.TIMESTAMP if column in TIMESTAMP_COLUMNS else Kind.TEXT}


def value_kinds(records: list[dict]) -> dict[str, frozenset[Kind]]:
    """Column -> the kinds of the JSON values the records hold in it (ID included)."""
    names = _columns(records)
    found: dict[str, set[Kind]] = {"ID": {Kind.TEXT}} if records else {}
    for record in records:
        for name, value in record.get("fields", {}).items():
            found.setdefault(names[name], set()).update(_value_kind(names[name], value))
    return {column: frozenset(kinds) for column, kinds in found.items()}


def _api(token: str, endpoint: str, http: HttpSettings) -> Api:
    # imported here: pyairtable costs ~0.8 s and only a live Airtable read needs it
    from pyairtable import Api

    """pyairtable configured as our other clients are: every wait within the request
    deadline (its retry strategy, urllib3's, would sleep any `Retry-After`), redirects on
    the API's host only (requests follows any, and an empty answer from another host
    would pass for an empty table), and no byte decoded loosely."""
    api = Api(
        token,
        endpoint_url=endpoint,
        timeout=(min(10.0, http.timeout), http.timeout),
        # as pyairtable's `retry_strategy()` builds it (every method: listRecords POSTs)
        retry_strategy=DeadlineRetry(
            total=http.tries,
            status_forcelist=(429, 500, 502, 503, 504),
            backoff_factor=http.backoff,
            backoff_max=http.max_backoff,
            allowed_methods=None,
            deadline=http.deadline,
        ),
    )

    def strictly_decoded(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # requests (and so pyairtable) would replace undecodable bytes silently
        decode_strictly(response.content, response.encoding, SOURCE, response.url)

    api.session.max_redirects = MAX_REDIRECTS
    api.session.hooks["response"] += [same_host_redirects(SOURCE), strictly_decoded]
    return api


def fetch_records(
    *, endpoint: str, token: str, base_id: str, table: str, http: HttpSettings
) -> list[dict]:
    """All records of the metrics table; pyairtable pages, and retries within the deadline."""
    where = f"{endpoint}/v0/{base_id}/{table}"
    try:
        return _api(token, endpoint, http).table(base_id, table).all(page_size=100)
    except requests.exceptions.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        hint = {
            401: "authentication failed: check AIRTABLE_TOKEN",
            403: "the token may not read this base: check its scopes and AIRTABLE_TOKEN",
            404: "base or table not found: check DDRC_AIRTABLE_BASE_ID and DDRC_AIRTABLE_TABLE",
        }.get(status, "request failed")
        raise SourceError(SOURCE, where, f"HTTP {status}: {hint}") from None
    except WaitBeyondDeadline as refused:
        raise SourceError(SOURCE, where, refused.problem) from None
    except requests.exceptions.RetryError:
        raise SourceError(SOURCE, where, f"still failing after {http.tries} retries") from None
    except requests.exceptions.TooManyRedirects:
        problem = f"more than {MAX_REDIRECTS} redirects on the API's host"
        raise SourceError(SOURCE, where, problem) from None
    except requests.exceptions.RequestException as exc:
        raise SourceError(SOURCE, where, f"{type(exc).__name__}") from None
