"""The source clients against local servers that speak the real protocols."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pyarrow as pa
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.sources import airtable, malibu
from ddrc_platform.ingest.sources.arcgis import ArcgisLayer, LayerData, esri_to_geojson
from ddrc_platform.ingest.sources.http import SourceClient, SourceDataError, SourceError
from stand_ins.airtable import AirtableServer
from stand_ins.arcgis import ArcgisServer
from stand_ins.base import Fault, Response
from stand_ins.malibu import MalibuServer
from tests.support import FAST_HTTP

DAY = dt.date(2025, 6, 2)
LAYER = "/arcgis/rest/services/Pasadena/FeatureServer/0"


@pytest.fixture(scope="module")
def pasadena() -> LayerData:
    return sample.arcgis_layer("pasadena", scale=0.4, day=DAY)  # ~1,200 permits


@pytest.fixture
def server(pasadena):
    with ArcgisServer() as srv:
        srv.add_layer(LAYER, pasadena, max_record_count=250)
        yield srv


def read(server: ArcgisServer, **http) -> pa.Table:
    client = SourceClient("pasadena", dataclasses.replace(FAST_HTTP, **http))
    return ArcgisLayer(client, server.url + LAYER, concurrency=3).read().table


def test_max_record_count_smaller_than_layer_reads_every_feature(server, pasadena):
    table = read(server)
    assert table.num_rows == pasadena.table.num_rows > 250
    assert sorted(table.column("ID").to_pylist()) == sorted(pasadena.table.column("ID").to_pylist())
    ranges = [id_range(r) for r in server.requests_to(LAYER + "/query") if ">=" in r.query["where"]]
    assert len(ranges) == -(-pasadena.table.num_rows // 250)  # one request per batch
    ids = pasadena.table.column("ID").to_numpy()
    assert all(((ids >= low) & (ids <= high)).sum() <= 250 for low, high in ranges)


def id_range(request) -> tuple[int, int]:
    """The object ids `OBJECTID >= low AND OBJECTID <= high` of a batch asks for."""
    low, high = re.findall(r"\d+", request.query["where"])
    return int(low), int(high)


def test_server_that_never_sets_exceeded_transfer_limit(pasadena):
    with ArcgisServer() as srv:
        srv.add_layer(LAYER, pasadena, max_record_count=300, honour_transfer_limit=False)
        table = read(srv)
    assert table.num_rows == pasadena.table.num_rows


def test_values_and_geometry_survive_the_wire(server, pasadena):
    table = read(server).sort_by("ID")
    expected = pasadena.table.sort_by("ID")
    for column in ("PERMIT_STATUS", "ADDRESS", "Shape__Area"):
        assert table.column(column).to_pylist() == expected.column(column).to_pylist()
    shapes = [json.loads(g) if g else None for g in table.column("geometry").to_pylist()]
    want = [json.loads(g) if g else None for g in expected.column("geometry").to_pylist()]
    assert shapes == want


def test_empty_layer_gives_typed_empty_table(pasadena):
    empty = LayerData(metadata=pasadena.metadata, table=pasadena.table.slice(0, 0))
    with ArcgisServer() as srv:
        srv.add_layer(LAYER, empty)
        table = read(srv)
    assert table.num_rows == 0
    assert table.schema.field("ID").type == pa.int64()
    assert table.schema.field("PERMIT_STATUS").type == pa.string()


def test_page_failing_twice_then_succeeding(server, pasadena):
    server.fail_next(LAYER + "/query", Fault.status(503), Fault.arcgis_error(500))
    assert read(server).num_rows == pasadena.table.num_rows


def test_http_200_error_body_is_a_failure_not_an_empty_page(server):
    server.fail_always(LAYER + "/query", Fault.arcgis_error(400, "Invalid query parameters"))
    with pytest.raises(SourceError) as error:
        read(server)
    assert "ArcGIS error 400: Invalid query parameters" in str(error.value)
    assert LAYER in str(error.value)
    # a 400 is the client's fault: retrying would not help
    assert len(server.requests_to(LAYER + "/query")) == 1


def test_permanent_500_names_source_and_url(server):
    server.fail_always(LAYER, Fault.status(500, "Internal Server Error"))
    with pytest.raises(SourceError) as error:
        read(server)
    message = str(error.value)
    assert message.startswith("pasadena: HTTP 500")
    assert f"{server.url}{LAYER}" in message
    assert "gave up after 3 tries" in message
    assert len(server.requests_to(LAYER)) == 3


def test_malformed_json_is_retried_then_reported(server):
    server.fail_always(LAYER, Fault.malformed_json())
    with pytest.raises(SourceError, match="malformed JSON"):
        read(server)


def test_timeout_is_retried_then_reported(server, pasadena):
    server.fail_next(LAYER, Fault.slow(1.5))
    assert read(server, timeout=0.5).num_rows == pasadena.table.num_rows  # retried
    server.fail_always(LAYER, Fault.slow(1.5))
    with pytest.raises(SourceError, match=r"timed out after 0.5 s; gave up after 3 tries"):
        read(server, timeout=0.5)


def test_a_timeout_cut_short_by_the_deadline_names_the_deadline(server):
    """The wait that ran out is the one named: not the 20 s read timeout when the request's
    deadline left it 0.4 s (a responder would look for a server that never answers)."""
    server.fail_always(LAYER, Fault.slow(1.5))
    with pytest.raises(SourceError) as error:
        read(server, deadline=0.4, tries=1)
    message = str(error.value)
    assert "timed out after 0.4 s, the rest of its 0.4 s deadline" in message, message
    assert "20 s" not in message


def test_tls_verification_is_on_and_a_ca_bundle_can_be_set_per_source(
    pasadena, tls_context, tls_files
):
    srv = ArcgisServer().start(tls=tls_context)
    try:
        srv.add_layer(LAYER, pasadena)
        assert srv.url.startswith("https://")
        untrusted = SourceClient("usace", FAST_HTTP)
        with pytest.raises(SourceError, match="DDRC_USACE_CA_BUNDLE"):
            ArcgisLayer(untrusted, srv.url + LAYER).metadata()
        trusted = SourceClient("usace", FAST_HTTP, ca_bundle=str(tls_files[0]))
        assert ArcgisLayer(trusted, srv.url + LAYER).read().table.num_rows > 0
    finally:
        srv.stop()


def test_layer_without_pagination_is_read_by_object_ids(pasadena):
    meta = {**pasadena.metadata, "advancedQueryCapabilities": {"supportsPagination": False}}
    with ArcgisServer() as srv:
        srv.add_layer(LAYER, LayerData(meta, pasadena.table), max_record_count=400)
        table = read(srv)
        queries = srv.requests_to(LAYER + "/query")
    assert not any("resultOffset" in r.query for r in queries)
    assert sum(r.query.get("returnIdsOnly") == "true" for r in queries) == 2  # before, after
    assert table.num_rows == pasadena.table.num_rows


def test_esri_polygon_with_two_outer_rings_becomes_multipolygon():
    outer = [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]  # clockwise
    hole = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8], [0.2, 0.2]]
    second = [[5, 5], [5, 6], [6, 6], [6, 5], [5, 5]]
    assert '"type":"Polygon"' in esri_to_geojson({"rings": [outer, hole]})
    assert esri_to_geojson({"rings": [outer, hole, second]}).startswith('{"type":"MultiPolygon"')
    assert esri_to_geojson({"x": 1.5, "y": 2.5}) == '{"type":"Point","coordinates":[1.5,2.5]}'
    assert esri_to_geojson(None) is None


# -- Malibu -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def malibu_data():
    return sample.malibu_endpoints(scale=0.2, day=DAY)


def test_malibu_flaky_endpoint_recovered_by_retries(malibu_data):
    with MalibuServer(malibu_data) as srv:
        srv.fail_next("/Home/FireRebuildPoints", *[Fault.status(502)] * 3)
        client = SourceClient("malibu", FAST_HTTP, tries=FAST_HTTP.malibu_tries)
        table = malibu.fetch_endpoint(
            client, srv.url + catalog.MALIBU_FIRE_REBUILD_POINTS.endpoint.path
        )
        assert len(srv.requests_to("/Home/FireRebuildPoints")) == 4
    assert table.num_rows == len(malibu_data["FireRebuildPoints"])
    assert "type" in table.column_names and "projectNumber" in table.column_names


def test_malibu_permanently_failing_endpoint(malibu_data):
    with MalibuServer(malibu_data) as srv:
        srv.fail_always("/Home/PalisadesPermitsIssued_Read", Fault.status(503))
        client = SourceClient("malibu", FAST_HTTP, tries=FAST_HTTP.malibu_tries)
        with pytest.raises(SourceError) as error:
            malibu.fetch_endpoint(client, srv.url + "/Home/PalisadesPermitsIssued_Read")
    assert "gave up after 4 tries" in str(error.value)
    assert "/Home/PalisadesPermitsIssued_Read" in str(error.value)


def test_malibu_answer_that_is_not_a_list_is_rejected(malibu_data):
    with MalibuServer({**malibu_data, "FireRebuildVisitPoints": {"oops": 1}}) as srv:
        client = SourceClient("malibu", FAST_HTTP)
        with pytest.raises(SourceError, match="expected a JSON array of objects"):
            malibu.fetch_endpoint(client, srv.url + "/Home/FireRebuildVisitPoints")


# -- Airtable ---------------------------------------------------------------------------

TOKEN = "patTESTtoken.0123456789abcdef"


@pytest.fixture(scope="module")
def airtable_records():
    return sample.airtable_records(scale=2, day=DAY)  # more than two pages


def fetch_airtable(srv: AirtableServer, token: str = TOKEN) -> list[dict]:
    return airtable.fetch_records(
        endpoint=srv.url, token=token, base_id="appDDRC", table="Metrics", http=FAST_HTTP
    )


def test_airtable_pages_through_every_record(airtable_records):
    assert len(airtable_records) > 200
    with AirtableServer(TOKEN, "appDDRC", "Metrics", airtable_records) as srv:
        records = fetch_airtable(srv)
        assert len(srv.requests) >= 3  # pages of at most 100
    assert [r["id"] for r in records] == [r["id"] for r in airtable_records]


def test_airtable_429_is_answered_by_retry(airtable_records):
    with AirtableServer(TOKEN, "appDDRC", "Metrics", airtable_records) as srv:
        srv.fail_next("/v0/", Fault.status(429, '{"errors":[{"error":"RATE_LIMIT_REACHED"}]}'))
        assert len(fetch_airtable(srv)) == len(airtable_records)


def test_airtable_bad_token_gives_clear_error_without_the_token(airtable_records):
    with AirtableServer(TOKEN, "appDDRC", "Metrics", airtable_records) as srv:
        wrong = "patWRONGtoken.fedcba9876543210"
        with pytest.raises(SourceError) as error:
            fetch_airtable(srv, wrong)
    message = str(error.value)
    assert "HTTP 401" in message and "AIRTABLE_TOKEN" in message
    assert wrong not in message and TOKEN not in message


def test_airtable_records_land_in_fivetran_shape(airtable_records):
    synced = dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC)
    table = airtable.records_to_table(airtable_records, synced)
    assert table.column_names[: len(airtable.AIRTABLE_METRICS.columns)] == list(
        airtable.AIRTABLE_METRICS.columns
    )
    assert table.column_names[-1] == "_FIVETRAN_SYNCED"
    names = table.column("METRIC_MACHINE_NAME_FROM_METRIC_DEFINITION_").to_pylist()
    assert all(n.startswith('["') and n.endswith('"]') for n in names if n)
    assert table.schema.field("DATE_CREATED").type == pa.timestamp("us")
    assert airtable.fivetran_column("Metric Name (from Metric Definition)") == (
        "METRIC_NAME_FROM_METRIC_DEFINITION_"
    )


# -- the fault campaign of issue 10, at the client: each fault named and bounded --------


def test_a_trickling_server_is_cut_at_the_request_deadline_and_named(server):
    """Each read succeeds (a byte arrives), so only a whole-request deadline ends it; the
    deadline covers the request's retries too, so a spent one is not tried again."""
    server.fail_always(LAYER, Fault.trickle(0.05))
    client = SourceClient(
        "pasadena", dataclasses.replace(FAST_HTTP, deadline=0.3, tries=2), title="Pasadena permits"
    )
    with pytest.raises(SourceError) as error:
        ArcgisLayer(client, server.url + LAYER).read()
    message = str(error.value)
    assert message.startswith("Pasadena permits: no complete answer within 0.3 s")
    assert server.url + LAYER in message
    assert len(server.requests_to(LAYER)) == 1


def test_a_connection_dropped_mid_body_is_retried(server, pasadena):
    server.fail_next(LAYER + "/query", Fault.dropped(after_bytes=20))
    assert read(server).num_rows == pasadena.table.num_rows
    server.fail_always(LAYER + "/query", Fault.dropped(after_bytes=20))
    with pytest.raises(SourceError, match=r"connection dropped mid-answer.*gave up after 3 tries"):
        read(server)


def test_a_token_secured_layer_keeps_its_query_string_and_never_shows_the_token(pasadena):
    token = "arcgis-token-0123456789"
    with ArcgisServer(token=token) as srv:
        srv.add_layer(LAYER, pasadena)
        url = f"http://reader:pw-0123456789@127.0.0.1:{srv.port}{LAYER}?token={token}"
        client = SourceClient("pasadena", FAST_HTTP, title="Pasadena permits")
        assert ArcgisLayer(client, url).read().table.num_rows == pasadena.table.num_rows
        assert all(r.path in (LAYER, LAYER + "/query") for r in srv.requests)
        srv.fail_always(LAYER, Fault.status(503, "down"))
        with pytest.raises(SourceError) as error:
            ArcgisLayer(client, url).read()
    assert token not in str(error.value) and "pw-0123456789" not in str(error.value)
    assert "token=[REDACTED]" in str(error.value) and "[REDACTED]@127.0.0.1" in str(error.value)


def test_undecodable_bytes_fail_the_read_instead_of_being_replaced(server):
    server.fail_always(
        LAYER, Fault(Response(200, b'{"name": "caf\xe9"}', {"Content-Type": "application/json"}))
    )
    with pytest.raises(SourceDataError, match="undecodable bytes at offset 13"):
        read(server)


def test_undecodable_airtable_bytes_fail_too(airtable_records):
    """pyairtable decodes through requests, which would replace the bytes silently."""
    body = b'{"records": [{"id": "rec1", "fields": {"Metric Modified By": "Jos\xe9"}}]}'
    with AirtableServer(TOKEN, "appDDRC", "Metrics", airtable_records) as srv:
        srv.fail_next("/v0/", Fault(Response(200, body, {"Content-Type": "application/json"})))
        with pytest.raises(SourceDataError, match="undecodable bytes at offset 65"):
            fetch_airtable(srv)


def test_duplicate_object_ids_say_the_layer_itself_is_inconsistent(pasadena):
    oid = pasadena.metadata["objectIdField"]
    ids = pasadena.table.column(oid).to_pylist()
    ids[1] = ids[0]
    broken = LayerData(
        pasadena.metadata,
        pasadena.table.set_column(pasadena.table.schema.get_field_index(oid), oid, [ids]),
    )
    with ArcgisServer() as srv:
        srv.add_layer(LAYER, broken)
        with pytest.raises(SourceDataError) as error:
            read(srv)
    assert "the layer itself is inconsistent" in str(error.value)
    assert "retry" not in str(error.value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("12,345", "'12,345' is not a number (thousands separators are not accepted)"),
        ("abc", "'abc' is not a number"),
        (1e309, "inf is not a finite number"),
    ],
)
def test_airtable_bad_numbers_are_rejected_naming_record_and_field(value, problem):
    record = {"id": "recBAD000000001", "fields": {"Metric": value}}
    with pytest.raises(SourceDataError) as error:
        airtable.records_to_table([record], dt.datetime(2025, 6, 2, tzinfo=dt.UTC))
    assert f"record recBAD000000001, field METRIC: {problem}" in str(error.value)
    assert str(error.value).startswith(catalog.AIRTABLE_METRICS.title)
