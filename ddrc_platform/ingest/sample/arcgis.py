"""Sample ArcGIS layers (EPA, USACE, Pasadena) exactly as their servers answer."""

from __future__ import annotations

import copy
from datetime import date
from functools import partial
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ddrc_platform.core import catalog
from ddrc_platform.ingest.sample.common import (
    _FIRST_DAY_OF_2026,
    GDB_TO_DATE_CURRENT_MS,
    NEVER,
    _chain,
    _dates,
    _day_index,
    _digits,
    _field,
    _gap,
    _join,
    _labels,
    _pacific_ms,
    _parcels,
    _pick,
    _rng,
    _size,
    _stamp,
    _table,
    _text,
    _uuid4,
    _work_seconds,
)
from ddrc_platform.ingest.sources.arcgis import LayerData


def _last_edit_ms(source: str, day: date) -> int:
    """The rebuild behind `day`'s data: some minute between 20:00 and 22:00 Pacific the
    evening before, so no load on `day`, however early, sees an edit after itself (the
    publication refuses a `LAST_UPDATED` in the future)."""
    seconds = _rng(source, "last-edit", day.toordinal()).integers(20 * 3600, 22 * 3600)
    return _pacific_ms(_day_index(day), float(seconds) - 24 * 3600)


# What every hosted layer of ours answers about querying, after its `maxRecordCount`.
_HOSTED_QUERYING: dict[str, Any] = {
    "standardMaxRecordCount": 32000,
    "tileMaxRecordCount": 8000,
    "maxRecordCountFactor": 1,
    "supportedQueryFormats": "JSON, geoJSON, PBF",
    "supportsAdvancedQueries": True,
    "useStandardizedQueries": True,
    "advancedQueryCapabilities": {
        "useStandardizedQueries": True,
        "supportsStatistics": True,
        "supportsHavingClause": True,
        "supportsOrderBy": True,
        "supportsDistinct": True,
        "supportsCountDistinct": True,
        "supportsPagination": True,
        "supportsPaginationOnAggregatedQueries": True,
        "supportsTrueCurve": True,
        "supportsReturningQueryExtent": True,
        "supportsQueryWithDistance": True,
        "supportsSqlExpression": True,
    },
}


def _layer_metadata(
    *,
    name: str,
    description: str,
    fields: list[dict],
    object_id_field: str,
    max_record_count: int,
    current_version: float,
    extent: tuple[float, float, float, float],
    last_edit_ms: int | None,
    display_field: str,
    global_id_field: str = "",
    capabilities: str = "Query",
) -> dict:
    metadata: dict[str, Any] = {
        "currentVersion": current_version,
        "id": 0,
        "name": name,
        "type": "Feature Layer",
        "description": description,
        "copyrightText": "",
        "defaultVisibility": True,
    }
    if last_edit_ms is not None:
        metadata["editingInfo"] = {
            "lastEditDate": last_edit_ms,
            "schemaLastEditDate": _pacific_ms(12, 10 * 3600),
            "dataLastEditDate": last_edit_ms,
        }
    metadata.update(
        {
            "geometryType": "esriGeometryPolygon",
            "minScale": 0,
            "maxScale": 0,
            "extent": {
                "xmin": extent[0],
                "ymin": extent[1],
                "xmax": extent[2],
                "ymax": extent[3],
                "spatialReference": {"wkid": 102100, "latestWkid": 3857},
            },
            "hasAttachments": False,
            "displayField": display_field,
            "typeIdField": "",
            "objectIdField": object_id_field,
            "uniqueIdField": {"name": object_id_field, "isSystemMaintained": True},
            "globalIdField": global_id_field,
            "fields": fields,
            "capabilities": capabilities,
            "maxRecordCount": max_record_count,
            **copy.deepcopy(_HOSTED_QUERYING),  # a copy: a test may edit one layer's
        }
    )
    return metadata


_WEB_MERCATOR_LA = (-13_230_000.0, 4_020_000.0, -13_130_000.0, 4_100_000.0)


# -- EPA Phase 1 ----------------------------------------------------------------------------
_EPA_FIELDS = [
    _field("OBJECTID", "oid"),
    _field("APN", "string", 20),
    _field("Address", "string", 255),
    _field("AssessmentDate", "date", alias="Assessment Date"),
    _field("FireName", "string", 50, "Fire Name"),
    _field("GlobalID", "guid"),
    _field("LandUse", "string", 50, "Land Use"),
    _field("PublicStatus", "string", 50, "Public Status"),
    _field("Shape__Area", "double"),
    _field("Shape__Length", "double"),
]
_EPA_STATUS = [
    "Not Yet Started",
    "Assessment Scheduled",
    "Phase 1 In Progress",
    "Phase 1 Complete",
    "Deferred to Phase 2",
    "Phase 1 complete",  # near miss: keyed by hand, never counted
    None,
]
_EPA_FATES = {
    "complete": 0.82, "deferred": 0.07, "near_miss": 0.01, "status_missing": 0.03,
    "stuck_not_started": 0.02, "stuck_scheduled": 0.02, "stuck_in_progress": 0.03,
}  # fmt: skip
_EPA_FINAL = {"complete": 3, "deferred": 4, "near_miss": 5}  # fate -> status once finished
_EPA_STUCK = {"stuck_not_started": 0, "stuck_scheduled": 1, "stuck_in_progress": 2}
_EPA_FIRES = {"Eaton": 0.46, "Palisades": 0.44, "Hurst": 0.03, "Kenneth": 0.02,
              "Sunset": 0.02, "Lidia": 0.03}  # fmt: skip
_EPA_LAND_USE = {"Residential": 0.78, "Commercial": 0.07, "Public": 0.03, "Mixed Use": 0.04,
                 "Industrial": 0.03, "residential": 0.015, "Residential ": 0.015,
                 None: 0.02}  # fmt: skip


def _epa(n: int, d: int, day: date) -> LayerData:
    rng = _rng("epa")
    fires = list(_EPA_FIRES)
    fire, _ = _pick(rng, n, _EPA_FIRES, at_least=3)
    land_use, _ = _pick(rng, n, _EPA_LAND_USE, at_least=3)
    fate, forced = _pick(rng, n, _EPA_FATES, at_least=3)
    places = _parcels(rng, fire, fires)

    speed = np.where(forced, 0.3, 1.0)
    # thresholds of: scheduled, in progress, finished
    steps = _chain(rng, 1 + rng.poisson(4, n), [(1, 4), (1, 6)], speed)
    fate_names = np.array(list(_EPA_FATES))[fate]
    for stuck, from_step in _EPA_STUCK.items():
        steps[from_step:, fate_names == stuck] = NEVER
    reached = (steps <= d).sum(axis=0)  # 0 not started .. 3 finished
    final = np.array([_EPA_FINAL.get(name, 0) for name in _EPA_FATES])[fate]
    status = np.where(reached < 3, reached, final)
    status[fate_names == "status_missing"] = _EPA_STATUS.index(None)

    assessed = _stamp(steps[1], d, _work_seconds(rng, n))
    columns = {
        "OBJECTID": np.arange(1, n + 1),
        "APN": places["apn_dashed"],
        "Address": pc.binary_join_element_wise(
            places["street_line"],
            places["city"],
            pc.binary_join_element_wise("CA", places["zipcode"], " "),
            ", ",
        ),
        "AssessmentDate": _dates(assessed),
        "FireName": _labels(fires, fire),
        "GlobalID": _uuid4(rng, n),
        "LandUse": _labels(list(_EPA_LAND_USE), land_use),
        "PublicStatus": _labels(_EPA_STATUS, status),
        "Shape__Area": places["area"],
        "Shape__Length": places["length"],
    }
    metadata = _layer_metadata(
        name="SoCalFires2025_PublicStatusNightly",
        description="EPA hazardous material assessment and removal status by parcel "
        "(Phase 1), 2025 Southern California fires. Rebuilt nightly.",
        fields=_EPA_FIELDS,
        object_id_field="OBJECTID",
        display_field="Address",
        global_id_field="GlobalID",
        max_record_count=2000,
        current_version=11.4,
        extent=_WEB_MERCATOR_LA,
        last_edit_ms=_last_edit_ms("epa", day),
    )
    return LayerData(metadata, _table(_EPA_FIELDS, columns, places["geometry"]))


# -- USACE Phase 2 --------------------------------------------------------------------------
_USACE_FIELDS = [
    _field("OBJECTID", "oid"),
    _field("ma", "string", 50, "Mission Assignment"),
    _field("APN", "string", 20),
    _field("apn_coincident_list", "string", 1000, "Coincident APNs"),
    _field("address", "string", 255, "Address"),
    _field("epa_status", "string", 50, "EPA Status"),
    _field("roe_status", "string", 50, "ROE Status"),
    *(
        _field(name, "date")
        for name in ("roe_received", "roe_approved", "roe_submitted", "roe_withdrawn")
    ),
    _field("roe_details", "string", 100, "ROE Details"),
    _field("hsa_status", "string", 50, "HSA Status"),
    _field("hsa_report_received", "date"),
    _field("hsa_report_approved", "date"),
    _field("pcr_status", "string", 50, "PCR Status"),
    *(_field(name, "date") for name in ("pcr_received", "pcr_approved", "pcr_delivery")),
    *(
        _field(name, "date")
        for name in ("fso_pkg_returned", "fso_pkg_received", "fso_pkg_approved")
    ),
    _field("fso_pkg_status", "string", 50, "FSO Package Status"),
    _field("hhm_removal_status", "string", 50, "HHM Removal Status"),
    _field("event_sub_name", "string", 50, "Event"),
    *(
        _field(name, "date")
        for name in ("roe_returned_complete", "roe_returned_ineligible", "roe_returned_withdrawn")
    ),
    _field("GDB_FROM_DATE", "date"),
    _field("GDB_TO_DATE", "date"),
]
_USACE_EVENTS = {"Eaton": 0.50, "Palisades": 0.42, "Hurst": 0.015, "Kenneth": 0.01,
                 "Sunset": 0.01, None: 0.045}  # fmt: skip
_USACE_MA = {"4856DR-CA-COE-SPD-09": 0.90, "4856DR-CA-COE-SPD-08": 0.05,
             "4856DR-CA-EPA-01": 0.03, None: 0.02}  # fmt: skip
_USACE_ROE_DETAILS = {"County": 0.88, "Private": 0.06, "City of Pasadena": 0.04, None: 0.02}
# Main path steps; the fate says how far along it a parcel goes.
_ROE_STEPS = (
    "received", "submitted", "in_review", "approved", "hsa_received", "hsa_approved",
    "pcr_received", "pcr_approved", "pcr_delivery", "fso_received", "fso_approved",
    "returned_complete",
)  # fmt: skip
_ROE_STATUS = ["received", "submitted", "in_review", "approved", "returned_complete",
               "returned_ineligible", "returned_withdrawn", None]  # fmt: skip
_ROE_STATUS_BY_STEP = np.array([0, 1, 2, *[3] * 8, 4])  # index into _ROE_STATUS per step
_ROE_GAPS = [(1, 4), (1, 3), (1, 7), (5, 15), (1, 5), (10, 30), (2, 6), (1, 3), (5, 15),
             (3, 10), (5, 30)]  # fmt: skip
_USACE_FATES = {
    "closed": 0.40,  # all the way to returned_complete
    "completed": 0.20,  # fso package approved, status left at approved
    "approved": 0.10,  # removal under way
    "in_review": 0.04, "submitted": 0.04, "received": 0.04,  # waiting
    "ineligible": 0.04, "withdrawn": 0.05,  # returned: excluded from every count
    "status_missing": 0.03,  # progress recorded, roe_status never filled in
    "no_roe_approved_date": 0.02,  # finished, but roe_approved never recorded
    "no_roe": 0.04,  # never returned a right-of-entry form
}  # fmt: skip


_Stamp = tuple[np.ndarray, np.ndarray]  # epoch ms and the shown mask, as `_stamp` gives them


def _usace(n: int, d: int) -> LayerData:
    """Every draw comes from one generator in a fixed order (the helpers take their turns
    in it), so moving a draw would change every parcel after it."""
    rng = _rng("usace")
    events = list(_USACE_EVENTS)
    event, _ = _pick(rng, n, _USACE_EVENTS, at_least=3)
    ma, _ = _pick(rng, n, _USACE_MA, at_least=3)
    details, _ = _pick(rng, n, _USACE_ROE_DETAILS, at_least=3)
    fate_code, forced = _pick(rng, n, _USACE_FATES, at_least=3)
    fate = np.array(list(_USACE_FATES))[fate_code]
    fires = [e for e in events if e is not None]
    places = _parcels(rng, np.where(event == events.index(None), 0, event), fires)

    speed = np.where(forced, 0.25, 1.0)
    steps, reached = _roe_steps(rng, fate, speed, d)
    stamp, ret = _roe_stamps(rng, fate, steps, speed, d)
    epa_done = (1 + rng.poisson(12, n) <= d).astype(np.int8)
    coincident = pa.array(rng.random(n) < 0.08)
    columns = {
        **_usace_parcel_columns(places, ma, coincident, epa_done),
        "roe_status": _labels(_ROE_STATUS, _roe_status(fate, reached, ret)),
        "roe_received": _dates(stamp["received"]),
        "roe_approved": _dates(stamp["approved"]),
        "roe_submitted": _dates(stamp["submitted"]),
        "roe_withdrawn": _dates(ret["withdrawn"]),
        "roe_details": _labels(list(_USACE_ROE_DETAILS), details),
        **_usace_phase_columns(reached, stamp),
        "hhm_removal_status": _labels(["In Progress", "Complete"], epa_done),
        "event_sub_name": _labels(events, event),
        "roe_returned_complete": _dates(stamp["returned_complete"]),
        "roe_returned_ineligible": _dates(ret["ineligible"]),
        "roe_returned_withdrawn": _dates(ret["withdrawn"]),
        "GDB_FROM_DATE": _gdb_from(n, [*stamp.values(), *ret.values()]),
        "GDB_TO_DATE": np.full(n, GDB_TO_DATE_CURRENT_MS),
    }
    return LayerData(_usace_metadata(), _table(_USACE_FIELDS, columns, places["geometry"]))


def _roe_steps(
    rng: np.random.Generator, fate: np.ndarray, speed: np.ndarray, d: int
) -> tuple[np.ndarray, np.ndarray]:
    """Step thresholds cut off after each parcel's last step, and the step reached by day
    `d` (-1: nothing yet); the fate, not the day, decides where a parcel stops."""
    n = len(fate)
    steps = _chain(
        rng, 3 + np.round(rng.exponential(25, n) * speed).astype(np.int64), _ROE_GAPS, speed
    )
    last = np.full(n, len(_ROE_STEPS) - 1)
    last[fate == "completed"] = _ROE_STEPS.index("fso_approved")
    last[fate == "approved"] = rng.integers(3, 10, n)[fate == "approved"]
    for waiting in ("in_review", "submitted", "received"):
        last[fate == waiting] = _ROE_STEPS.index(waiting)
    last[np.isin(fate, ["ineligible", "withdrawn"])] = 0
    last[fate == "no_roe"] = -1
    steps[np.arange(len(_ROE_STEPS))[:, None] > last] = NEVER
    return steps, (steps <= d).sum(axis=0) - 1


def _roe_stamps(
    rng: np.random.Generator, fate: np.ndarray, steps: np.ndarray, speed: np.ndarray, d: int
) -> tuple[dict[str, _Stamp], dict[str, _Stamp]]:
    """The dates shown for each step, and for the two kinds of returned form.

    A returned form's submitted and approved dates are keyed in late, from when it came
    back, so they are stamped apart from the main path.
    """
    n = len(fate)
    returned = np.isin(fate, ["ineligible", "withdrawn"])
    t_return = np.where(returned, steps[0] + _gap(rng, n, 3, 20, speed), NEVER)
    back = steps[0] + rng.integers(0, 3, n)  # when the late-keyed steps really happened
    approved_then_withdrawn = (fate == "withdrawn") & (rng.random(n) < 0.5)

    seconds = {s: _work_seconds(rng, n) for s in (*_ROE_STEPS, "returned", "fso_returned")}
    stamp = {s: _stamp(steps[i], d, seconds[s]) for i, s in enumerate(_ROE_STEPS)}
    t_submitted = np.where(returned, t_return, steps[1])
    stamp["submitted"] = _stamp(
        t_submitted, d, seconds["submitted"], np.where(returned, back, t_submitted - 1)
    )
    t_approved = np.where(approved_then_withdrawn, t_return, steps[3])
    t_approved[fate == "no_roe_approved_date"] = NEVER
    stamp["approved"] = _stamp(
        t_approved, d, seconds["approved"], np.where(returned, back + 1, t_approved - 1)
    )
    # some packages bounce once, the day after they were received
    fso_returned = np.where((rng.random(n) < 0.15) & (steps[9] < NEVER), steps[9] + 1, NEVER)
    stamp["fso_returned"] = _stamp(fso_returned, d, seconds["fso_returned"])
    ret = {
        kind: _stamp(np.where(fate == kind, t_return, NEVER), d, seconds["returned"])
        for kind in ("ineligible", "withdrawn")
    }
    return stamp, ret


def _roe_status(fate: np.ndarray, reached: np.ndarray, ret: dict[str, _Stamp]) -> np.ndarray:
    """Received, submitted, in_review, then approved until the parcel is closed; a return
    overrides the path, and some parcels never get a status keyed in."""
    roe_status = np.where(reached >= 0, _ROE_STATUS_BY_STEP[np.maximum(reached, 0)], 7)
    roe_status[ret["ineligible"][1]] = _ROE_STATUS.index("returned_ineligible")
    roe_status[ret["withdrawn"][1]] = _ROE_STATUS.index("returned_withdrawn")
    roe_status[fate == "status_missing"] = _ROE_STATUS.index(None)
    return roe_status


def _step_codes(reached: np.ndarray, first_step: int, count: int) -> np.ndarray:
    """0, 1, .. from `first_step` on (the last code holds); `count` (null) before."""
    code = np.minimum(reached - first_step, count - 1)
    return np.where(code < 0, count, code)


def _usace_parcel_columns(
    places: dict[str, Any], ma: np.ndarray, coincident: pa.Array, epa_done: np.ndarray
) -> dict[str, Any]:
    """The parcel's identity as USACE keys it: plain APNs, an upper-case one-line address."""
    n = len(ma)
    apn_list = pc.binary_join_element_wise(places["apn_plain"], places["apn_next"], ", ")
    return {
        "OBJECTID": np.arange(1, n + 1),
        "ma": _labels(list(_USACE_MA), ma),
        "APN": places["apn_plain"],
        "apn_coincident_list": pc.if_else(coincident, apn_list, pa.scalar(None, pa.string())),
        "address": pc.utf8_upper(
            pc.binary_join_element_wise(
                places["street_line"], places["city"], places["zipcode"], " "
            )
        ),
        "epa_status": _labels(["Phase 1 In Progress", "Phase 1 Complete"], epa_done),
    }


def _usace_phase_columns(reached: np.ndarray, stamp: dict[str, _Stamp]) -> dict[str, Any]:
    """The assessment, clearance and final-package statuses follow the main path; a bounced
    package shows as Returned only while it still waits at the package step."""
    fso_status = _step_codes(reached, 9, 2)  # Received, Approved, null
    fso_status[stamp["fso_returned"][1] & (reached == 9)] = 3  # Returned
    return {
        "hsa_status": _labels(
            ["Scheduled", "Report Received", "Complete", None], _step_codes(reached, 3, 3)
        ),
        "hsa_report_received": _dates(stamp["hsa_received"]),
        "hsa_report_approved": _dates(stamp["hsa_approved"]),
        "pcr_status": _labels(
            ["Received", "Approved", "Delivered", None], _step_codes(reached, 6, 3)
        ),
        "pcr_received": _dates(stamp["pcr_received"]),
        "pcr_approved": _dates(stamp["pcr_approved"]),
        "pcr_delivery": _dates(stamp["pcr_delivery"]),
        "fso_pkg_returned": _dates(stamp["fso_returned"]),
        "fso_pkg_received": _dates(stamp["fso_received"]),
        "fso_pkg_approved": _dates(stamp["fso_approved"]),
        "fso_pkg_status": _labels(["Received", "Approved", None, "Returned"], fso_status),
    }


def _gdb_from(n: int, stamps: list[_Stamp]) -> np.ndarray:
    """An archive row starts at its latest shown edit, never before the layer's first
    publication."""
    gdb_from = np.full(n, _pacific_ms(9, 7 * 3600))
    for ms, shown in stamps:
        np.maximum(gdb_from, np.where(shown, ms, 0), out=gdb_from)
    return gdb_from


def _usace_metadata() -> dict:
    """USACE publishes a MapServer layer, so it answers no editingInfo and offers Map."""
    return _layer_metadata(
        name="Debris Parcels",
        description="USACE debris removal (Phase 2) parcel status, 2025 Southern California "
        "fires (public view).",
        fields=_USACE_FIELDS,
        object_id_field="OBJECTID",
        display_field="address",
        max_record_count=1000,
        current_version=11.1,
        extent=_WEB_MERCATOR_LA,
        last_edit_ms=None,  # a MapServer layer reports no editingInfo
        capabilities="Map,Query,Data",
    )


# -- Pasadena permits -----------------------------------------------------------------------
_PASADENA_FIELDS = [
    _field("ID", "oid"),
    _field("PMPERMITID", "string", 36),
    _field("PERMIT_NUMBER", "string", 30),
    _field("PARCEL_NUMBER", "string", 20),
    _field("ADDRESS", "string", 255),
    _field("CITY", "string", 50),
    _field("STATE", "string", 2),
    _field("ZIPCODE", "string", 10),
    _field("PERMIT_STATUS", "string", 50),
    _field("WORK_CLASS", "string", 50),
    _field("PERMIT_TYPE", "string", 100),
    _field("DESCRIPTION", "string", 1000),
    _field("COUNCIL_DISTRICT", "string", 10),
    _field("Shape__Area", "double"),
    _field("Shape__Length", "double"),
]
_PERMIT_STATUS = ["In Review", "Pending Payment", "Issued", "Finaled", "Expired", "Void",
                  "issued"]  # fmt: skip
# fate: the chain of statuses a permit walks through (indexes into _PERMIT_STATUS)
_PERMIT_FATES = {
    (0,): 0.08, (0, 1): 0.05, (0, 1, 2): 0.53, (0, 1, 2, 3): 0.20, (0, 1, 2, 4): 0.06,
    (0, 5): 0.06, (0, 1, 6): 0.02,
}  # fmt: skip
_WORK_CLASS = {"New": 0.55, "Repair": 0.20, "Demolition": 0.13, "Addition": 0.06,
               "Alteration": 0.06}  # fmt: skip
_DESCRIPTIONS = {
    "New": "Rebuild single-family dwelling destroyed in the Eaton Fire",
    "Repair": "Repair of fire damage to existing single-family dwelling",
    "Demolition": "Demolition of fire-damaged structure and foundation",
    "Addition": "Like-for-like rebuild with addition of detached ADU",
    "Alteration": "Interior alteration and smoke damage remediation",
}


def _permit_timeline(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Each permit's step days (applied first) and its status code on day `d` (-1: not
    applied for yet), sorted by application day as the permit numbers run."""
    fate, forced = _pick(rng, n, _PERMIT_FATES, at_least=3)
    speed = np.where(forced, 0.2, 1.0)
    applied = np.where(forced, rng.integers(1, 20, n), 20 + np.round(rng.exponential(110, n)))
    steps = _chain(rng, applied.astype(np.int64), [(3, 10), (10, 40), (40, 90)], speed)
    order = np.argsort(steps[0], kind="stable")
    steps, fate = steps[:, order], fate[order]
    chains = list(_PERMIT_FATES)
    path = np.full((4, n), -1)
    for code, chain in enumerate(chains):
        path[: len(chain), fate == code] = np.array(chain)[:, None]
    path[path == -1] = NEVER
    steps[path == NEVER] = NEVER
    reached = (steps <= d).sum(axis=0) - 1
    return steps, np.where(reached >= 0, path[np.maximum(reached, 0), np.arange(n)], -1)


def _pasadena(n: int, d: int, day: date) -> LayerData:
    rng = _rng("pasadena")
    steps, status = _permit_timeline(rng, n, d)
    m = int((status >= 0).sum())  # the layer holds the permits applied for so far
    status = np.maximum(status, 0)

    city, _ = _pick(rng, n, {"Altadena": 0.6, "Pasadena": 0.4}, at_least=2)
    places = _parcels(rng, np.zeros(n, dtype=np.int64), ["Eaton"])
    pasadena_zip = _labels(["91103", "91104", "91107"], rng.integers(0, 3, n))
    work, _ = _pick(rng, n, _WORK_CLASS, at_least=2)
    work_labels = list(_WORK_CLASS)
    residential = rng.random(n) < 0.93
    permit_type = np.where(residential, "Building - Residential", "Building - Commercial")
    permit_type[work == work_labels.index("Demolition")] = "Demolition"
    year = np.where(steps[0] > _FIRST_DAY_OF_2026, 2026, 2025)
    district = pa.array(rng.integers(1, 8, n)).cast(pa.string())
    in_pasadena = pa.array(city == 1)
    columns = {
        "ID": np.arange(1, n + 1),
        "PMPERMITID": _uuid4(rng, n),
        "PERMIT_NUMBER": _text(
            _join(n, "BLD", _digits(year, 4), "-", _digits(np.arange(1, n + 1), 5))
        ),
        "PARCEL_NUMBER": places["apn_plain"],
        "ADDRESS": pc.utf8_upper(places["street_line"]),
        "CITY": _labels(["Altadena", "Pasadena"], city),
        "STATE": np.full(n, "CA"),
        "ZIPCODE": pc.if_else(in_pasadena, pasadena_zip, "91001"),
        "PERMIT_STATUS": _labels(_PERMIT_STATUS, status),
        "WORK_CLASS": _labels(work_labels, work),
        "PERMIT_TYPE": permit_type,
        "DESCRIPTION": _labels(list(_DESCRIPTIONS.values()), work),
        "COUNCIL_DISTRICT": pc.if_else(in_pasadena, district, pa.scalar(None, pa.string())),
        "Shape__Area": places["area"],
        "Shape__Length": places["length"],
    }
    metadata = _layer_metadata(
        name="Eaton_Fire_Rebuild_Permits",
        description="Building permits for properties damaged or destroyed in the Eaton Fire.",
        fields=_PASADENA_FIELDS,
        object_id_field="ID",
        display_field="PERMIT_NUMBER",
        max_record_count=2000,
        current_version=11.4,
        extent=_WEB_MERCATOR_LA,
        last_edit_ms=_last_edit_ms("pasadena", day),
    )
    table = _table(_PASADENA_FIELDS, columns, places["geometry"])
    return LayerData(metadata, table.slice(0, m))


def arcgis_layer(
    source: Literal["epa", "usace", "pasadena"], *, scale: float = 1.0, day: date
) -> LayerData:
    """The layer as its server would serve it on `day` (metadata and every feature)."""
    d = _day_index(day)
    if source == "epa":
        return _epa(_size(20_000, scale, 150), d, day)
    if source == "usace":
        return _usace(_size(15_000, scale, 150), d)
    if source == "pasadena":
        return _pasadena(_size(3_000, scale, 60), d, day)
    raise ValueError(f"unknown ArcGIS source {source!r}")


catalog.register_sample(catalog.EPA, partial(arcgis_layer, "epa"))
catalog.register_sample(catalog.USACE, partial(arcgis_layer, "usace"))
catalog.register_sample(catalog.PASADENA, partial(arcgis_layer, "pasadena"))
