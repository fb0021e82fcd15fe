"""The stand-in servers answer as ArcGIS, Airtable and Malibu's permit server do."""

from __future__ import annotations

import json
from datetime import date

import pyairtable
import pytest
import requests

from ddrc_platform.ingest import sample
from ddrc_platform.ingest.sources.arcgis import LayerData
from stand_ins.airtable import AirtableServer
from stand_ins.arcgis import ArcgisServer, edit_layer, geojson_to_esri
from stand_ins.base import Fault
from stand_ins.malibu import MalibuServer

DAY = date(2025, 6, 2)
EPA = "/arcgis/rest/services/EPA/FeatureServer/0"
USACE = "/arcgis/rest/services/USACE/MapServer/0"
TOKEN = "patSTANDIN.0123456789abcdef"
BASE = "appDDRCstandin01"


@pytest.fixture(scope="module")
def epa() -> LayerData:
    return sample.arcgis_layer("epa", scale=0.05, day=DAY)  # 1,000 parcels


@pytest.fixture(scope="module")
def usace() -> LayerData:
    return sample.arcgis_layer("usace", scale=0.05, day=DAY)


@pytest.fixture(scope="module")
def arcgis(epa, usace):
    with ArcgisServer() as server:
        server.add_layer(EPA, epa, max_record_count=300)
        server.add_layer(USACE, usace, max_record_count=400, honour_transfer_limit=False)
        yield server


def get(server, path: str, **params) -> dict:
    response = requests.get(server.url + path, params=params, timeout=5)
    response.raise_for_status()
    return response.json()


def page(server, path: str, offset: int, count: int | None = None, **params) -> dict:
    query = {"where": "1=1", "outFields": "*", "f": "json", "resultOffset": offset, **params}
    if count is not None:
        query["resultRecordCount"] = count
    return get(server, path + "/query", **query)


# -- ArcGIS -----------------------------------------------------------------------------------
def test_metadata_is_the_samples_with_the_page_size_served(arcgis, epa, usace):
    assert get(arcgis, EPA, f="json") == {**epa.metadata, "maxRecordCount": 300}
    assert get(arcgis, USACE + "/", f="pjson") == {**usace.metadata, "maxRecordCount": 400}


def test_pages_by_offset_reassemble_the_layer(arcgis, epa):
    seen, offset = [], 0
    while True:
        answer = page(arcgis, EPA, offset, 250)
        seen += [f["attributes"]["OBJECTID"] for f in answer["features"]]
        offset += len(answer["features"])
        if not answer.get("exceededTransferLimit"):
            break
        assert len(answer["features"]) == 250
    assert seen == epa.table["OBJECTID"].to_pylist()


def test_page_size_defaults_to_and_is_capped_at_max_record_count(arcgis):
    assert len(page(arcgis, EPA, 0)["features"]) == 300
    capped = page(arcgis, EPA, 0, 5000)
    assert len(capped["features"]) == 300 and capped["exceededTransferLimit"] is True
    last = page(arcgis, EPA, 900, 300)
    assert len(last["features"]) == 100 and "exceededTransferLimit" not in last
    assert page(arcgis, EPA, 1000)["features"] == []


def test_server_that_never_flags_the_transfer_limit(arcgis, usace):
    first = page(arcgis, USACE, 0)
    assert len(first["features"]) == 400 and "exceededTransferLimit" not in first
    assert len(page(arcgis, USACE, 400)["features"]) == usace.table.num_rows - 400 == 350


def test_feature_answer_shape(arcgis, epa):
    answer = page(arcgis, EPA, 0, 2)
    assert answer["objectIdFieldName"] == "OBJECTID"
    assert answer["globalIdFieldName"] == "GlobalID"
    assert answer["geometryType"] == "esriGeometryPolygon"
    assert answer["spatialReference"]["wkid"] == 4326
    assert answer["fields"] == epa.metadata["fields"]
    expected = epa.table.slice(0, 2).to_pylist()
    for feature, row in zip(answer["features"], expected, strict=True):
        assert feature["attributes"] == {k: v for k, v in row.items() if k != "geometry"}
        assert feature["geometry"] == geojson_to_esri(row["geometry"])
        ring = feature["geometry"]["rings"][0]
        assert ring == json.loads(row["geometry"])["coordinates"][0][::-1]  # clockwise


def test_out_fields_and_geometry_can_be_limited(arcgis):
    answer = page(arcgis, EPA, 0, 3, outFields="landuse,PublicStatus", returnGeometry="false")
    assert [f["name"] for f in answer["fields"]] == ["LandUse", "PublicStatus"]
    assert all(set(f) == {"attributes"} for f in answer["features"])
    assert set(answer["features"][0]["attributes"]) == {"LandUse", "PublicStatus"}
    no_fields = get(arcgis, EPA + "/query", where="1=1", f="json", resultRecordCount=1)
    assert list(no_fields["features"][0]["attributes"]) == ["OBJECTID"]


def test_count_ids_object_id_filters_and_order(arcgis, epa):
    assert get(arcgis, EPA + "/query", where="1=1", returnCountOnly="true", f="json") == {
        "count": epa.table.num_rows
    }
    ids = get(arcgis, EPA + "/query", where="1=1", returnIdsOnly="true", f="json")
    assert ids == {"objectIdFieldName": "OBJECTID", "objectIds": list(range(1, 1001))}
    chosen = page(arcgis, EPA, 0, objectIds="7,3,999,5000")
    assert [f["attributes"]["OBJECTID"] for f in chosen["features"]] == [3, 7, 999]
    ranged = get(
        arcgis,
        EPA + "/query",
        where="OBJECTID > 10 AND objectid <= 20",
        returnCountOnly="true",
        f="json",
    )
    assert ranged == {"count": 10}
    backwards = page(arcgis, EPA, 0, 3, orderByFields="OBJECTID DESC")
    assert [f["attributes"]["OBJECTID"] for f in backwards["features"]] == [1000, 999, 998]


def test_post_form_query_is_answered_like_get(arcgis):
    form = {
        "where": "1=1",
        "outFields": "*",
        "f": "json",
        "resultOffset": 10,
        "resultRecordCount": 5,
        "objectIds": ",".join(map(str, range(1, 1001))),
    }
    response = requests.post(arcgis.url + EPA + "/query", data=form, timeout=5)
    assert [f["attributes"]["OBJECTID"] for f in response.json()["features"]] == list(range(11, 16))


def test_errors_come_as_arcgis_error_bodies(arcgis):
    bad = get(arcgis, EPA + "/query", where="LandUse = 'Residential'", f="json")
    assert bad["error"]["code"] == 400
    assert get(arcgis, EPA + "/query", where="1=1", f="json", resultOffset="x")["error"]
    missing = requests.get(arcgis.url + "/arcgis/rest/services/Nope/FeatureServer/0?f=json")
    assert missing.status_code == 404


def test_faults_from_the_base_apply(arcgis):
    arcgis.fail_next(EPA + "/query", Fault.arcgis_error(500))
    assert page(arcgis, EPA, 0, 1)["error"]["code"] == 500
    assert page(arcgis, EPA, 0, 1)["features"]


def test_layers_can_drift_be_replaced_and_removed(usace):
    fields = [f for f in usace.metadata["fields"] if f["name"] != "roe_status"]
    fields.append({"name": "new_field", "type": "esriFieldTypeString", "alias": "new"})
    table = usace.table.drop_columns(["roe_status"])
    table = table.add_column(0, "new_field", [["x"] * table.num_rows])
    with ArcgisServer() as server:
        server.add_layer(USACE, usace)
        with pytest.raises(ValueError, match="set_layer"):
            server.add_layer(USACE, usace)
        server.set_layer(USACE, LayerData({**usace.metadata, "fields": fields}, table))
        answer = page(server, USACE, 0, 1)
        assert "roe_status" not in answer["features"][0]["attributes"]
        assert answer["features"][0]["attributes"]["new_field"] == "x"
        assert answer["fields"][-1]["name"] == "new_field"
        server.remove_layer(USACE)
        assert requests.get(server.url + USACE, params={"f": "json"}).status_code == 404


def test_a_layer_can_be_edited_while_it_is_read(epa):
    edited = edit_layer(epa, delete=[5], insert=2)
    assert edited.table.num_rows == epa.table.num_rows + 1
    assert edited.table["OBJECTID"].to_pylist()[-2:] == [1001, 1002]
    assert edited.last_edit.timestamp() == epa.last_edit.timestamp() + 1
    with ArcgisServer() as server:
        server.add_layer(EPA, epa, max_record_count=300, advertised_max_record_count=1000)
        assert get(server, EPA, f="json")["maxRecordCount"] == 1000
        server.edit_while_read(EPA, [edited])
        assert (
            len(
                get(server, EPA + "/query", where="1=1", returnIdsOnly="true", f="json")[
                    "objectIds"
                ]
            )
            == 1000
        )  # listing ids is no page: the layer stays
        assert len(page(server, EPA, 0)["features"]) == 300  # the real cap; then the edit
        ids = get(server, EPA + "/query", where="1=1", returnIdsOnly="true", f="json")
        assert ids["objectIds"] == edited.table["OBJECTID"].to_pylist()
        assert page(server, EPA, 0, 1)["features"]  # no more versions: the layer stays
        assert get(server, EPA, f="json")["editingInfo"] == edited.metadata["editingInfo"]


def test_faults_ask_to_wait_or_to_go_elsewhere(arcgis):
    arcgis.fail_next(EPA, Fault.rate_limited(3600), Fault.redirect(arcgis.url + USACE, 301))
    limited = requests.get(arcgis.url + EPA, params={"f": "json"}, timeout=5)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3600")
    moved = requests.get(arcgis.url + EPA, params={"f": "json"}, allow_redirects=False)
    assert (moved.status_code, moved.headers["Location"]) == (301, arcgis.url + USACE)


def test_geojson_to_esri_covers_the_geometry_types():
    assert geojson_to_esri('{"type":"Point","coordinates":[-118.7,34.03]}') == {
        "x": -118.7,
        "y": 34.03,
    }
    two = json.dumps(
        {
            "type": "MultiPolygon",
            "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 6], [5, 5]]]],
        }
    )
    assert geojson_to_esri(two) == {
        "rings": [[[0, 0], [1, 1], [1, 0], [0, 0]], [[5, 5], [6, 6], [6, 5], [5, 5]]]
    }
    assert geojson_to_esri('{"type":"LineString","coordinates":[[0,0],[1,1]]}') == {
        "paths": [[[0, 0], [1, 1]]]
    }
    assert geojson_to_esri(None) is None


# -- Airtable ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def records() -> list[dict]:
    return sample.airtable_records(scale=1.0, day=date(2025, 8, 21))


@pytest.fixture
def airtable(records):
    with AirtableServer(TOKEN, BASE, "Metric Entries", records) as server:
        yield server


def test_pyairtable_pages_through_every_record(airtable, records):
    assert len(records) > 100
    table = pyairtable.Api(TOKEN, endpoint_url=airtable.url).table(BASE, "Metric Entries")
    assert table.all() == records
    listed = [r for r in airtable.requests if r.method == "GET"]
    assert [r.path for r in listed] == ["/v0/" + BASE + "/Metric%20Entries"] * 2
    assert "offset" not in listed[0].query and listed[1].query["offset"].startswith("itr")


def test_table_by_id_small_pages_and_max_records(airtable, records):
    table = pyairtable.Api(TOKEN, endpoint_url=airtable.url).table(BASE, airtable.table_id)
    assert table.all(page_size=30) == records
    assert len([r for r in airtable.requests if r.method == "GET"]) == -(-len(records) // 30)
    assert table.all(page_size=30, max_records=45) == records[:45]
    assert table.get(records[3]["id"]) == records[3]


def test_long_urls_fall_back_to_post_list_records(airtable, records):
    api = pyairtable.Api(TOKEN, endpoint_url=airtable.url)
    api.MAX_URL_LENGTH = 10  # what pyairtable does past 16,000 characters
    assert api.table(BASE, "Metric Entries").all(page_size=50) == records
    posts = [r for r in airtable.requests if r.method == "POST"]
    assert posts and all(r.path.endswith("/listRecords") for r in posts)
    assert posts[1].json()["offset"].startswith("itr")


def test_bad_or_missing_token_is_401(airtable):
    for headers in ({"Authorization": "Bearer patWRONG"}, {}):
        response = requests.get(f"{airtable.url}/v0/{BASE}/Metric%20Entries", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}
        }
    with pytest.raises(requests.HTTPError, match="401"):
        pyairtable.Api("patWRONG", endpoint_url=airtable.url).table(BASE, "Metric Entries").all()


def test_unknown_base_table_or_offset(airtable):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/v0/appNOPE/Metric%20Entries", f"/v0/{BASE}/Other", "/v1/whatever"):
        response = requests.get(airtable.url + path, headers=auth)
        assert (response.status_code, response.json()) == (404, {"error": "NOT_FOUND"})
    stale = requests.get(
        f"{airtable.url}/v0/{BASE}/Metric%20Entries",
        headers=auth,
        params={"offset": "itr00000000000001/recNOTAREALRECORD"},
    )
    assert stale.status_code == 422
    assert stale.json()["error"]["type"] == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"
    for params in ({"pageSize": 101}, {"filterByFormula": "{Metric} > 1"}):
        response = requests.get(
            f"{airtable.url}/v0/{BASE}/Metric%20Entries", headers=auth, params=params
        )
        assert response.status_code == 422


def test_records_can_be_replaced(airtable):
    airtable.set_records([])
    table = pyairtable.Api(TOKEN, endpoint_url=airtable.url).table(BASE, "Metric Entries")
    assert table.all() == []


# -- Malibu -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def endpoints() -> dict[str, list[dict]]:
    return sample.malibu_endpoints(scale=0.2, day=DAY)


def test_malibu_serves_the_four_endpoints(endpoints):
    with MalibuServer(endpoints) as server:
        base = server.url + "/Home/"
        paths = {
            "PalisadesPermitsIssued_Read": "PalisadesPermitsIssued_Read",
            "OverallRebuildStatsPie_Read": (
                "OverallRebuildStatsPie_Read?sFireView=PalisadesRebuildStatsDetailWithBPComplete"
            ),
            "FireRebuildVisitPoints": "FireRebuildVisitPoints",
            "FireRebuildPoints": (
                "FireRebuildPoints/?sFireView=vPalisadesRebuildStatsDetailWithTimes"
            ),
        }
        for name, path in paths.items():
            response = requests.get(base + path, timeout=5)
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.json() == endpoints[name]
        assert requests.get(base + "firerebuildpoints").json() == endpoints["FireRebuildPoints"]
        missing = requests.get(base + "NoSuchThing")
        assert missing.status_code == 404 and "text/html" in missing.headers["Content-Type"]


def test_malibu_prefix_and_replaced_endpoints(endpoints):
    with MalibuServer(endpoints, prefix="/permits/") as server:
        assert server.base_url == server.url + "/permits"
        assert requests.get(server.base_url + "/Home/FireRebuildPoints/").json()
        assert requests.get(server.url + "/Home/FireRebuildPoints/").status_code == 404
        server.set_endpoints({"FireRebuildPoints": {"not": "a list"}})
        assert requests.get(server.base_url + "/Home/FireRebuildPoints").json() == {"not": "a list"}
        assert requests.get(server.base_url + "/Home/FireRebuildVisitPoints").status_code == 404
