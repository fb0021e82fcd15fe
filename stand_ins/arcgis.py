"""A stand-in ArcGIS REST server: layer metadata and paged feature queries.

It answers the way ArcGIS Online and ArcGIS Enterprise do, including the habits loaders
trip over: a page never exceeds `maxRecordCount` whatever the client asks, the default
`outFields` is the object id alone, errors come back as HTTP 200 with an `error` body,
and older servers never say `exceededTransferLimit` (so a loader must keep paging until
a short page). Layers can be replaced while serving, which is how tests simulate
schema drift or a nightly rebuild, and edited while a client reads them (after each page
of features served), which is how they simulate a layer that moves under a reader.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ddrc_platform.ingest.sources.arcgis import LayerData
from stand_ins.base import Request, Response, StandIn

_CLAUSE = re.compile(r"^\s*(?:(1\s*=\s*1)|(\w+)\s*(<=|>=|<>|=|<|>)\s*(-?\d+))\s*$", re.IGNORECASE)
_ORDER = re.compile(r"^\s*(\w+)(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)
_TRUE = ("true", "1", "yes")


class QueryError(ValueError):
    """A request ArcGIS would refuse with its HTTP-200 error body."""


def geojson_to_esri(text: str | None) -> dict | None:
    """GeoJSON geometry text to Esri JSON; rings reversed, as Esri exteriors run clockwise."""
    if text is None:
        return None
    geometry = json.loads(text)
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return {"x": coords[0], "y": coords[1]}
    if kind == "MultiPoint":
        return {"points": coords}
    if kind == "LineString":
        return {"paths": [coords]}
    if kind == "MultiLineString":
        return {"paths": coords}
    if kind == "Polygon":
        return {"rings": [ring[::-1] for ring in coords]}
    if kind == "MultiPolygon":
        return {"rings": [ring[::-1] for polygon in coords for ring in polygon]}
    raise ValueError(f"unsupported geometry type {kind!r}")


@dataclass(frozen=True)
class _Layer:
    sample: LayerData
    max_record_count: int
    honour_transfer_limit: bool
    oid_field: str
    oids: np.ndarray  # the object id column, for filtering without touching Arrow per request
    in_oid_order: bool  # then ordering by the object id costs nothing (the usual request)
    advertised: int | None  # the maxRecordCount the metadata claims, if not the real cap

    @classmethod
    def of(
        cls, sample: LayerData, max_record_count: int, honour: bool, advertised: int | None
    ) -> _Layer:
        oid_field = sample.metadata["objectIdField"]
        oids = sample.table[oid_field].to_numpy()
        in_order = bool(np.all(oids[1:] > oids[:-1]))
        return cls(sample, max_record_count, honour, oid_field, oids, in_order, advertised)

    def with_sample(self, sample: LayerData) -> _Layer:
        """The same settings over other data (an edit)."""
        return _Layer.of(sample, self.max_record_count, self.honour_transfer_limit, self.advertised)

    def field(self, name: str) -> dict:
        """A field by name, case-insensitively, as ArcGIS resolves names in queries."""
        for field in self.sample.metadata["fields"]:
            if field["name"].lower() == name.lower():
                return field
        raise QueryError(f"'Invalid field: {name}' parameter is invalid")


def edit_layer(
    layer: LayerData, *, delete: Iterable[int] = (), insert: int = 0, later_ms: int = 1000
) -> LayerData:
    """`layer` after an edit: features deleted by object id, `insert` new ones (copies of
    the last feature under the next ids), and `editingInfo.lastEditDate` moved on by
    `later_ms`, as a FeatureServer moves it on any edit (a MapServer layer has none)."""
    oid = layer.metadata["objectIdField"]
    ids = layer.table[oid]
    table = layer.table.filter(pc.invert(pc.is_in(ids, pa.array(list(delete), ids.type))))
    last, top = layer.table.slice(layer.table.num_rows - 1), pc.max(ids).as_py() or 0
    position = layer.table.schema.get_field_index(oid)
    copies = [
        last.set_column(position, oid, pa.array([top + 1 + n], ids.type)) for n in range(insert)
    ]
    metadata = layer.metadata
    if "editingInfo" in metadata:
        editing = metadata["editingInfo"]
        moved = {**editing, "lastEditDate": editing["lastEditDate"] + later_ms}
        metadata = {**metadata, "editingInfo": moved}
    return LayerData(metadata, pa.concat_tables([table, *copies]))


class ArcgisServer(StandIn):
    """Feature layers at paths such as `/arcgis/rest/services/EPA/FeatureServer/0`."""

    def __init__(self, token: str | None = None) -> None:
        """`token`: a secured server, answering only requests with `token=<token>`."""
        super().__init__()
        self.token = token
        self._layers: dict[str, _Layer] = {}
        self._edits: dict[str, Iterator[LayerData]] = {}
        self._layers_lock = threading.Lock()

    # -- layers ----------------------------------------------------------------------
    def add_layer(
        self,
        path: str,
        sample: LayerData,
        *,
        max_record_count: int | None = None,
        honour_transfer_limit: bool = True,
        advertised_max_record_count: int | None = None,
    ) -> str:
        """Serve `sample` at `path`; returns the layer URL.

        `advertised_max_record_count`: a server whose real page cap (`max_record_count`)
        is below the one its metadata claims, silently.
        """
        path = _normal(path)
        size = max_record_count or sample.metadata["maxRecordCount"]
        with self._layers_lock:
            if path in self._layers:
                raise ValueError(f"{path} is already served; use set_layer to replace it")
            self._layers[path] = _Layer.of(
                sample, size, honour_transfer_limit, advertised_max_record_count
            )
        return self.layer_url(path)

    def set_layer(
        self,
        path: str,
        sample: LayerData,
        *,
        max_record_count: int | None = None,
        honour_transfer_limit: bool | None = None,
    ) -> None:
        """Replace a layer's data (a rebuild, a schema change); settings kept unless given."""
        path = _normal(path)
        with self._layers_lock:
            old = self._layers[path]
            if honour_transfer_limit is None:
                honour_transfer_limit = old.honour_transfer_limit
            size = max_record_count or old.max_record_count
            self._layers[path] = _Layer.of(sample, size, honour_transfer_limit, old.advertised)

    def edit_while_read(self, path: str, versions: Iterable[LayerData]) -> None:
        """After each page of features served from `path`, the layer becomes the next of
        `versions`: one version is a layer edited between two pages of a read; an endless
        iterator (see `edit_layer`) is a layer that keeps moving."""
        with self._layers_lock:
            self._edits[_normal(path)] = iter(versions)

    def _edit_after_page(self, path: str) -> None:
        with self._layers_lock:
            edits = self._edits.get(path)
            version = next(edits, None) if edits is not None else None
            if version is not None:
                self._layers[path] = self._layers[path].with_sample(version)
            elif edits is not None:
                del self._edits[path]

    def remove_layer(self, path: str) -> None:
        with self._layers_lock:
            del self._layers[_normal(path)]

    def layer_url(self, path: str) -> str:
        return self.url + _normal(path)

    # -- protocol --------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = _normal(request.path)
        with self._layers_lock:
            layer = self._layers.get(path)
            query_layer = self._layers.get(path.removesuffix("/query"))
        if layer is None and (query_layer is None or not path.endswith("/query")):
            return Response.json(
                {"error": {"code": 404, "message": "Requested layer not found", "details": []}},
                status=404,
            )
        if self.token is not None and request.query.get("token") != self.token:
            return Response.json(
                {"error": {"code": 499, "message": "Token Required", "details": []}}
            )
        try:
            if request.query.get("f", "html").lower() not in ("json", "pjson"):
                raise QueryError("this stand-in answers f=json and f=pjson only")
            if layer is not None:
                return Response.json(
                    {
                        **layer.sample.metadata,
                        "maxRecordCount": layer.advertised or layer.max_record_count,
                    }
                )
            assert query_layer is not None
            answer = _query(query_layer, request.query)
            if "features" in answer:
                self._edit_after_page(path.removesuffix("/query"))
            return Response.json(answer)
        except QueryError as exc:
            return Response.json(
                {
                    "error": {
                        "code": 400,
                        "message": "Unable to complete operation.",
                        "details": [str(exc)],
                    }
                }
            )


def _normal(path: str) -> str:
    return "/" + path.strip("/")


def _query(layer: _Layer, params: dict[str, str]) -> dict[str, Any]:
    table, metadata = layer.sample.table, layer.sample.metadata
    rows = _matching_rows(layer, params)
    if params.get("orderByFields"):
        rows = _ordered(layer, rows, params["orderByFields"])
    if params.get("returnCountOnly", "").lower() in _TRUE:
        return {"count": len(rows)}
    if params.get("returnIdsOnly", "").lower() in _TRUE:
        return {"objectIdFieldName": layer.oid_field, "objectIds": layer.oids[rows].tolist()}

    offset = _integer(params, "resultOffset", 0)
    size = min(
        _integer(params, "resultRecordCount", layer.max_record_count), layer.max_record_count
    )
    page = rows[offset : offset + size]
    more = offset + len(page) < len(rows)
    fields = _out_fields(layer, params.get("outFields", ""))
    subset = table.take(pa.array(page, pa.int64())).select([f["name"] for f in fields])
    features = [{"attributes": attributes} for attributes in subset.to_pylist()]
    if params.get("returnGeometry", "true").lower() in _TRUE:
        geometries = table["geometry"].take(pa.array(page, pa.int64())).to_pylist()
        for feature, text in zip(features, geometries, strict=True):
            if text is not None:
                feature["geometry"] = geojson_to_esri(text)

    answer: dict[str, Any] = {
        "objectIdFieldName": layer.oid_field,
        "uniqueIdField": {"name": layer.oid_field, "isSystemMaintained": True},
        "globalIdFieldName": metadata.get("globalIdField", ""),
        "geometryType": metadata["geometryType"],
        "spatialReference": {"wkid": 4326, "latestWkid": 4326},
        "fields": fields,
    }
    if more and layer.honour_transfer_limit:
        answer["exceededTransferLimit"] = True
    answer["features"] = features
    return answer


def _matching_rows(layer: _Layer, params: dict[str, str]) -> np.ndarray:
    """Row positions that pass `where` and `objectIds`, in layer order."""
    oids = layer.oids
    keep = np.ones(len(oids), dtype=bool)
    for clause in re.split(r"\s+AND\s+", params.get("where") or "1=1", flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if match is None:
            raise QueryError(f"where clause not understood by this stand-in: {clause!r}")
        if match.group(1):
            continue
        name, op, value = match.group(2), match.group(3), int(match.group(4))
        if name.lower() != layer.oid_field.lower():
            raise QueryError(f"this stand-in filters on {layer.oid_field} only, not {name}")
        compare = {
            "=": np.equal,
            "<>": np.not_equal,
            "<": np.less,
            "<=": np.less_equal,
            ">": np.greater,
            ">=": np.greater_equal,
        }[op]
        keep &= compare(oids, value)
    if params.get("objectIds"):
        try:
            wanted = [int(v) for v in params["objectIds"].split(",") if v.strip()]
        except ValueError as exc:
            raise QueryError("'objectIds' parameter is invalid") from exc
        keep &= np.isin(oids, wanted)
    return np.flatnonzero(keep)


def _ordered(layer: _Layer, rows: np.ndarray, order_by: str) -> np.ndarray:
    keys = []
    for part in order_by.split(","):
        match = _ORDER.match(part)
        if match is None:
            raise QueryError(f"'orderByFields' parameter is invalid: {part!r}")
        direction = "descending" if (match.group(2) or "").upper() == "DESC" else "ascending"
        keys.append((layer.field(match.group(1))["name"], direction))
    if keys == [(layer.oid_field, "ascending")] and layer.in_oid_order:
        return rows
    subset = layer.sample.table.take(pa.array(rows, pa.int64())).select([k for k, _ in keys])
    return rows[pc.sort_indices(subset, sort_keys=keys).to_numpy()]


def _out_fields(layer: _Layer, out_fields: str) -> list[dict]:
    """ArcGIS returns only the object id when outFields is absent; `*` means every field."""
    names = [n.strip() for n in out_fields.split(",") if n.strip()]
    if "*" in names:
        return [
            f
            for f in layer.sample.metadata["fields"]
            if f["name"] in layer.sample.table.column_names
        ]
    chosen = [layer.field(n) for n in names] or [layer.field(layer.oid_field)]
    return list({f["name"]: f for f in chosen}.values())


def _integer(params: dict[str, str], name: str, default: int) -> int:
    try:
        value = int(params.get(name) or default)
    except ValueError as exc:
        raise QueryError(f"'{name}' parameter is invalid") from exc
    if value < 0:
        raise QueryError(f"'{name}' parameter is invalid")
    return value
