"""Deterministic sample data shaped exactly like the real sources, at any scale, on any day.

The local deployment, the tests and the benchmarks run without the public endpoints, so
the sample has to be good enough to catch the mistakes the real data would catch: wire
field names in their odd cases, epoch-millisecond dates, nulls where agencies leave
gaps, near-miss spellings that an exact comparison must reject, duplicate and blank
Airtable entries. Each record gets its fate and its step thresholds once (seeded by the
source alone), and `day` only decides how far along each record is, so consecutive days
show monotone progress and the same `(source, scale, day)` is identical byte for byte.

Columns are built with numpy and pyarrow, never row by row, so 2 million EPA parcels
(scale 100) take seconds: fixed-width text (GeoJSON rings, ids, APNs) is written straight
into a byte matrix that becomes an Arrow string buffer without a copy.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SAMPLE_DAY_ZERO: date = date(2025, 1, 8)  # day index 0 (fires were Jan 7 2025)

PACIFIC = ZoneInfo("America/Los_Angeles")
NEVER = 1_000_000  # the threshold of a step a record never takes
MIN_SCALE, MAX_SCALE = 0.01, 100.0
GDB_TO_DATE_CURRENT_MS = 253_402_300_799_000  # 9999-12-31 23:59:59: an archive's live row
WORK_HOURS = (8 * 3600, 15 * 3600 + 1800)  # Pacific; keeps the UTC date equal to the local one
_FIRST_DAY_OF_2026 = (date(2026, 1, 1) - SAMPLE_DAY_ZERO).days  # permit numbers change year


@dataclass(frozen=True)
class ArcgisSample:
    """One ArcGIS layer as served: its `?f=json` metadata and its features as a table."""

    metadata: dict  # exactly what GET {layer_url}?f=json returns
    table: pa.Table  # wire field names, typed by the field types, plus "geometry" (GeoJSON text)


# -- small vectorised helpers ----------------------------------------------------------------
def _rng(*key: object) -> np.random.Generator:
    """A generator seeded from stable text; `hash()` is salted per process, crc32 is not."""
    return np.random.default_rng([zlib.crc32(str(k).encode()) for k in key])


def _size(base: int, scale: float, minimum: int) -> int:
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be within [{MIN_SCALE}, {MAX_SCALE}], got {scale}")
    return max(minimum, round(base * scale))


def _day_index(day: date) -> int:
    if day < SAMPLE_DAY_ZERO:
        raise ValueError(f"sample data starts on {SAMPLE_DAY_ZERO}, got {day}")
    return (day - SAMPLE_DAY_ZERO).days


def _midnights_ms(last_day_index: int) -> np.ndarray:
    """Epoch ms of Pacific midnight for day index 0..last (DST moves the UTC offset)."""
    return _midnight_table(last_day_index // 1024 + 1)[: last_day_index + 1]


@lru_cache(maxsize=8)
def _midnight_table(blocks: int) -> np.ndarray:
    days = (SAMPLE_DAY_ZERO + timedelta(i) for i in range(blocks * 1024))
    return np.array(
        [int(datetime.combine(day, time(), PACIFIC).timestamp()) * 1000 for day in days],
        dtype=np.int64,
    )


def _pacific_ms(day_index: int, seconds: float) -> int:
    return int(_midnights_ms(day_index)[day_index] + round(seconds * 1000))


def _pick(
    rng: np.random.Generator, n: int, weights: dict[Any, float], at_least: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Categorical codes by weight, with every category at least `at_least` times.

    Tiny scales would otherwise lose the rare categories the metric rules hinge on. The
    second array marks the rows forced into a category, so callers can give them early
    timelines and make them visible on any day of interest.
    """
    p = np.array(list(weights.values()), dtype=float)
    codes = rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int16)
    forced = np.zeros(n, dtype=bool)
    if at_least and n >= at_least * len(p):
        spots = rng.permutation(n)[: at_least * len(p)]
        codes[spots] = np.repeat(np.arange(len(p), dtype=np.int16), at_least)
        forced[spots] = True
    return codes, forced


def _labels(values: list[str | None], codes: np.ndarray) -> pa.Array:
    """Map codes to strings; a None value becomes a null."""
    return pa.array(values, pa.string()).take(pa.array(codes))


def _gap(
    rng: np.random.Generator, n: int, low: float, mean: float, speed: np.ndarray
) -> np.ndarray:
    """Days between two steps: a floor plus an exponential tail, shortened where speed < 1."""
    return np.maximum(1, np.round((low + rng.exponential(mean, n)) * speed)).astype(np.int64)


def _chain(
    rng: np.random.Generator, start: np.ndarray, gaps: list[tuple[float, float]], speed: np.ndarray
) -> np.ndarray:
    """Thresholds (day indexes) of consecutive steps, shape (len(gaps) + 1, n)."""
    n = len(start)
    steps = [start] + [_gap(rng, n, low, mean, speed) for low, mean in gaps]
    return np.cumsum(np.stack(steps), axis=0)


def _stamp(
    visible_at: np.ndarray, d: int, seconds: np.ndarray, stamp_day: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ms of events that have happened by day `d`, and the shown mask.

    An event that becomes visible in day t's snapshot is stamped on day t-1 in working
    hours (or on an earlier `stamp_day`, for entries keyed in late), so every stamp is
    before that day's nightly rebuild.
    """
    shown = visible_at <= d
    day = visible_at - 1 if stamp_day is None else np.minimum(stamp_day, visible_at - 1)
    index = np.where(shown, np.maximum(day, 0), 0)
    return _midnights_ms(max(d, 0))[index] + seconds * 1000, shown


def _dates(stamp: tuple[np.ndarray, np.ndarray]) -> pa.Array:
    ms, shown = stamp
    return pa.array(ms, pa.int64(), mask=~shown)


def _work_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(*WORK_HOURS, n).astype(np.int64)


# -- fixed-width text straight into Arrow buffers --------------------------------------------
_CHUNK_ROWS = 16_384  # rows per block when interleaving text columns (fits in cache)


def _text(matrix: np.ndarray) -> pa.Array:
    """A string array whose every value is one row of a uint8 matrix (no per-row objects)."""
    n, width = matrix.shape
    if n * width >= 2**31:
        raise ValueError("text column too large for 32-bit offsets")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32) if n else np.zeros(1, np.int32)
    data = np.ascontiguousarray(matrix, dtype=np.uint8)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _text_by_chunks(n: int, render: Callable[[slice], np.ndarray]) -> pa.Array:
    """Fill a text column a cache-sized block of rows at a time.

    Interleaving narrow byte columns is strided work; on the whole of 2 million rows it
    runs several times slower than on blocks that stay in cache.
    """
    out = np.empty((n, 0), dtype=np.uint8)
    for start in range(0, n, _CHUNK_ROWS):
        block = render(slice(start, min(start + _CHUNK_ROWS, n)))
        if start == 0:
            out = np.empty((n, block.shape[1]), dtype=np.uint8)
        out[start : start + len(block)] = block
    return _text(out)


def _join(n: int, *pieces: str | np.ndarray) -> np.ndarray:
    """Concatenate literal text and (n, w) byte matrices column-wise."""
    return np.concatenate(
        [
            np.broadcast_to(np.frombuffer(p.encode(), np.uint8), (n, len(p)))
            if isinstance(p, str)
            else p
            for p in pieces
        ],
        axis=1,
    )


_TRIPLETS = np.array([list(f"{i:03d}".encode()) for i in range(1000)], dtype=np.uint8)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) byte matrix.

    Three digits per table look-up: a third of the integer divisions of digit-by-digit.
    """
    v = values.astype(np.int64)
    groups = []
    for _ in range(-(-width // 3)):
        groups.append(_TRIPLETS[v % 1000])
        v = v // 1000
    return np.concatenate(groups[::-1], axis=1)[:, len(groups) * 3 - width :]


def _fixed(values: np.ndarray, int_digits: int, decimals: int) -> np.ndarray:
    """Numbers as fixed-width JSON-valid text: one sign, exactly `int_digits`, no leading 0."""
    scaled = np.round(np.abs(values) * 10**decimals).astype(np.int64)
    whole = scaled // 10**decimals
    negative = values < 0
    if len(values) and (
        negative.any() != negative.all()
        or whole.min() < 10 ** (int_digits - 1)
        or whole.max() >= 10**int_digits
    ):
        raise ValueError("values do not fit one fixed-width format")
    digits = _digits(scaled, int_digits + decimals)
    sign = ["-"] if len(values) and negative.all() else []
    return _join(len(values), *sign, digits[:, :int_digits], ".", digits[:, int_digits:])


_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def _uuid4(rng: np.random.Generator, n: int) -> pa.Array:
    """Random version-4 UUIDs, lower case, 36 characters, as ArcGIS Online returns GlobalIDs."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80

    def render(rows: slice) -> np.ndarray:
        h = np.empty((len(raw[rows]), 32), dtype=np.uint8)
        h[:, 0::2] = _HEX[raw[rows] >> 4]
        h[:, 1::2] = _HEX[raw[rows] & 0x0F]
        parts = (h[:, :8], "-", h[:, 8:12], "-", h[:, 12:16], "-", h[:, 16:20], "-", h[:, 20:])
        return _join(len(h), *parts)

    return _text_by_chunks(n, render)


def _polygons(
    cx: np.ndarray, cy: np.ndarray, half_w: np.ndarray, half_h: np.ndarray, angle: np.ndarray
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Rotated rectangular parcels as GeoJSON text, with Web Mercator Shape__Area/Length.

    Rings are counter-clockwise as RFC 7946 wants; ArcGIS's own rings run clockwise,
    which is the stand-in's business when it converts.
    """
    coslat = np.cos(np.radians(cy))

    def render(rows: slice) -> np.ndarray:
        w, h, a, c = half_w[rows], half_h[rows], angle[rows], coslat[rows]
        pieces: list[str | np.ndarray] = ['{"type":"Polygon","coordinates":[[']
        for k, (u, v) in enumerate([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]):
            dx = u * w * np.cos(a) - v * h * np.sin(a)
            dy = u * w * np.sin(a) + v * h * np.cos(a)
            lon, lat = cx[rows] + dx / (111_320 * c), cy[rows] + dy / 110_574
            pieces += [","] if k else []
            pieces += ["[", _fixed(lon, 3, 6), ",", _fixed(lat, 2, 6), "]"]
        return _join(len(w), *pieces, "]]}")

    area = 4 * half_w * half_h / coslat**2
    length = 4 * (half_w + half_h) / coslat
    return _text_by_chunks(len(cx), render), area, length


# -- places ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Place:
    fire: str
    lon: float
    lat: float
    spread: tuple[float, float]  # standard deviation of parcel centres, degrees
    city: str
    zipcode: str
    apn_book: int  # first Assessor map book of the area
    street_names: str  # "|"-separated

    @property
    def streets(self) -> list[str]:
        return self.street_names.split("|")


_PLACES = {
    p.fire: p
    for p in (
        _Place("Eaton", -118.135, 34.188, (0.018, 0.010), "Altadena", "91001", 5825,
               "N Lake Ave|E Altadena Dr|W Mariposa St|N Fair Oaks Ave|E Loma Alta Dr|"
               "Lincoln Ave|N Allen Ave|E Calaveras St|Santa Rosa Ave|E Mendocino St|"
               "Holliston Ave|Canyon Crest Rd"),
        _Place("Palisades", -118.545, 34.048, (0.022, 0.009), "Pacific Palisades", "90272",
               4410,
               "Chautauqua Blvd|Sunset Blvd|Via de la Paz|Alma Real Dr|Bienveneda Ave|"
               "Palisades Dr|Sumac Ln|El Medio Ave|Swarthmore Ave|Radcliffe Ave|Monument St|"
               "Posetano Rd"),
        _Place("Hurst", -118.462, 34.318, (0.006, 0.004), "Sylmar", "91342", 2503,
               "Olive View Dr|Glenoaks Blvd|Bledsoe St"),
        _Place("Kenneth", -118.682, 34.184, (0.006, 0.004), "West Hills", "91304", 2026,
               "Valley Circle Blvd|Vanowen St|Bell Canyon Rd"),
        _Place("Sunset", -118.352, 34.114, (0.004, 0.003), "Los Angeles", "90046", 5558,
               "Wattles Dr|Runyon Canyon Rd|Hillside Ave"),
        _Place("Lidia", -118.205, 34.488, (0.008, 0.005), "Acton", "93510", 3056,
               "Soledad Canyon Rd|Aliso Canyon Rd|Crown Valley Rd"),
    )
}  # fmt: skip


def _parcels(rng: np.random.Generator, fire_codes: np.ndarray, fires: list[str]) -> dict[str, Any]:
    """Locations, addresses, APNs and parcel shapes for rows that each belong to a fire."""
    n = len(fire_codes)
    places = [_PLACES[f] for f in fires]
    centre = np.array([(p.lon, p.lat) for p in places])[fire_codes]
    spread = np.array([p.spread for p in places])[fire_codes]
    cx = centre[:, 0] + rng.normal(0, 1, n) * spread[:, 0]
    cy = centre[:, 1] + rng.normal(0, 1, n) * spread[:, 1]
    half_w, half_h = rng.uniform(7, 16, n), rng.uniform(12, 28, n)
    geometry, area, length = _polygons(cx, cy, half_w, half_h, rng.uniform(-0.4, 0.4, n))

    streets = [s for p in places for s in p.streets]
    first = np.cumsum([0] + [len(p.streets) for p in places])[:-1]
    count = np.array([len(p.streets) for p in places])
    street = first[fire_codes] + (rng.random(n) * count[fire_codes]).astype(np.int64)
    number = pc.cast(pa.array(rng.integers(1, 40, n) * 50 + rng.integers(0, 50, n)), pa.string())
    street_line = pc.binary_join_element_wise(number, _labels(streets, street), " ")

    seq = rng.permutation(n)
    book = np.array([p.apn_book for p in places])[fire_codes] + seq // 2400
    apn_digits = (_digits(book, 4), _digits(seq // 60 % 40 + 1, 3), _digits(seq % 60 + 1, 3))
    return {
        "geometry": geometry,
        "area": area,
        "length": length,
        "street_line": street_line,
        "city": _labels([p.city for p in places], fire_codes),
        "zipcode": _labels([p.zipcode for p in places], fire_codes),
        "apn_dashed": _text(_join(n, apn_digits[0], "-", apn_digits[1], "-", apn_digits[2])),
        "apn_plain": _text(np.concatenate(apn_digits, axis=1)),
        "apn_next": _text(
            np.concatenate((apn_digits[0], apn_digits[1], _digits(seq % 60 + 2, 3)), axis=1)
        ),
    }


# -- ArcGIS layer metadata ------------------------------------------------------------------
_ESRI_TYPES = {
    "oid": ("esriFieldTypeOID", pa.int64()),
    "int": ("esriFieldTypeInteger", pa.int64()),
    "double": ("esriFieldTypeDouble", pa.float64()),
    "string": ("esriFieldTypeString", pa.string()),
    "date": ("esriFieldTypeDate", pa.int64()),
    "guid": ("esriFieldTypeGlobalID", pa.string()),
}


def _field(name: str, kind: str, length: int | None = None, alias: str | None = None) -> dict:
    esri_type = _ESRI_TYPES[kind][0]
    system = kind in ("oid", "guid") or name.startswith("Shape__")
    field: dict[str, Any] = {
        "name": name,
        "type": esri_type,
        "alias": alias or name,
        "sqlType": "sqlTypeOther",
    }
    if kind in ("string", "guid"):
        field["length"] = length or (38 if kind == "guid" else 255)
    elif kind == "date":
        field["length"] = 8
    field.update(nullable=not system, editable=not system, domain=None, defaultValue=None)
    return field


def _table(fields: list[dict], columns: dict[str, pa.Array], geometry: pa.Array) -> pa.Table:
    """Assemble columns in the field order, cast to the types the field types promise."""
    by_type = {esri: arrow for esri, arrow in _ESRI_TYPES.values()}
    if [f["name"] for f in fields] != list(columns):
        raise AssertionError("columns out of step with the field list")
    arrays = [
        (c if isinstance(c, pa.Array) else pa.array(c)).cast(by_type[f["type"]])
        for f in fields
        for c in [columns[f["name"]]]
    ]
    return pa.Table.from_arrays([*arrays, geometry], names=[*columns, "geometry"])


def _last_edit_ms(source: str, day: date) -> int:
    """The nightly rebuild: some minute between 04:00 and 06:00 Pacific on `day`."""
    seconds = _rng(source, "last-edit", day.toordinal()).integers(4 * 3600, 6 * 3600)
    return _pacific_ms(_day_index(day), float(seconds))


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


def _epa(n: int, d: int, day: date) -> ArcgisSample:
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
    return ArcgisSample(metadata, _table(_EPA_FIELDS, columns, places["geometry"]))


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


def _usace(n: int, d: int) -> ArcgisSample:
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
    reached = (steps <= d).sum(axis=0) - 1  # -1: nothing yet

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

    # received, submitted, in_review, then approved until the parcel is closed
    roe_status = np.where(reached >= 0, _ROE_STATUS_BY_STEP[np.maximum(reached, 0)], 7)
    roe_status[ret["ineligible"][1]] = _ROE_STATUS.index("returned_ineligible")
    roe_status[ret["withdrawn"][1]] = _ROE_STATUS.index("returned_withdrawn")
    roe_status[fate == "status_missing"] = _ROE_STATUS.index(None)

    def step_codes(first_step: int, count: int) -> np.ndarray:
        """0, 1, .. from `first_step` on (the last code holds); `count` (null) before."""
        code = np.minimum(reached - first_step, count - 1)
        return np.where(code < 0, count, code)

    fso_status = step_codes(9, 2)  # Received, Approved, null
    fso_status[stamp["fso_returned"][1] & (reached == 9)] = 3  # Returned
    epa_done = (1 + rng.poisson(12, n) <= d).astype(np.int8)
    gdb_from = np.full(n, _pacific_ms(9, 7 * 3600))  # first publication of the layer
    for ms, shown in [*stamp.values(), *ret.values()]:
        np.maximum(gdb_from, np.where(shown, ms, 0), out=gdb_from)
    apn_list = pc.binary_join_element_wise(places["apn_plain"], places["apn_next"], ", ")
    columns = {
        "OBJECTID": np.arange(1, n + 1),
        "ma": _labels(list(_USACE_MA), ma),
        "APN": places["apn_plain"],
        "apn_coincident_list": pc.if_else(
            pa.array(rng.random(n) < 0.08), apn_list, pa.scalar(None, pa.string())
        ),
        "address": pc.utf8_upper(
            pc.binary_join_element_wise(
                places["street_line"], places["city"], places["zipcode"], " "
            )
        ),
        "epa_status": _labels(["Phase 1 In Progress", "Phase 1 Complete"], epa_done),
        "roe_status": _labels(_ROE_STATUS, roe_status),
        "roe_received": _dates(stamp["received"]),
        "roe_approved": _dates(stamp["approved"]),
        "roe_submitted": _dates(stamp["submitted"]),
        "roe_withdrawn": _dates(ret["withdrawn"]),
        "roe_details": _labels(list(_USACE_ROE_DETAILS), details),
        "hsa_status": _labels(["Scheduled", "Report Received", "Complete", None], step_codes(3, 3)),
        "hsa_report_received": _dates(stamp["hsa_received"]),
        "hsa_report_approved": _dates(stamp["hsa_approved"]),
        "pcr_status": _labels(["Received", "Approved", "Delivered", None], step_codes(6, 3)),
        "pcr_received": _dates(stamp["pcr_received"]),
        "pcr_approved": _dates(stamp["pcr_approved"]),
        "pcr_delivery": _dates(stamp["pcr_delivery"]),
        "fso_pkg_returned": _dates(stamp["fso_returned"]),
        "fso_pkg_received": _dates(stamp["fso_received"]),
        "fso_pkg_approved": _dates(stamp["fso_approved"]),
        "fso_pkg_status": _labels(["Received", "Approved", None, "Returned"], fso_status),
        "hhm_removal_status": _labels(["In Progress", "Complete"], epa_done),
        "event_sub_name": _labels(events, event),
        "roe_returned_complete": _dates(stamp["returned_complete"]),
        "roe_returned_ineligible": _dates(ret["ineligible"]),
        "roe_returned_withdrawn": _dates(ret["withdrawn"]),
        "GDB_FROM_DATE": gdb_from,
        "GDB_TO_DATE": np.full(n, GDB_TO_DATE_CURRENT_MS),
    }
    metadata = _layer_metadata(
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
    return ArcgisSample(metadata, _table(_USACE_FIELDS, columns, places["geometry"]))


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


def _pasadena(n: int, d: int, day: date) -> ArcgisSample:
    rng = _rng("pasadena")
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
    m = int((reached >= 0).sum())  # the layer holds the permits applied for so far
    status = path[np.maximum(reached, 0), np.arange(n)]

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
    return ArcgisSample(metadata, table.slice(0, m))


def arcgis_layer(
    source: Literal["epa", "usace", "pasadena"], *, scale: float = 1.0, day: date
) -> ArcgisSample:
    """The layer as its server would serve it on `day` (metadata and every feature)."""
    d = _day_index(day)
    if source == "epa":
        return _epa(_size(20_000, scale, 150), d, day)
    if source == "usace":
        return _usace(_size(15_000, scale, 150), d)
    if source == "pasadena":
        return _pasadena(_size(3_000, scale, 60), d, day)
    raise ValueError(f"unknown ArcGIS source {source!r}")


# -- Malibu ---------------------------------------------------------------------------------
_MALIBU_TYPES = ["InPlanning", "PendingBSReview", "InBPC", "PermitIssued", "UnderConstruction",
                 "Completed", "Withdrawn"]  # fmt: skip
# terminal type -> weight; a project walks the types in order up to its terminal one
_MALIBU_FATES = {0: 0.12, 1: 0.08, 2: 0.15, 3: 0.25, 4: 0.24, 5: 0.08, 6: 0.08}
_MALIBU_GAPS = [(20, 40), (3, 10), (15, 40), (10, 40), (150, 100)]
_PIE_GROUPS = [
    ("In Planning Review", "#1f77b4", (0,)),
    ("Pending Building Safety Review", "#ff7f0e", (1,)),
    ("In Building Plan Check", "#2ca02c", (2,)),
    ("Building Permit Issued", "#d62728", (3,)),
    ("Under Construction", "#9467bd", (4,)),
    ("Construction Complete", "#8c564b", (5,)),
]
_PERMIT_TYPES = [("Building - New SFR", 0.85), ("Building - ADU", 0.15), ("Demolition", 1.4),
                 ("Grading", 0.4), ("Electrical", 0.9), ("Plumbing", 0.8),
                 ("Retaining Wall", 0.2), ("Solar PV", 0.3)]  # fmt: skip
_CASE_TYPES = {"Like-for-Like": 0.55, "Like-for-Like Plus 10%": 0.25, "Non Like-for-Like": 0.2}
_CASE_CATEGORIES = {"Single Family Residence": 0.82, "Multi-Family": 0.06,
                    "Accessory Dwelling Unit": 0.08, "Commercial": 0.04}  # fmt: skip


def malibu_endpoints(*, scale: float = 1.0, day: date) -> dict[str, list[dict]]:
    """The four JSON arrays of Malibu's permit server on `day`, keyed by endpoint name."""
    d = _day_index(day)
    n = _size(600, scale, 40)
    rng = _rng("malibu")
    fate, forced = _pick(rng, n, _MALIBU_FATES, at_least=2)
    speed = np.where(forced, 0.15, 1.0)
    applied = np.where(forced, rng.integers(1, 15, n), 10 + np.round(rng.exponential(90, n)))
    steps = _chain(rng, applied.astype(np.int64), _MALIBU_GAPS, speed)
    order = np.argsort(steps[0], kind="stable")
    steps, fate, speed = steps[:, order], fate[order], speed[order]
    withdrawn = fate == 6
    withdrawn_at = steps[0] + _gap(rng, n, 10, 60, speed)
    last = np.where(withdrawn, 0, fate)
    steps[np.arange(len(steps))[:, None] > last] = NEVER
    reached = (steps <= d).sum(axis=0) - 1
    kind = np.where(withdrawn & (withdrawn_at <= d), 6, reached)

    lng = rng.uniform(-118.75, -118.57, n)
    lat = 34.028 + (lng + 118.75) * 0.08 + rng.normal(0, 0.004, n)
    case_type, _ = _pick(rng, n, _CASE_TYPES)
    category, _ = _pick(rng, n, _CASE_CATEGORIES)
    structures = 1 + rng.binomial(2, 0.2, n)
    first_response = steps[0] + _gap(rng, n, 2, 8, speed)
    points = []
    for i in np.flatnonzero(reached >= 0):
        decided = bool(steps[1, i] <= d)
        responded = bool(first_response[i] <= d)
        points.append(
            {
                "type": _MALIBU_TYPES[kind[i]],
                "lat": round(float(lat[i]), 6),
                "lng": round(float(lng[i]), 6),
                "projectNumber": f"PLN{25 + int(steps[0, i] > _FIRST_DAY_OF_2026)}-{i + 1:04d}",
                "planningApproved": decided,
                "CASETYPE": list(_CASE_TYPES)[case_type[i]],
                "CASECATEGORY": list(_CASE_CATEGORIES)[category[i]],
                "STRUCTURES": int(structures[i]),
                "DAYSTODECISION": int(steps[1, i] - steps[0, i]) if decided else None,
                "DAYSTOFIRSTRESPONSE": int(first_response[i] - steps[0, i]) if responded else None,
                "COUNTFORDECISION": int(decided),
                "COUNTFORFIRSTRESPONSE": int(responded),
            }
        )

    current = kind[reached >= 0]
    pie = [
        {
            "REBUILDGROUP": group,
            "REBUILDTYPECOUNT": int(np.isin(current, kinds).sum()),
            "VALUECOLOR": colour,
        }
        for group, colour, kinds in _PIE_GROUPS
    ]
    issued = int((steps[3] <= d).sum())
    permits = [
        {"PermitType": name, "PalisadesPermits": int(issued * share)}
        for name, share in _PERMIT_TYPES
    ]

    visits_n = _size(40, scale, 6)
    first_visit = np.sort(
        np.where(
            np.arange(visits_n) < 3,
            rng.integers(1, 10, visits_n),
            30 + np.round(rng.exponential(80, visits_n)),
        )
    )
    every = rng.integers(14, 45, visits_n)
    v_lng = rng.uniform(-118.75, -118.57, visits_n)
    v_lat = 34.028 + (v_lng + 118.75) * 0.08 + rng.normal(0, 0.004, visits_n)
    visits = [
        {
            "INITIALVISITS": 1 + int(first_visit[i] + 7 <= d),
            "FOLLOWUPVISITS": int((d - first_visit[i]) // every[i]),
            "lat": round(float(v_lat[i]), 6),
            "lng": round(float(v_lng[i]), 6),
        }
        for i in range(visits_n)
        if first_visit[i] <= d
    ]
    return {
        "PalisadesPermitsIssued_Read": permits,
        "OverallRebuildStatsPie_Read": pie,
        "FireRebuildVisitPoints": visits,
        "FireRebuildPoints": points,
    }


# -- Airtable -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Definition:
    machine_name: str
    name: str
    title: str
    metric_type: str
    unit_label: str
    frequency: str  # as typed in Airtable: mixed case on purpose
    topic: str
    start: float
    growth: float
    first_day: int
    contact: int
    as_of_offset: int | None = None
    duplicated: bool = False  # every entry double-posted (identical fields)
    blank_followups: bool = False  # every entry followed by an empty one the same day


_DEFINITIONS = (
    _Definition("people_helped_drc", "People helped at Disaster Recovery Centers",
                "People helped at recovery centers", "count", "people helped", "Daily",
                "Assistance", 52_000, 70_000, 6, 0, as_of_offset=1),
    _Definition("people_helped_fema_funds", "People approved for FEMA funds",
                "People approved for FEMA assistance", "count", "people approved", "WEEKLY",
                "Financial assistance", 180, 4_200, 9, 1),
    _Definition("fema_individual_assistance_dollars", "FEMA Individual Assistance paid",
                "FEMA Individual Assistance", "dollars - millions", "in FEMA assistance",
                "Weekly", "Financial assistance", 45.5, 160, 9, 1, as_of_offset=1),
    _Definition("sba_loans_approved_dollars", "SBA disaster loans approved",
                "SBA disaster loans", "dollars - millions", "in SBA loans approved", "Monthly",
                "Financial assistance", 120, 2_600, 16, 2),
    _Definition("households_registered_fema", "Households registered with FEMA",
                "Households registered for FEMA assistance", "count", "households registered",
                "Daily", "Assistance", 40_000, 95_000, 5, 1),
    _Definition("debris_tons_removed", "Tons of fire debris removed", "Debris removed",
                "count", "tons of debris removed", "as needed", "Debris removal", 12_000,
                2_400_000, 20, 2, duplicated=True),
    _Definition("temporary_housing_units", "Temporary housing units occupied",
                "Temporary housing", "count", "housing units", "Monthly", "Housing", 40, 1_100,
                25, 0, blank_followups=True),
    _Definition("permits_fee_waivers", "Permit fee waivers granted", "Permit fee waivers",
                "count", "fee waivers", "Content update", "Rebuilding", 15, 3_200, 30, 2),
    _Definition("malibu_building_permits_issued", "Malibu building permits issued",
                "Malibu building permits", "count", "permits issued", "Daily", "Rebuilding", 1,
                240, 35, 2),
    _Definition("crisis_counseling_contacts", "Crisis counseling contacts",
                "Crisis counseling", "count", "people reached", "completed", "Assistance",
                5_000, 38_000, 12, 0),
    _Definition("disaster_unemployment_dollars", "Disaster Unemployment Assistance paid",
                "Disaster Unemployment Assistance", "dollars - millions",
                "in unemployment assistance", "as needed", "Financial assistance", 2.1, 19, 14,
                1),
    _Definition("businesses_assisted", "Businesses assisted", "Businesses assisted", "count",
                "businesses assisted", "weekly", "Rebuilding", 300, 6_500, 18, 0),
)  # fmt: skip
_CONTACTS = [("Jordan Avila", "jordan.avila@example.org"),
             ("Priya Raman", "priya.raman@example.org"),
             ("Sam Okafor", "sam.okafor@example.org")]  # fmt: skip
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _airtable_id(rng: np.random.Generator, prefix: str) -> str:
    return prefix + "".join(_BASE62[i] for i in rng.integers(0, 62, 14))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )


def airtable_records(*, scale: float = 1.0, day: date) -> list[dict]:
    """Metric entries as the Airtable REST API returns them, created up to the end of `day`."""
    d = _day_index(day)
    per_metric = _size(10, scale, 5)
    people = _rng("airtable", "people")
    collaborators = [
        {"id": _airtable_id(people, "usr"), "email": email, "name": name}
        for name, email in _CONTACTS
    ]
    entries: list[tuple[int, int, str, dict]] = []  # (created ms, created-time ms, id, fields)
    for definition in _DEFINITIONS:
        rng = _rng("airtable", definition.machine_name)
        definition_id = _airtable_id(rng, "rec")
        lookups: dict[str, Any] = {
            "Metric Definition": [definition_id],
            "Metric Title for Interface": [definition.title],
            "Metric Machine Name (from Metric Definition)": [definition.machine_name],
            "Metric Name (from Metric Definition)": [definition.name],
            "Metric Type (from Metric Definition)": [definition.metric_type],
            "Metric Unit Label (from Metric Definition)": [definition.unit_label],
            "Update Frequency (from Metric Definition)": [definition.frequency],
            "Topic (from Metric Definition)": [definition.topic],
            "As Of Time (from Metric Definition)": ["5:00 PM"],
        }
        if definition.as_of_offset is not None:
            lookups["As Of Offset (from Metric Definition)"] = [definition.as_of_offset]
        name, email = _CONTACTS[definition.contact]
        lookups["Metric Contact Name (from Metric Definition)"] = [name]
        lookups["Metric Contact Email (from Metric Definition)"] = [email]

        # most entries come in the first months of the recovery, then updates thin out
        span = max(420, 3 * per_metric)
        weight = np.exp(-np.arange(1, span) / 70)
        later = rng.choice(
            np.arange(1, span), per_metric - 1, replace=False, p=weight / weight.sum()
        )
        days = definition.first_day + np.sort(np.concatenate([[0], later]))
        for k, entry_day in enumerate(days.tolist()):
            level = definition.start + definition.growth * (1 - np.exp(-entry_day / 150))
            dollars = definition.metric_type == "dollars - millions"
            value = round(float(level), 2) if dollars else int(level)
            created = _pacific_ms(entry_day, float(rng.integers(8 * 3600, 13 * 3600)))
            duplicated = definition.duplicated or rng.random() < 0.08
            corrected = not duplicated and rng.random() < 0.2
            blank_after = definition.blank_followups or rng.random() < 0.04
            author = collaborators[int(rng.integers(0, 3))]
            typo = round(value * 1.02, 2) if dollars else value + max(1, int(value * 0.02))
            fix_day = entry_day + int(rng.integers(0, 3))
            fix_ms = (
                created + 3_600_000
                if fix_day == entry_day
                else _pacific_ms(fix_day, float(rng.integers(*WORK_HOURS)))
            )
            record_id, twin_id = _airtable_id(rng, "rec"), _airtable_id(rng, "rec")
            blank_id = _airtable_id(rng, "rec")
            if entry_day > d:
                continue
            fields: dict[str, Any] = {"Metric": value, "Date Created": _iso(created)}
            if corrected:
                if fix_day <= d:
                    fields["Date Metric Modified"] = _iso(fix_ms)
                else:
                    fields["Metric"] = typo
            fields["Metric Modified By"] = author
            if definition.as_of_offset is not None:
                as_of = _pacific_ms(max(entry_day - 1, 0), 17 * 3600)
                local = datetime.fromtimestamp(as_of / 1000, PACIFIC)
                fields["As Of Label"] = f"as of {local:%B} {local.day}, {local.year}, 5 p.m."
                fields["As Of Date and Time"] = _iso(as_of)
                fields["Datetime Offset Number"] = definition.as_of_offset
                fields["Datetime Offset Variable"] = "days"
            fields.update(lookups)
            entries.append((created, created, record_id, fields))
            if duplicated:
                entries.append((created, created + 60_000 * (1 + k % 9), twin_id, dict(fields)))
            if blank_after:
                blank = {"Date Created": _iso(created + 1_800_000), **lookups}
                entries.append((created + 1_800_000, created + 1_800_000, blank_id, blank))
    entries.sort(key=lambda e: (e[1], e[2]))
    return [{"id": rid, "createdTime": _iso(ct), "fields": f} for _, ct, rid, f in entries]


# -- page feedback (Fivetran-landed DynamoDB table) -----------------------------------------
_SITE_PAGES = {
    "/": ["hero", "latest-updates", "recovery-metrics"],
    "/debris-removal/": ["phase-1", "phase-2", "right-of-entry", "faq"],
    "/rebuilding-permits/": ["apply", "fee-waivers", "faq"],
    "/financial-assistance/": ["fema", "sba-loans", "unemployment"],
    "/housing/": ["temporary-housing", "rental-assistance"],
    "/replace-documents/": ["vital-records", "drivers-license"],
}
_COMMENTS = [
    "Very helpful, thank you.",
    "Could not find when my debris will be picked up.",
    "The right of entry link did not work for me.",
    "Please add information in Spanish.",
    "Great summary of the permit steps.",
    "Numbers look out of date.",
    "Call me back please at (626) 555-0147, I have questions about my lot.",
    "My email is maria.gonzalez@example.com, nobody answered my ROE question.",
    "I live at 1234 E Mariposa St, Altadena and still no update on Phase 2.",
    "Nothing about renters here.",
]


def page_feedback_rows(*, scale: float = 1.0, day: date) -> pa.Table:
    """The page-feedback table as Fivetran lands it from DynamoDB, synced through `day`."""
    d = _day_index(day)
    n = _size(5_000, scale, 100)
    rng = _rng("page_feedback")
    sent_day = np.sort(
        np.where(np.arange(n) < 20, rng.integers(1, 8, n), 1 + np.round(rng.exponential(140, n)))
    )
    sent_day = sent_day.astype(np.int64)
    seconds = rng.integers(0, 86_400, n).astype(np.int64)
    keys = _uuid4(rng, n)
    pairs = [(page, section) for page, sections in _SITE_PAGES.items() for section in sections]
    pair = rng.integers(0, len(pairs), n)
    domain = np.where(rng.random(n) < 0.88, "recovery.lafires.ca.gov", "lafires.ca.gov")
    helpful = rng.random(n) < 0.7
    has_comment = rng.random(n) < np.where(helpful, 0.2, 0.55)
    comment = rng.integers(0, len(_COMMENTS), n)
    deleted_after = np.where(rng.random(n) < 0.05, rng.integers(1, 20, n), NEVER)

    deleted_day = sent_day + deleted_after  # the snapshot day that first shows the deletion
    deleted_seconds = rng.integers(0, 86_400, n).astype(np.int64)
    sync_jitter = rng.integers(60, 900, n).astype(np.int64) * 1000

    m = int((sent_day <= d).sum())  # sent on day index t-1 at the latest, so before `day`
    midnights = _midnights_ms(d)
    sent_ms = midnights[sent_day[:m] - 1] + seconds[:m] * 1000
    deleted = deleted_day[:m] <= d
    deleted_ms = midnights[np.where(deleted, deleted_day[:m] - 1, 0)] + deleted_seconds[:m] * 1000
    changed_ms = np.where(deleted, np.maximum(deleted_ms, sent_ms), sent_ms)
    six_hours = 6 * 3_600_000  # Fivetran's sync interval
    synced_ms = (changed_ms // six_hours + 1) * six_hours + sync_jitter[:m]
    page = _labels([p for p, _ in pairs], pair[:m])
    section = _labels([s for _, s in pairs], pair[:m])
    url = pc.binary_join_element_wise(
        pc.binary_join_element_wise("https://", pa.array(domain[:m]), page, ""), section, "#"
    )
    return pa.table(
        {
            "FEEDBACK_KEY": keys.slice(0, m),
            "SITE_DOMAIN": pa.array(domain[:m], pa.string()),
            "PAGE": page,
            "PAGE_SECTION": section,
            "URL": url,
            "TIME": pa.array(sent_ms * 1000, pa.timestamp("us")),
            "IS_HELPFUL": pa.array(helpful[:m]),
            "COMMENTS": pc.if_else(
                pa.array(has_comment[:m]),
                _labels(_COMMENTS, comment[:m]),
                pa.scalar(None, pa.string()),
            ),
            "_FIVETRAN_SYNCED": pa.array(synced_ms * 1000, pa.timestamp("us")),
            "_FIVETRAN_DELETED": pa.array(deleted),
        }
    )
