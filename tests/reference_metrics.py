"""The independent oracle: the published metrics computed from raw source output by hand.

Written from docs/metrics.md's rules alone, as plain loops over rows, so that it shares no code
and no SQL with the pipeline it checks. Comparisons are exact and case-sensitive, and a
SQL `NOT IN` is spelled out with its null semantics (a null `roe_status` fails it).
Only field *names* are matched case-insensitively, as the sources change their case.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from ddrc_platform.ingest.sources.arcgis import LayerData

CENT = Decimal("0.01")

PHASE1_DONE = ("Phase 1 Complete", "Deferred to Phase 2")
PHASE1_LAND_USE = "Residential"
USACE_EVENTS = ("Eaton", "Palisades")
USACE_MISSION = "4856DR-CA-COE-SPD-09"
USACE_ROE_DETAILS = "County"
USACE_RETURNED = ("returned_ineligible", "returned_withdrawn")
MALIBU_IN_REVIEW = ("InPlanning", "InBPC")
MALIBU_ISSUED = "PermitIssued"
PASADENA_IN_REVIEW = "In Review"
PASADENA_ISSUED = "Issued"

MACHINE_NAME = "Metric Machine Name (from Metric Definition)"
METRIC_TYPE = "Metric Type (from Metric Definition)"
UNIT_LABEL = "Metric Unit Label (from Metric Definition)"
UPDATE_FREQUENCY = "Update Frequency (from Metric Definition)"


def expected_metrics(
    *,
    epa: LayerData,
    usace: LayerData,
    pasadena: LayerData,
    malibu: dict[str, list[dict]],
    airtable: list[dict],
    usace_loaded_at: datetime,
    malibu_loaded_at: datetime,
) -> dict[str, dict]:
    """metric_name -> metric_value, metric_type, metric_unit_label, update_frequency, last_updated.

    Pipeline metrics carry no unit label or update frequency here: the metric catalog
    supplies those.
    """
    metrics: dict[str, dict] = {}

    epa_rows = _rows(epa)
    phase1 = 0
    for row in epa_rows:
        if row["publicstatus"] in PHASE1_DONE and row["landuse"] == PHASE1_LAND_USE:
            phase1 += 1
    metrics["cleanup_phase1_complete"] = _pipeline(phase1, _last_edit(epa))

    accepted, queued, completed = set(), set(), set()
    for row in _rows(usace):
        status = row["roe_status"]
        if not (
            row["event_sub_name"] in USACE_EVENTS
            and row["ma"] == USACE_MISSION
            and row["roe_details"] == USACE_ROE_DETAILS
            and status is not None
            and status not in USACE_RETURNED
        ):
            continue
        if row["roe_approved"] is not None:
            accepted.add(row["objectid"])
        if row["roe_submitted"] is not None:
            queued.add(row["objectid"])
        if row["fso_pkg_approved"] is not None:
            completed.add(row["objectid"])
    usace_time = usace_loaded_at.astimezone(UTC)
    metrics["phase2_roes_accepted"] = _pipeline(len(accepted), usace_time)
    metrics["phase2_parcels_in_queue"] = _pipeline(len(queued), usace_time)
    metrics["phase2_parcels_completed"] = _pipeline(len(completed), usace_time)

    points = malibu["FireRebuildPoints"]
    malibu_time = malibu_loaded_at.astimezone(UTC)
    in_review = [p for p in points if p["type"] in MALIBU_IN_REVIEW]
    issued = [p for p in points if p["type"] == MALIBU_ISSUED]
    metrics["malibu_rebuild_applications_received"] = _pipeline(len(points), malibu_time)
    metrics["malibu_rebuild_applications_in_review"] = _pipeline(len(in_review), malibu_time)
    metrics["malibu_building_permits_issued"] = _pipeline(len(issued), malibu_time)

    permits = _rows(pasadena)
    pasadena_time = _last_edit(pasadena)
    in_review = [p for p in permits if p["permit_status"] == PASADENA_IN_REVIEW]
    issued = [p for p in permits if p["permit_status"] == PASADENA_ISSUED]
    metrics["pasadena_rebuild_applications_received"] = _pipeline(len(permits), pasadena_time)
    metrics["pasadena_rebuild_applications_in_review"] = _pipeline(len(in_review), pasadena_time)
    metrics["pasadena_building_permits_issued"] = _pipeline(len(issued), pasadena_time)

    for name, entry in _latest_airtable_entries(airtable).items():
        if name in metrics:  # a pipeline metric is never taken from Airtable
            continue
        metrics[name] = {
            "metric_value": _decimal(entry["Metric"]),
            "metric_type": entry[METRIC_TYPE][0],
            "metric_unit_label": entry[UNIT_LABEL][0] if entry.get(UNIT_LABEL) else None,
            "update_frequency": entry[UPDATE_FREQUENCY][0].lower(),
            "last_updated": _timestamp(entry.get("Date Metric Modified") or entry["Date Created"]),
        }
    return metrics


def _latest_airtable_entries(records: list[dict]) -> dict[str, dict]:
    """Per metric, the fields of the latest-created entry that has a value.

    Identical duplicates collapse; two *different* entries created at the same instant
    would make the rule ambiguous, and the oracle says so rather than pick one.
    """
    entries_by_metric: dict[str, list[dict]] = {}
    for record in records:
        fields = record["fields"]
        if not fields.get(MACHINE_NAME):
            continue
        entries_by_metric.setdefault(fields[MACHINE_NAME][0], []).append(fields)

    latest: dict[str, dict] = {}
    for name, entries in entries_by_metric.items():
        with_value = [f for f in entries if f.get("Metric") not in (None, "")]
        if not with_value:
            continue
        newest = max(_timestamp(f["Date Created"]) for f in with_value)
        candidates = {
            json.dumps(f, sort_keys=True): f
            for f in with_value
            if _timestamp(f["Date Created"]) == newest
        }
        if len(candidates) > 1:
            raise ValueError(f"{name}: different entries share the latest Date Created")
        latest[name] = next(iter(candidates.values()))
    return latest


def _rows(sample: LayerData) -> list[dict]:
    """Rows with lower-cased field names: the sources change the case of their names."""
    return [{k.lower(): v for k, v in row.items()} for row in sample.table.to_pylist()]


def _pipeline(count: int, last_updated: datetime) -> dict:
    return {
        "metric_value": _decimal(count),
        "metric_type": "count",
        "metric_unit_label": None,
        "update_frequency": None,
        "last_updated": last_updated,
    }


def _last_edit(sample: LayerData) -> datetime:
    return datetime.fromtimestamp(sample.metadata["editingInfo"]["lastEditDate"] / 1000, UTC)


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _decimal(value: float | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT)
