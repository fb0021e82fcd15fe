"""Reading a whole ArcGIS REST layer, correctly, whatever the server does.

Why not `esridump` (the maintained pager we tried)? It fetches pages one after
another, trusts `exceededTransferLimit`, and has no per-source TLS or jittered retry.
Here the total comes from `returnCountOnly`, pages are requested concurrently by
offset (bounded), a short page is followed up from where it stopped (a server whose
real cap is below its advertised `maxRecordCount`), and the result is checked against
the count — so neither a server that never sets `exceededTransferLimit` nor one that
caps pages silently can lose rows. Layers without pagination are read by object ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pyarrow as pa

from ddrc_platform.ingest.sources.http import AnswerRejected, SourceClient, SourceDataError

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

# The largest page we ask for even when a server allows more: big pages time out.
MAX_PAGE_SIZE = 2000

_ESRI_TYPES: dict[str, pa.DataType] = {
    "esriFieldTypeOID": pa.int64(),
    "esriFieldTypeInteger": pa.int64(),
    "esriFieldTypeSmallInteger": pa.int64(),
    "esriFieldTypeBigInteger": pa.int64(),
    "esriFieldTypeDouble": pa.float64(),
    "esriFieldTypeSingle": pa.float64(),
    "esriFieldTypeDate": pa.int64(),  # epoch milliseconds, as the server sends them
    "esriFieldTypeString": pa.string(),
    "esriFieldTypeGlobalID": pa.string(),
    "esriFieldTypeGUID": pa.string(),
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
    features = list(features)
    names = [f["name"] for f in fields]
    known = {n.upper() for n in names}
    delivered = {k.upper(): k for k in (features[0].get("attributes") or {})} if features else {}
    # an attribute the field list forgot is still delivered data
    names += [k for upper, k in delivered.items() if upper not in known]
    types = {f["name"]: _ESRI_TYPES.get(f.get("type", ""), pa.string()) for f in fields}
    columns: dict[str, pa.Array] = {}
    for name in names:
        key = delivered.get(name.upper(), name)  # field-name case changes between deliveries
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
        meta = self.metadata()
        oid = meta.get("objectIdField") or next(
            (f["name"] for f in meta["fields"] if f.get("type") == "esriFieldTypeOID"), "OBJECTID"
        )
        count = self._query(returnCountOnly="true", returnGeometry="false").get("count")
        if not isinstance(count, int):
            raise self.client.error(self.url, "returnCountOnly gave no count")
        page_size = max(1, min(int(meta.get("maxRecordCount") or 1000), MAX_PAGE_SIZE))
        paging = (meta.get("advancedQueryCapabilities") or {}).get("supportsPagination", True)
        fields = meta["fields"]
        with ThreadPoolExecutor(self.concurrency) as pool:
            # each page becomes columns as soon as it arrives: a million feature dicts at
            # once cost gigabytes (measured: 6.4 GB peak for 3.5M features)
            if paging:
                pages = pool.map(
                    lambda offset: features_to_table(
                        fields, self._page_from(offset, page_size, count, oid)
                    ),
                    range(0, count, page_size),
                )
            else:
                ids = sorted(self._query(returnIdsOnly="true").get("objectIds") or [])
                chunks = [ids[i : i + page_size] for i in range(0, len(ids), page_size)]
                pages = pool.map(
                    lambda chunk: features_to_table(
                        fields, self._query(objectIds=",".join(map(str, chunk)))["features"]
                    ),
                    chunks,
                )
            tables = list(pages)
        delivered = pa.concat_tables(
            tables or [features_to_table(fields, [])], promote_options="default"
        )
        table, repeated = _unique_by(oid, delivered)
        if repeated and self._repeats_ids():
            # the layer's own id list repeats ids: no reread can fix that
            raise SourceDataError(
                self.client.title,
                self.url,
                f"the layer itself is inconsistent: {delivered.num_rows - table.num_rows} of its "
                f"{count} features repeat an object id ({oid} "
                f"{', '.join(map(str, repeated[:5]))}); tell the layer's owner",
            )
        if table.num_rows != count:
            raise self.client.error(
                self.url,
                f"read {table.num_rows} distinct features but the layer reports {count}; "
                "it probably changed during the read — retry the load",
                retryable=True,
            )
        return LayerData(meta, table)

    def _repeats_ids(self) -> bool:
        """Whether the layer itself lists an object id twice (not pages that shifted)."""
        ids = self._query(returnIdsOnly="true").get("objectIds") or []
        return len(ids) != len(set(ids))

    def _page_from(self, offset: int, page_size: int, count: int, oid: str) -> list[dict]:
        """One page; if the server sent less than asked (a lower hidden cap), fetch the rest."""
        features: list[dict] = []
        wanted = min(page_size, count - offset)
        while len(features) < wanted:
            page = self._query(
                resultOffset=offset + len(features),
                resultRecordCount=wanted - len(features),
                orderByFields=f"{oid} ASC",
            )
            got = page.get("features")
            if not isinstance(got, list):
                raise self.client.error(self.url, "query page has no feature list")
            if not got:
                break
            features += got
        return features


def _unique_by(oid: str, table: pa.Table) -> tuple[pa.Table, list]:
    """Pages overlap when a layer shifts under paging: keep each object id once.

    Returns the table and the object ids that occurred more than once.
    """
    column = next((c for c in table.column_names if c.upper() == oid.upper()), None)
    if column is None:
        return table, []
    ids = table.column(column).to_numpy(zero_copy_only=False)
    values, first, counts = np.unique(ids, return_index=True, return_counts=True)
    if len(first) == table.num_rows:
        return table, []
    return table.take(np.sort(first)), values[counts > 1].tolist()
