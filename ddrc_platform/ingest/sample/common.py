"""Shared building blocks of the sample generators: seeded randomness, fast columns.

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
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ddrc_platform.core.names import FIRST_LOAD_DATE, PACIFIC

SAMPLE_DAY_ZERO: date = FIRST_LOAD_DATE  # day index 0 (fires were Jan 7 2025)

NEVER = 1_000_000  # the threshold of a step a record never takes
MIN_SCALE, MAX_SCALE = 0.01, 100.0
GDB_TO_DATE_CURRENT_MS = 253_402_300_799_000  # 9999-12-31 23:59:59: an archive's live row
WORK_HOURS = (8 * 3600, 15 * 3600 + 1800)  # Pacific; keeps the UTC date equal to the local one
_FIRST_DAY_OF_2026 = (date(2026, 1, 1) - SAMPLE_DAY_ZERO).days  # permit numbers change year


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
