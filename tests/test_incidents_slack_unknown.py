"""Slack deliveries whose outcome is unknown: one incident is still one message.

Against the local Slack stand-in with the real slack_sdk client. Slack takes the parent
message and its answer is lost (the body cut off mid-way, or right after the headers);
the process dies between posting and recording; or the answer is lost and the message
never arrived. Each time the bot looks the message up in the channel's history (by the
incident in its metadata) before posting again, and records its ts when it is there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk import WebClient

from ddrc_platform.incidents import (
    FailureKind,
    IncidentDesk,
    Redactor,
    Router,
    SlackNotifier,
    SqliteIncidentStore,
    Triage,
    load_oncall,
)
from ddrc_platform.incidents.slack import INCIDENT_EVENT
from ddrc_platform.incidents.store import DeliveryState
from stand_ins.base import Fault, Response
from stand_ins.slack import SlackServer

ONCALL = Path(__file__).parents[1] / "config" / "oncall.yaml"
CHANNEL = "#odi-la-fires-recovery-tracking"
EPA = "raw/epa/public_status_assessment"
INCIDENT = f"source_load_failed:{EPA}"


@pytest.fixture
def server() -> Iterator[SlackServer]:
    with SlackServer() as slack:
        yield slack


@pytest.fixture
def store(tmp_path: Path) -> SqliteIncidentStore:
    return SqliteIncidentStore(tmp_path / "incidents.sqlite")


@pytest.fixture
def desk(server: SlackServer, store: SqliteIncidentStore) -> IncidentDesk:
    """On the wall clock: Slack's message ids are wall-clock times, and the lookup
    searches the channel from when the incident opened."""
    triage = Triage(Router(load_oncall(ONCALL), lambda: datetime.now(UTC)), deployment="prd")
    notifier = SlackNotifier(server.token, CHANNEL, base_url=server.api_url, redactor=Redactor())
    return IncidentDesk(triage, store, notifier)


def fail(desk: IncidentDesk, run_id: str = "r1") -> None:
    desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id=run_id)


def posts(server: SlackServer) -> int:
    return sum(method == "chat.postMessage" for method, _ in server.calls)


@pytest.mark.parametrize("after_bytes", [20, 0], ids=["cut-mid-body", "dropped-after-headers"])
def test_a_lost_answer_is_looked_up_and_recorded_not_posted_again(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore, after_bytes: int
) -> None:
    fail(desk)
    server.cut_next_reply("chat.postMessage", after_bytes)
    report = desk.deliver()  # no crash: the lost answer is reconciled in the same delivery
    assert report.failed == {} and report.delivered == [INCIDENT]
    [parent] = server.parents()
    assert parent.metadata == {
        "event_type": INCIDENT_EVENT,
        "event_payload": {"incident_id": INCIDENT, "incident_key": 1},
    }
    row = store.open_incident(INCIDENT)
    assert row is not None and row.slack_ts == parent.ts and row.slack_channel == parent.channel
    assert row.delivery_state is DeliveryState.DELIVERED

    fail(desk, "r2")  # a repeat threads under the one parent
    desk.deliver()
    desk.deliver()
    assert server.parents() == [parent] and len(server.replies(parent.ts)) == 1
    assert posts(server) == 2


def test_a_lost_answer_and_a_failed_lookup_wait_and_the_next_delivery_finds_it(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore
) -> None:
    fail(desk)
    server.cut_next_reply("chat.postMessage")
    server.fail_next("/api/conversations.history", Fault.status(500))
    report = desk.deliver()
    assert "answer lost" in report.failed[INCIDENT]
    [pending] = store.pending_deliveries()
    assert not pending.posted  # unknown: not recorded, and not posted again either

    assert desk.deliver().delivered == [INCIDENT]  # looked up first: found, recorded
    [parent] = server.parents()
    assert store.open_incident(INCIDENT).slack_ts == parent.ts
    assert posts(server) == 1


def test_a_post_whose_recording_was_lost_is_found_before_posting(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore
) -> None:
    """The process died between Slack taking the message and the store recording it."""
    fail(desk)
    [row] = store.pending_deliveries()
    posted = desk.notifier.post_incident(row)  # and nothing recorded
    desk.deliver()
    assert [m.ts for m in server.parents()] == [posted.ts]
    assert store.open_incident(INCIDENT).slack_ts == posted.ts


def test_a_lost_answer_of_a_message_that_never_arrived_is_posted_once(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore
) -> None:
    fail(desk)
    desk.deliver()  # an earlier incident's parent: the channel is known, and not a match
    store.record_recovery(EPA, datetime.now(UTC))
    desk.deliver()
    fail(desk, "r2")  # a new incident, same id: its own parent
    cut = Response(200, b'{"ok": true, "channel": "C1", "ts": "1.0"}', drop_after=5)
    server.fail_next("/api/chat.postMessage", Fault(cut))  # not carried out, answer cut
    assert "answer lost" in desk.deliver().failed[INCIDENT]
    assert len(server.parents()) == 1
    desk.deliver()
    desk.deliver()
    assert len(server.parents()) == 2
    assert store.open_incident(INCIDENT).slack_ts == server.parents()[-1].ts


def test_the_lookup_pages_through_a_busy_channel(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore
) -> None:
    fail(desk)
    [row] = store.pending_deliveries()
    posted = desk.notifier.post_incident(row)  # recording lost, as above
    chatter = WebClient(token=server.token, base_url=server.api_url)
    for i in range(450):  # more than two pages of later messages
        chatter.chat_postMessage(channel=CHANNEL, text=f"message {i}")
    desk.deliver()
    assert store.open_incident(INCIDENT).slack_ts == posted.ts
    assert len([m for m in server.parents() if m.metadata]) == 1


def test_a_bot_that_may_not_read_the_channel_posts_with_a_warning(
    server: SlackServer, desk: IncidentDesk, caplog: pytest.LogCaptureFixture
) -> None:
    refused = Fault(Response.json({"ok": False, "error": "missing_scope"}))
    server.fail_next("/api/conversations.list", refused)
    fail(desk)
    with caplog.at_level(logging.WARNING):
        assert desk.deliver().delivered == [INCIDENT]
    assert "missing_scope" in caplog.text
    assert len(server.parents()) == 1
