"""The second fault campaign (issue 17) at the source clients: items 1, 4 and 5.

Each fault is served by a stand-in in this process and met by the live HTTP client, no
pipeline run: a layer edited while it is read (1), a server asking to wait longer than the
request deadline (4), a redirect to another host or on the same one (5). Assertions are on
what was requested and what was raised; no test sleeps (waits are recorded, not waited).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import itertools
import logging
import re
import time
from collections.abc import Iterator

import pytest

from ddrc_platform.core import catalog
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.sources import airtable, malibu
from ddrc_platform.ingest.sources.arcgis import ArcgisLayer, LayerData
from ddrc_platform.ingest.sources.http import SourceClient, SourceError
from stand_ins.airtable import AirtableServer
from stand_ins.arcgis import ArcgisServer, edit_layer
from stand_ins.base import Fault, Response
from stand_ins.malibu import MalibuServer
from tests.support import FAST_HTTP

DAY = dt.date(2025, 6, 2)
LAYER = "/arcgis/rest/services/Pasadena/FeatureServer/0"
MOVED = "/arcgis/rest/services/Pasadena_v2/FeatureServer/0"
TITLE = "Pasadena permits"
TOKEN = "patTESTtoken.0123456789abcdef"
ARCGIS_TOKEN = "arcgis-token-0123456789"


@pytest.fixture(scope="module")
def pasadena() -> LayerData:
    return sample.arcgis_layer("pasadena", scale=0.4, day=DAY)  # ~1,200 permits


@pytest.fixture
def server(pasadena) -> Iterator[ArcgisServer]:
    with ArcgisServer() as srv:
        srv.add_layer(LAYER, pasadena, max_record_count=250)
        yield srv


def client(waits: list[float] | None = None, **http: float) -> SourceClient:
    """A client whose waits are recorded in `waits` instead of slept."""
    settings = dataclasses.replace(FAST_HTTP, **http)
    sleep = waits.append if waits is not None else time.sleep
    return SourceClient("pasadena", settings, title=TITLE, sleep=sleep)


def read(srv: ArcgisServer, url: str | None = None, **http: float) -> LayerData:
    return ArcgisLayer(client(**http), url or srv.url + LAYER, concurrency=2).read()


def ids(layer: LayerData) -> list[int]:
    return sorted(layer.table.column("ID").to_pylist())


def id_listings(srv: ArcgisServer) -> int:
    return sum(r.query.get("returnIdsOnly") == "true" for r in srv.requests_to(LAYER))


# -- 1. a layer edited while it is read -----------------------------------------------


def test_1_a_layer_edited_between_two_pages_is_read_again_and_loads_the_edited_state(
    server, pasadena
):
    """One delete and one insert after the first page: offset paging kept the deleted
    feature and lost an unchanged one; now the read sees the layer moved and reads again."""
    deleted = ids(pasadena)[-1]  # in the last batch, read after the edit
    edited = edit_layer(pasadena, delete=[deleted], insert=1)
    server.edit_while_read(LAYER, [edited])
    layer = read(server)
    assert ids(layer) == ids(edited)
    assert deleted not in ids(layer) and max(ids(edited)) in ids(layer)
    assert layer.last_edit == edited.last_edit > pasadena.last_edit
    assert id_listings(server) == 3  # before, after the moved read, after the second


def test_1_an_edit_that_keeps_the_ids_is_seen_by_its_edit_date(server, pasadena):
    server.edit_while_read(LAYER, [edit_layer(pasadena)])
    assert read(server).last_edit == edit_layer(pasadena).last_edit
    assert id_listings(server) == 3


def test_1_a_layer_that_keeps_moving_is_refused_naming_the_source_and_what_moved(server, pasadena):
    def moving() -> Iterator[LayerData]:
        layer = pasadena
        for _ in itertools.count():
            layer = edit_layer(layer, insert=1)
            yield layer

    server.edit_while_read(LAYER, moving())
    with pytest.raises(SourceError) as error:
        read(server)
    message = str(error.value)
    assert message.startswith(f"{TITLE}: the layer changed while it was read twice: ")
    assert "its edit date went from" in message
    assert " ids added, 0 removed (added " in message and "last good snapshot is kept" in message
    assert server.url + LAYER in message
    assert id_listings(server) == 3  # two whole reads, then the refusal


def test_1_a_page_cap_below_the_advertised_one_is_followed_up_by_id(pasadena):
    """A server that caps at 100 while saying 1000 (and never flags the cut) loses nothing."""
    with ArcgisServer() as srv:
        srv.add_layer(
            LAYER,
            pasadena,
            max_record_count=100,
            advertised_max_record_count=1000,
            honour_transfer_limit=False,
        )
        assert ids(read(srv)) == ids(pasadena)
        ranges = [r for r in srv.requests_to(LAYER + "/query") if ">=" in r.query["where"]]
    assert len(ranges) >= -(-pasadena.table.num_rows // 100)


def test_1_the_id_list_must_come_whole(server):
    listed = Response.json({"objectIds": [1, 2], "exceededTransferLimit": True})
    server.fail_next(LAYER + "/query", Fault(listed))
    with pytest.raises(SourceError, match="did not list all its object ids in one answer"):
        read(server)


# -- 4. bounded waits ---------------------------------------------------------------------


def test_4_a_retry_after_within_the_deadline_is_honoured(server, pasadena):
    waits: list[float] = []
    server.fail_next(LAYER, Fault.rate_limited(7))
    layer = ArcgisLayer(client(waits), server.url + LAYER).read()
    assert waits == [7.0] and layer.table.num_rows == pasadena.table.num_rows


def test_4_a_retry_after_beyond_the_deadline_fails_at_once_without_waiting(server):
    waits: list[float] = []
    server.fail_next(LAYER, Fault.rate_limited(3600))
    with pytest.raises(SourceError) as error:
        ArcgisLayer(client(waits, deadline=300), server.url + LAYER).read()
    assert str(error.value).startswith(
        f"{TITLE}: HTTP 429: Too Many Requests; "
        "the server asked to retry after 3600 s, beyond the 300 s deadline; not waiting"
    )
    assert waits == [] and len(server.requests_to(LAYER)) == 1


def test_4_malibu_retry_after_as_a_date_counts_against_the_deadline_too():
    path = catalog.MALIBU_FIRE_REBUILD_POINTS.endpoint.path
    later = email.utils.formatdate(time.time() + 7200, usegmt=True)
    waits: list[float] = []
    with MalibuServer(sample.malibu_endpoints(scale=0.2, day=DAY)) as srv:
        srv.fail_next("/Home/", Fault.status(503), Fault.rate_limited(later))
        malibu_client = SourceClient("malibu", FAST_HTTP, tries=4, sleep=waits.append)
        with pytest.raises(SourceError, match=r"asked to retry after 7\d{3}(\.\d+)? s, beyond"):
            malibu.fetch_endpoint(malibu_client, srv.url + path)
        assert len(srv.requests_to("/Home/")) == 2
    assert len(waits) == 1 and waits[0] <= FAST_HTTP.backoff  # the 503's backoff only


def test_4_a_backoff_that_would_pass_the_deadline_is_not_waited(server):
    waits: list[float] = []
    server.fail_always(LAYER, Fault.status(503, "busy"))
    slow = client(waits, backoff=30.0, max_backoff=60.0, deadline=5.0)
    with pytest.raises(SourceError, match=r"the next try would wait [\d.]+ s, beyond the 5 s"):
        ArcgisLayer(slow, server.url + LAYER).read()
    assert waits == [] and len(server.requests_to(LAYER)) == 1


@pytest.fixture
def airtable_server() -> Iterator[AirtableServer]:
    records = sample.airtable_records(scale=2, day=DAY)  # more than two pages
    with AirtableServer(TOKEN, "appDDRC", "Metrics", records) as srv:
        yield srv


def fetch_airtable(srv: AirtableServer, **http: float) -> list[dict]:
    settings = dataclasses.replace(FAST_HTTP, **http)
    return airtable.fetch_records(
        endpoint=srv.url, token=TOKEN, base_id="appDDRC", table="Metrics", http=settings
    )


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """pyairtable waits in urllib3 with `time.sleep`: recorded here, never slept, while
    the monotonic clock moves on by what was "slept", as it would."""
    recorded: list[float] = []
    clock = time.monotonic
    monkeypatch.setattr(time, "sleep", recorded.append)
    monkeypatch.setattr(time, "monotonic", lambda: clock() + sum(recorded))
    return recorded


def test_4_airtable_retry_after_beyond_the_deadline_fails_without_waiting(airtable_server, sleeps):
    airtable_server.fail_next("/v0/", Fault.rate_limited(3600))
    with pytest.raises(SourceError) as error:
        fetch_airtable(airtable_server, deadline=300)
    assert "the server asked to retry after 3600 s, beyond the 300 s deadline" in str(error.value)
    assert str(error.value).startswith(catalog.AIRTABLE_METRICS.title)
    assert sleeps == [] and len(airtable_server.requests) == 1


def test_4_airtable_retry_after_within_the_deadline_is_honoured(airtable_server, sleeps):
    airtable_server.fail_next("/v0/", Fault.rate_limited(2))
    records = fetch_airtable(airtable_server)
    assert len(records) > 200 and sleeps == [2.0]


def test_4_airtable_waits_add_up_against_one_deadline(airtable_server, sleeps):
    """Two waits of 4 s each fit 5 s alone, not together: the second is refused."""
    airtable_server.fail_next("/v0/", Fault.rate_limited(4), Fault.rate_limited(4))
    with pytest.raises(SourceError, match=r"retry after 4 s, beyond the 5 s deadline") as error:
        fetch_airtable(airtable_server, deadline=5)
    assert sleeps == [4.0] and len(airtable_server.requests) == 2
    # what was left of the deadline: 1 s less the requests' own (real) time
    left = float(re.search(r"deadline \(([\d.]+) s", str(error.value)).group(1))
    assert 0.5 <= left <= 1.0, str(error.value)


# -- 5. redirects -------------------------------------------------------------------------


def test_5_a_redirect_to_another_port_is_refused_and_the_token_never_leaves(pasadena):
    with ArcgisServer(token=ARCGIS_TOKEN) as srv, ArcgisServer(token=ARCGIS_TOKEN) as other:
        srv.add_layer(LAYER, pasadena)
        other.add_layer(LAYER, pasadena)
        srv.fail_next(LAYER, Fault.redirect(f"{other.url}{LAYER}?f=json&token={ARCGIS_TOKEN}"))
        with pytest.raises(SourceError) as error:
            read(srv, f"{srv.url}{LAYER}?token={ARCGIS_TOKEN}")
        assert other.requests == []
        elsewhere = other.url
    message = str(error.value)
    assert message.startswith(f"{TITLE}: HTTP 302 redirect to another host ({elsewhere}{LAYER})")
    assert "refused" in message and ARCGIS_TOKEN not in message


HTTP_LOGGER = "ddrc_platform.ingest.sources.http"


def http_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The source client's own records: caplog also captures what other threads log
    meanwhile (a collected Dagster instance's SQLite pool, say, from an earlier test)."""
    return [r.getMessage() for r in caplog.records if r.name == HTTP_LOGGER]


def test_5_a_redirect_on_the_same_host_is_followed_and_logged(server, pasadena, caplog):
    server.add_layer(MOVED, pasadena, max_record_count=250)
    server.fail_next(LAYER, Fault.redirect(f"{server.url}{MOVED}?f=json&token=abc1234567"))
    with caplog.at_level(logging.WARNING, logger=HTTP_LOGGER):
        assert ids(read(server, f"{server.url}{LAYER}?token=abc1234567")) == ids(pasadena)
    assert len(server.requests_to(MOVED)) == 1
    (warning,) = http_warnings(caplog)
    assert warning == (
        f"{TITLE}: following an HTTP 302 redirect from {server.url}{LAYER} to {server.url}{MOVED}"
    )


def test_5_a_redirect_loop_on_the_same_host_ends_clearly(server):
    server.fail_always(LAYER, Fault.redirect(server.url + LAYER))
    with pytest.raises(SourceError, match="more than 5 redirects on the source's host"):
        read(server)


def test_5_airtable_redirect_to_another_port_is_refused_and_its_empty_answer_unread(
    airtable_server,
):
    with AirtableServer(TOKEN, "appDDRC", "Metrics", []) as other:
        location = f"{other.url}/v0/appDDRC/Metrics?pageSize=100"
        airtable_server.fail_next("/v0/", Fault.redirect(location, status=307))
        with pytest.raises(SourceError) as error:
            fetch_airtable(airtable_server)
        assert other.requests == []
    assert "HTTP 307 redirect to another host" in str(error.value)
    assert TOKEN not in str(error.value)


def test_5_airtable_redirect_on_the_same_host_is_followed_with_its_credentials(
    airtable_server, caplog
):
    location = f"{airtable_server.url}/v0/appDDRC/Metrics?pageSize=100"
    airtable_server.fail_next("/v0/", Fault.redirect(location, status=307))
    with caplog.at_level(logging.WARNING, logger=HTTP_LOGGER):
        assert len(fetch_airtable(airtable_server)) > 200
    first, followed = airtable_server.requests[:2]
    assert first.path == followed.path
    assert followed.headers["authorization"] == f"Bearer {TOKEN}"
    assert http_warnings(caplog) == [
        f"{catalog.AIRTABLE_METRICS.title}: following an HTTP 307 redirect from "
        f"{airtable_server.url}/v0/appDDRC/Metrics to {airtable_server.url}/v0/appDDRC/Metrics"
    ]
