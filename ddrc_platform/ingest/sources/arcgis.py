"""Reading a whole ArcGIS REST layer, correctly, whatever the server does.

Why not `esridump` (the maintained pager we tried)? It pages by offset, one page after
another, trusts `exceededTransferLimit`, and has no per-source TLS or jittered retry.
Offset paging is also wrong for a layer edited while it is read: one delete and one insert
between two pages shift the offsets, and the result keeps the deleted feature and lacks an
unchanged one, with the right count. So a read here is one consistent state of the layer
or a refusal: the edit date and the list of object ids, then the features in batches by
id range (concurrently, bounded), a range cut short (a server whose real cap is below its
advertised `maxRecordCount`, or `exceededTransferLimit`) followed up from its last id,
the ids read checked against the ids listed, and the edit date and id list read again.
A layer that moved is read once more; one that keeps moving is refused, naming what moved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ddrc_platform.ingest.sources.http import AnswerRejected, SourceClient, SourceDataError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# Fields ArcGIS itself maintains (ids, geometry measures); which of them a layer has
# depends on its storage (hosted: Shape__Area; enterprise geodatabase: Shape.STArea()).
# They are never schema drift; those a source's documentation lists are still required.
SYSTEM_FIELD_TYPES = frozenset(
    {"esriFieldTypeOID", "esriFieldTypeGlobalID", "esriFieldTypeGeometry"}
)
SYSTEM_FIELD_NAMES = frozenset(
    {
        "OBJECTID",
        "FID",
        "GLOBALID",
        "SHAPE",
        "SHAPE__AREA",
        "SHAPE__LENGTH",
        "SHAPE_AREA",
        "SHAPE_LENGTH",
        "SHAPE_LENG",
        "SHAPE.AREA",
        "SHAPE.LEN",
        "SHAPE.STAREA()",
        "SHAPE.STLENGTH()",
        "ST_AREA(SHAPE)",
        "ST_LENGTH(SHAPE)",
    }
)

# A field name that may stand unquoted in a layer's `where` clause (its object id field).
_PLAIN_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")

# The largest page we ask for even when a server allows more: big pages time out.
MAX_PAGE_SIZE = 2000

# Each field type's pyarrow type, by factory name (`pa.int64()`): pyarrow loads with data.
_ESRI_TYPES: dict[str, str] = {
    "esriFieldTypeOID": "int64",
    "esriFieldTypeInteger": "int64",
    "esriFieldTypeSmallInteger": "int64",
    "esriFieldTypeBigInteger": "int64",
    "esriFieldTypeDouble": "float64",
    "esriFieldTypeSingle": "float64",
    "esriFieldTypeDate": "int64",  # epoch milliseconds, as the server sends them
    "esriFieldTypeString": "string",
    "esriFieldTypeGlobalID": "string",
    "esriFieldTypeGUID": "string",
}


def raise_arcgis_error(payload: Any) -> None:
    """ArcGIS reports failures as HTTP 200 with an error object: a failed page, not an empty one."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        code = error.get("code")
        details = "; ".join(str(d) for d in error.get("details") or [])
        message = f"ArcGIS error {code}: {error.get('message', '')}" + (
            f" ({details})" if details else ""
        )
        retryable = code is None or int(code) >= 500 or int(code) in (429, 408)
        raise AnswerRejected(message, retryable=retryable)


def system_fields(metadata: dict) -> tuple[str, ...]:
    """The layer's own bookkeeping fields, upper case: its `objectIdField`, `globalIdField`,
    fields of a system type, and the usual geometry measures (`SYSTEM_FIELD_NAMES`)."""
    named = [metadata.get("objectIdField"), metadata.get("globalIdField")]
    typed = [f["name"] for f in metadata.get("fields") or () if f.get("type") in SYSTEM_FIELD_TYPES]
    found = {str(n).upper() for n in (*named, *typed) if n} | SYSTEM_FIELD_NAMES
    return tuple(sorted(found))


def _ring_area(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in pairwise(ring))


def esri_to_geojson(geometry: dict | None) -> str | None:
    """Esri JSON geometry to GeoJSON text (esri outer rings run clockwise, holes the other way)."""
    if not geometry:
        return None
    if "x" in geometry:
        if geometry["x"] is None:
            return None
        shape = {"type": "Point", "coordinates": [geometry["x"], geometry["y"]]}
    elif "points" in geometry:
        shape = {"type": "MultiPoint", "coordinates": geometry["points"]}
    elif "paths" in geometry:
        paths = geometry["paths"]
        shape = (
            {"type": "LineString", "coordinates": paths[0]}
            if len(paths) == 1
            else {"type": "MultiLineString", "coordinates": paths}
        )
    elif "rings" in geometry:
        polygons: list[list] = []
        for ring in geometry["rings"]:
            # GeoJSON (RFC 7946) winds the other way: outer rings counter-clockwise
            if _ring_area(ring) <= 0 or not polygons:  # clockwise: a new outer ring
                polygons.append([ring[::-1]])
            else:
                polygons[-1].append(ring[::-1])
        shape = (
            {"type": "Polygon", "coordinates": polygons[0]}
            if len(polygons) == 1
            else {"type": "MultiPolygon", "coordinates": polygons}
        )
    else:
        return None
    return json.dumps(shape, separators=(",", ":"))


def layer_last_edit(metadata: dict) -> datetime | None:
    editing = metadata.get("editingInfo") or {}
    millis = editing.get("lastEditDate") or editing.get("dataLastEditDate")
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else None


@dataclass(frozen=True)
class LayerData:
    """One whole layer as its server serves it; what a live read and a sample both give, so
    the loaders, the signals and the stand-ins cannot tell them apart."""

    metadata: dict  # exactly what GET {layer_url}?f=json returns
    table: pa.Table  # field columns in the server's order (delivered case), then "geometry"

    @property
    def last_edit(self) -> datetime | None:
        """editingInfo.lastEditDate; MapServer layers have none."""
        return layer_last_edit(self.metadata)


def features_to_table(fields: list[dict], features: Iterable[dict]) -> pa.Table:
    """Columns typed by the layer's field list, so an empty or all-null column keeps its type."""
    import pyarrow as pa

    features = list(features)
    names = [f["name"] for f in fields]
    known = {n.upper() for n in names}
    attributes = list(features[0].get("attributes") or {}) if features else []
    delivered = {k.upper(): k for k in attributes}
    # an attribute the field list forgot is still delivered data
    names += [k for k in attributes if k not in names and k.upper() not in known]
    types = {f["name"]: getattr(pa, _ESRI_TYPES.get(f.get("type", ""), "string"))() for f in fields}
    columns: dict[str, pa.Array] = {}
    for name in names:
        # field-name case changes between deliveries; fields that differ only by case
        # (both delivered) each keep their own values
        key = name if name in attributes else delivered.get(name.upper(), name)
        values = [feature["attributes"].get(key) for feature in features]
        data_type = types.get(name, pa.string())
        try:
            columns[name] = pa.array(values, type=data_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    columns["geometry"] = pa.array(
        [esri_to_geojson(feature.get("geometry")) for feature in features], pa.string()
    )
    return pa.table(columns)


@dataclass(frozen=True)
class _State:
    """What says whether a layer moved: its metadata (the edit date) and its object ids."""

    metadata: dict
    ids: np.ndarray  # sorted, each once

    @property
    def edit(self) -> datetime | None:
        return layer_last_edit(self.metadata)


def object_id_field(metadata: dict) -> str:
    """The layer's object id field: `objectIdField`, else its field of type OID."""
    fields = metadata.get("fields") or []
    return metadata.get("objectIdField") or next(
        (f["name"] for f in fields if f.get("type") == "esriFieldTypeOID"), "OBJECTID"
    )


class ArcgisLayer:
    """One layer of an ArcGIS FeatureServer or MapServer."""

    def __init__(self, client: SourceClient, url: str, concurrency: int = 4) -> None:
        """`url` may carry a query string (a secured layer's `?token=...`): it is kept on
        every request, and `/query` goes into the path, where ArcGIS expects it."""
        parts = urlsplit(url)
        self.client = client
        self.url = parts._replace(query="", fragment="").geturl().rstrip("/")
        self.params = dict(parse_qsl(parts.query))
        self.concurrency = max(1, concurrency)

    def _get(self, suffix: str, params: dict[str, Any]) -> Any:
        return self.client.get_json(
            f"{self.url}{suffix}", {**self.params, **params, "f": "json"}, check=raise_arcgis_error
        )

    def metadata(self) -> dict:
        meta = self._get("", {})
        if not isinstance(meta, dict) or "fields" not in meta:
            raise self.client.error(self.url, "layer metadata has no field list")
        return meta

    def _query(self, **params: Any) -> dict:
        base = {"where": "1=1", "outFields": "*", "returnGeometry": "true", "outSR": 4326}
        page = self._get("/query", {**base, **params})
        if not isinstance(page, dict):
            raise self.client.error(self.url, "query answer is not a JSON object")
        return page

    def read(self) -> LayerData:
        """One consistent state of the layer; read twice if it moved, refused if it keeps
        moving (the loader then keeps the last good snapshot)."""
        before = self._state()
        for _ in range(2):
            table = self._features(before)
            after = self._state()
            moved = _movement(before, after, _ids_of(table, object_id_field(before.metadata)))
            if moved is None:
                return LayerData(before.metadata, table)
            before = after
        raise self.client.error(
            self.url,
            f"the layer changed while it was read twice: {moved}; "
            "the last good snapshot is kept and the next run reads the layer again",
        )

    def _state(self) -> _State:
        """The edit date and the object ids, in that order (so an edit between them shows)."""
        import numpy as np

        meta = self.metadata()
        answer = self._query(returnIdsOnly="true", returnGeometry="false")
        listed = answer.get("objectIds") or []  # an empty layer lists `null`
        if answer.get("exceededTransferLimit") or not isinstance(listed, list):
            raise self.client.error(
                self.url, "the layer did not list all its object ids in one answer"
            )
        ids = np.sort(np.asarray(listed, dtype=np.int64))
        repeated = np.unique(ids[1:][ids[1:] == ids[:-1]])
        if len(repeated):
            # the layer's own id list repeats ids: no reread can fix that
            raise SourceDataError(
                self.client.title,
                self.url,
                f"the layer itself is inconsistent: {len(ids) - len(np.unique(ids))} of its "
                f"{len(ids)} object ids are listed twice ({object_id_field(meta)} "
                f"{', '.join(map(str, repeated[:5].tolist()))}); tell the layer's owner",
            )
        return _State(meta, ids)

    def _features(self, state: _State) -> pa.Table:
        """The features of the listed ids, in batches of consecutive ids (≤ a page each).

        Each batch becomes columns as soon as it arrives: a million feature dicts at once
        cost gigabytes (measured: 6.4 GB peak for 3.5M features).
        """
        import pyarrow as pa

        fields, oid = state.metadata["fields"], object_id_field(state.metadata)
        size = max(1, min(int(state.metadata.get("maxRecordCount") or 1000), MAX_PAGE_SIZE))
        batches = [state.ids[i : i + size] for i in range(0, len(state.ids), size)]
        with ThreadPoolExecutor(self.concurrency) as pool:
            tables = list(
                pool.map(
                    lambda ids: features_to_table(
                        fields, self._range(oid, int(ids[0]), int(ids[-1]))
                    ),
                    batches,
                )
            )
        delivered = pa.concat_tables(
            tables or [features_to_table(fields, [])], promote_options="default"
        )
        return _unique_by(oid, delivered)

    def _range(self, oid: str, low: int, high: int) -> list[dict]:
        """The features with ids from `low` to `high`; a page that stops short of `high`
        (a lower hidden cap, `exceededTransferLimit`) is followed up from its last id."""
        if not _PLAIN_FIELD.fullmatch(oid):  # it goes into the layer's own SQL
            raise self.client.error(self.url, f"the object id field {oid!r} is not a plain name")
        features: list[dict] = []
        while low <= high:
            page = self._query(where=f"{oid} >= {low} AND {oid} <= {high}", orderByFields=oid)
            got = page.get("features")
            if not isinstance(got, list):
                raise self.client.error(self.url, "query page has no feature list")
            if not got:
                break
            features += got
            low = max(self._feature_id(oid, feature) for feature in got) + 1
        return features

    def _feature_id(self, oid: str, feature: dict) -> int:
        attributes = feature.get("attributes") or {}
        value = next((v for k, v in attributes.items() if k.upper() == oid.upper()), None)
        if not isinstance(value, int):
            raise self.client.error(self.url, f"a feature came without its object id {oid}")
        return value


def _ids_of(table: pa.Table, oid: str) -> np.ndarray:
    import numpy as np

    column = next((c for c in table.column_names if c.upper() == oid.upper()), None)
    if column is None:
        return np.array([], dtype=np.int64)
    return table.column(column).to_numpy(zero_copy_only=False)


def _movement(before: _State, after: _State, read: np.ndarray) -> str | None:
    """What moved between the two states and in the ids read, or None if nothing did."""
    import numpy as np

    listed = before.ids
    added = np.union1d(np.setdiff1d(after.ids, listed), np.setdiff1d(read, listed))
    removed = np.union1d(np.setdiff1d(listed, after.ids), np.setdiff1d(listed, read))
    moved = []
    if before.edit != after.edit:
        when = [e.isoformat() if e else "none" for e in (before.edit, after.edit)]
        moved.append(f"its edit date went from {when[0]} to {when[1]}")
    if len(added) or len(removed):
        examples = [
            f"{word} {', '.join(map(str, ids[:3].tolist()))}"
            for word, ids in (("added", added), ("removed", removed))
            if len(ids)
        ]
        moved.append(f"{len(added)} ids added, {len(removed)} removed ({'; '.join(examples)})")
    return "; ".join(moved) or None


def _unique_by(oid: str, table: pa.Table) -> pa.Table:
    """A server may send a feature twice (two answers for one range): keep each id once."""
    import numpy as np

    ids = _ids_of(table, oid)
    if len(ids) != table.num_rows:
        return table
    _, first = np.unique(ids, return_index=True)
    return table if len(first) == table.num_rows else table.take(np.sort(first))
