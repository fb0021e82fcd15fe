"""What `ddrc_platform/integrations/urllib3_retry.py` leans on in urllib3 and pyairtable,
checked so an upgrade that changes it fails here, naming what to fix."""

from __future__ import annotations

import time

import pyairtable
import pytest
import urllib3

from ddrc_platform.ingest.sources.http import WaitBeyondDeadline
from ddrc_platform.integrations.urllib3_retry import DeadlineRetry
from stand_ins.base import Fault, Request, Response, StandIn


class _Ok(StandIn):
    def handle(self, request: Request) -> Response:
        return Response.json({"ok": True})


def test_new_carries_the_deadline_and_the_start_from_retry_to_retry():
    """urllib3 makes each successor with `new(**kw)`, passing `kw` to the constructor."""
    first = DeadlineRetry(total=3, deadline=42.0)
    assert first.started is None
    second = first.increment("GET", "/", error=urllib3.exceptions.ConnectTimeoutError())
    third = second.increment("GET", "/", error=urllib3.exceptions.ConnectTimeoutError())
    assert isinstance(third, DeadlineRetry) and third.total == 1
    assert second.deadline == third.deadline == 42.0
    assert second.started is not None and third.started == second.started


def test_the_pool_waits_through_sleep_with_the_answer_that_asked(monkeypatch):
    """A status retry ends in `sleep(response)`, where the deadline is checked."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    with _Ok() as server:
        server.fail_next("/", Fault.rate_limited(3600))
        retry = DeadlineRetry(total=2, status_forcelist=(429,), deadline=300.0)
        with pytest.raises(WaitBeyondDeadline, match="asked to retry after 3600 s"):
            urllib3.PoolManager(retries=retry).request("GET", server.url + "/")
        server.fail_next("/", Fault.rate_limited(3))
        assert urllib3.PoolManager(retries=retry).request("GET", server.url + "/").status == 200
    assert slept == [3.0]


def test_pyairtable_mounts_the_retry_strategy_it_is_given():
    retry = DeadlineRetry(total=1, deadline=1.0)
    api = pyairtable.Api("patX", retry_strategy=retry)
    assert api.session.get_adapter("https://api.airtable.com/v0/").max_retries is retry
    assert api.session.hooks["response"] == []  # ours are the only hooks on its session
