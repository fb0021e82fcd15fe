"""Slack delivery against the local Slack stand-in, with the real slack_sdk clients.

What is asserted is what Slack received: one parent per incident, repeats in its thread,
the resolution with the retro reminder, nothing lost while Slack is down, nothing twice,
and no secret in any request body.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from ddrc_platform.incidents import (
    ConsoleNotifier,
    FailureKind,
    IncidentDesk,
    Recovery,
    Redactor,
    Router,
    SlackNotifier,
    SqliteIncidentStore,
    Triage,
    WebhookNotifier,
    build_desk,
    load_oncall,
    render,
)
from ddrc_platform.incidents.slack import RETRO, Notifier
from ddrc_platform.incidents.store import DeliveryState
from stand_ins.base import Fault
from stand_ins.slack import SlackServer

PT = ZoneInfo("America/Los_Angeles")
ONCALL = Path(__file__).parents[1] / "config" / "oncall.yaml"
CHANNEL = "#odi-la-fires-recovery-tracking"
EPA = "raw/epa/public_status_assessment"
PUBLISH = "publish/ddrc_metrics_json"
SECRETS = ["xoxb-123-secret", "correct-horse-battery-staple"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def server() -> Iterator[SlackServer]:
    with SlackServer() as slack:
        yield slack


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 4, 1, 10, 0, tzinfo=PT))  # a Wednesday in business hours


@pytest.fixture
def store(tmp_path: Path) -> SqliteIncidentStore:
    return SqliteIncidentStore(tmp_path / "incidents.sqlite")


def make_desk(store: SqliteIncidentStore, clock: Clock, notifier: Notifier) -> IncidentDesk:
    triage = Triage(
        Router(load_oncall(ONCALL), clock),
        redactor=Redactor(SECRETS),
        deployment="prd",
        webserver_url="http://127.0.0.1:3000",
    )
    return IncidentDesk(triage, store, notifier)


@pytest.fixture
def bot(server: SlackServer) -> SlackNotifier:
    return SlackNotifier(server.token, CHANNEL, base_url=server.api_url, redactor=Redactor(SECRETS))


@pytest.fixture
def desk(store: SqliteIncidentStore, clock: Clock, bot: SlackNotifier) -> IncidentDesk:
    return make_desk(store, clock, bot)


def fail_three_times(desk: IncidentDesk, clock: Clock) -> None:
    for i in range(3):
        _, is_new = desk.report(
            FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id=f"run-{i}", error="ReadTimeout"
        )
        assert is_new is (i == 0)
        report = desk.deliver()
        assert report.failed == {}
        clock.now += timedelta(hours=1)


def header(message_blocks: list[dict]) -> str:
    return message_blocks[0]["text"]["text"]


def test_repeats_thread_under_one_parent_and_the_resolution_closes_it(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore, clock: Clock
) -> None:
    opened = clock.now
    fail_three_times(desk, clock)

    [parent] = server.parents()
    assert parent.channel.startswith("C")
    assert header(parent.blocks).startswith("🟡 LOW · Source load failed: EPA")
    replies = server.replies(parent.ts)
    assert [r.text for r in replies] == [
        "Still failing: 2 occurrences, latest run <http://127.0.0.1:3000/runs/run-1|run-1>.",
        "Still failing: 3 occurrences, latest run <http://127.0.0.1:3000/runs/run-2|run-2>.",
    ]
    assert parent.updates == 2
    assert "*Occurrences*\n3 since Wed 1 Apr 2026, 10:00 PDT" in json.dumps(
        parent.blocks, ensure_ascii=False
    ).replace("\\n", "\n")
    row = store.open_incident(f"source_load_failed:{EPA}")
    assert row is not None
    assert (row.occurrences, row.delivery_state, row.slack_ts) == (
        3,
        DeliveryState.DELIVERED,
        parent.ts,
    )
    assert row.opened_at == opened and row.incident.run_id == "run-2"

    clock.now = opened + timedelta(hours=3, minutes=30)
    [resolved] = desk.recover(EPA, by=Recovery.MATERIALIZED)
    assert resolved.delivery_state is DeliveryState.RESOLVED_PENDING
    desk.deliver()
    last = server.replies(parent.ts)[-1]
    assert last.text == f"✅ Resolved after 3 h 30 min. {RETRO}"
    assert "retro for next week" in last.text
    assert header(server.message(parent.ts).blocks).startswith("✅ Resolved · LOW")
    assert store.list_incidents()[0].delivery_state is DeliveryState.RESOLVED_DELIVERED

    count = len(server.messages)
    desk.deliver()
    assert len(server.messages) == count  # nothing is sent twice

    # the same failure after resolution is a new incident with its own parent
    desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id="run-9")
    desk.deliver()
    assert len(server.parents()) == 2


def test_notes_reach_the_thread_with_the_next_delivery_once(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore
) -> None:
    """A rollback's note, then its release: in the held incident's thread, once each."""
    held, _ = desk.report(FailureKind.PUBLICATION_HELD, [PUBLISH], check_name="gate")
    desk.note_open_incidents("Rolled back: pinned to version V <!channel>")
    desk.deliver()
    desk.deliver()
    [parent] = server.parents()
    assert [r.text for r in server.replies(parent.ts)] == [
        "📝 Rolled back: pinned to version V &lt;!channel&gt;"
    ]

    desk.note_open_incidents("Pin released")
    desk.recover(PUBLISH, by=Recovery.CHECK_PASSED, check_name="gate")
    desk.deliver()
    texts = [r.text for r in server.replies(parent.ts)]
    assert texts[1:] == ["📝 Pin released", f"✅ Resolved after less than a minute. {RETRO}"]
    assert [text for _, text in store.notes(held.key)] == [
        "Rolled back: pinned to version V <!channel>",
        "Pin released",
    ]


def test_webhook_posts_each_incident_and_its_resolution_once(
    server: SlackServer, store: SqliteIncidentStore, clock: Clock
) -> None:
    desk = make_desk(store, clock, WebhookNotifier(server.webhook_url))
    fail_three_times(desk, clock)
    desk.recover(f"source_load_failed:{EPA}")
    desk.deliver()
    desk.deliver()
    assert [m.via for m in server.messages] == ["webhook", "webhook"]
    incident, resolution = server.messages
    assert header(incident.blocks).startswith("🟡 LOW · Source load failed")
    assert resolution.text.startswith("✅ Resolved after 3 h") and RETRO in resolution.text
    assert all(r.path == server.webhook_path for r in server.requests)


@pytest.mark.parametrize("outage", ["http_500", "stopped"])
def test_slack_down_then_up_delivers_exactly_once(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore, outage: str
) -> None:
    port = server.port
    if outage == "http_500":
        server.fail_always("/api/", Fault.status(500, "upstream connect error"))
    else:
        server.stop()
    desk.report(FailureKind.PUBLISHED_FILE_STALE, [PUBLISH], run_id="r1")
    for _ in range(2):
        report = desk.deliver()
        assert list(report.failed) == [f"published_file_stale:{PUBLISH}"]
    [pending] = store.pending_deliveries()
    assert not pending.posted

    if outage == "http_500":
        server.heal()
    else:
        server.start(port)
    assert desk.deliver().delivered == [pending.id]
    desk.deliver()
    [parent] = server.parents()
    assert header(parent.blocks).startswith("🔴 HIGH")
    assert store.pending_deliveries() == []


def test_slack_answering_ok_false_keeps_the_incident_pending(
    server: SlackServer, store: SqliteIncidentStore, clock: Clock
) -> None:
    wrong = SlackNotifier("xoxb-revoked", CHANNEL, base_url=server.api_url)
    desk = make_desk(store, clock, wrong)
    desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA])
    assert "invalid_auth" in next(iter(desk.deliver().failed.values()))
    assert server.messages == []

    desk.notifier = SlackNotifier(server.token, CHANNEL, base_url=server.api_url)
    desk.deliver()
    desk.deliver()
    assert len(server.messages) == 1


def test_a_note_whose_reply_failed_reaches_the_thread_at_the_next_delivery_once(
    server: SlackServer, desk: IncidentDesk, store: SqliteIncidentStore
) -> None:
    """The incident is whole in Slack; its note's thread reply gets a 503: the next
    delivery posts it, and later ones (and concurrent ones) do not post it again."""
    held, _ = desk.report(FailureKind.PUBLICATION_HELD, [PUBLISH], check_name="gate")
    desk.deliver()
    desk.note_open_incidents("Pin released")
    server.fail_next("/api/chat.postMessage", Fault.status(503, "busy"))
    assert list(desk.deliver().failed) == [held.id]
    [parent] = server.parents()
    assert server.replies(parent.ts) == []

    assert desk.deliver().failed == {}
    server.fail_next("/api/chat.postMessage", Fault.slow(0.5))
    desk.note_open_incidents("Rolled back again")
    deliver_at_once(desk, 3)
    desk.deliver()
    assert [r.text for r in server.replies(parent.ts)] == [
        "📝 Pin released",
        "📝 Rolled back again",
    ]
    assert store.undelivered_notes(held.key) == []


def deliver_at_once(desk: IncidentDesk, deliverers: int) -> None:
    """Several sensor ticks delivering at the same moment."""
    threads = [threading.Thread(target=desk.deliver) for _ in range(deliverers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_a_delivery_failing_half_way_resumes_without_repeating(
    server: SlackServer, desk: IncidentDesk, clock: Clock
) -> None:
    desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id="r1")
    desk.deliver()
    desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id="r2")
    server.fail_next("/api/chat.postMessage", Fault.status(503, "busy"))  # the thread reply
    assert desk.deliver().failed
    desk.deliver()
    desk.deliver()
    [parent] = server.parents()
    assert len(server.replies(parent.ts)) == 1
    assert parent.updates == 2  # the idempotent parent update was simply redone


def test_an_incident_resolved_while_slack_was_down_is_still_told_in_full(
    server: SlackServer, desk: IncidentDesk, clock: Clock
) -> None:
    server.fail_always("/api/", Fault.status(500))
    desk.report(FailureKind.FIVETRAN_SYNC_FAILED, ["raw/airtable/metrics"])
    desk.deliver()
    clock.now += timedelta(minutes=45)
    desk.recover("raw/airtable/metrics", by=Recovery.MATERIALIZED)
    desk.deliver()
    server.heal()
    desk.deliver()
    desk.deliver()
    [parent] = server.parents()
    assert header(parent.blocks).startswith("✅ Resolved")
    assert [r.text for r in server.replies(parent.ts)] == [f"✅ Resolved after 45 min. {RETRO}"]


def test_concurrent_deliveries_post_once(server: SlackServer, desk: IncidentDesk) -> None:
    desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA])
    server.fail_next("/api/chat.postMessage", Fault.slow(0.5))
    deliver_at_once(desk, 3)
    desk.deliver()
    assert len(server.messages) == 1


def test_secrets_never_reach_slack(
    server: SlackServer, store: SqliteIncidentStore, clock: Clock
) -> None:
    error = RuntimeError(
        "snowflake login failed: password=correct-horse-battery-staple; "
        "then slack said invalid_auth for xoxb-123-secret; "
        "the value again, bare: correct-horse-battery-staple"
    )
    bot_desk = make_desk(
        store,
        clock,
        SlackNotifier(server.token, CHANNEL, base_url=server.api_url, redactor=Redactor(SECRETS)),
    )
    webhook_desk = make_desk(store, clock, WebhookNotifier(server.webhook_url))
    for i, desk in enumerate((bot_desk, webhook_desk, bot_desk)):
        desk.report(FailureKind.RUN_FAILED, [f"staging/model_{i}"], run_id=f"r{i}", error=error)
        desk.report(FailureKind.RUN_FAILED, [f"staging/model_{i}"], run_id=f"s{i}", error=error)
        desk.deliver()
        desk.recover(f"staging/model_{i}")
        desk.deliver()

    assert len(server.messages) >= 6
    bodies = [r.body.decode() for r in server.requests]
    assert any("[REDACTED]" in b for b in bodies)
    for secret in SECRETS:
        for form in (secret, quote(secret), quote_plus(secret), json.dumps(secret)[1:-1]):
            assert not any(form in body for body in bodies), form
    # nor in the store, which a dashboard shows
    assert not any(
        "correct-horse" in json.dumps(r.incident.to_json()) for r in store.list_incidents()
    )


def test_render_redacts_again_as_a_defence(desk: IncidentDesk) -> None:
    incident = desk.triage.incident(FailureKind.RUN_FAILED, [EPA])
    leaky = replace(incident, error_excerpt="token correct-horse-battery-staple")
    message = json.dumps(render(leaky, redactor=Redactor(SECRETS)))
    assert "correct-horse" not in message and "[REDACTED]" in message


def test_the_message_says_what_who_and_what_next(desk: IncidentDesk, clock: Clock) -> None:
    clock.now = datetime(2026, 4, 1, 21, 0, tzinfo=PT)  # Wednesday night
    low = desk.triage.incident(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id="r1", error="<x> & y")
    text = json.dumps(render(low), ensure_ascii=False).replace("\\n", "\n")
    assert "deferred until Thu 2 Apr 2026, 09:00 PDT" in text
    assert "<@" not in text  # a deferred incident pages nobody
    assert "The site still shows the last good data." in text
    assert "Its numbers: the last good value, aging; the other sources keep publishing" in text
    assert "&lt;x&gt; &amp; y" in text  # error text cannot become a link or mention
    assert "1. Check that the source answers" in text and "4." not in text

    high = desk.triage.incident(FailureKind.PUBLISH_VERIFICATION_FAILED, [PUBLISH])
    message = render(high)
    assert "<@U0ONCALL" in message["text"] and "act now" in message["text"]
    fields = json.dumps(message["blocks"], ensure_ascii=False)
    assert "The public file is wrong or stale." in fields
    assert "ddrc rollback" in fields


def test_block_kit_limits_hold_for_huge_incidents(desk: IncidentDesk) -> None:
    keys = [f"staging/model_with_a_long_name_{i:03d}" for i in range(200)]
    incident = desk.triage.incident(
        FailureKind.RUN_FAILED, keys, check_name="c" * 500, error="e" * 100_000
    )
    blocks = render(incident, occurrences=12345)["blocks"]
    assert len(blocks) <= 50
    assert len(header(blocks)) <= 150
    fields = next(b for b in blocks if "fields" in b)["fields"]
    assert len(fields) <= 10 and all(len(f["text"]) <= 2000 for f in fields)
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "actions":
            assert all(
                len(b["url"]) <= 3000 and len(b["text"]["text"]) <= 75 for b in block["elements"]
            )


def test_console_notifier_prints_and_the_store_keeps_the_record(
    store: SqliteIncidentStore, clock: Clock
) -> None:
    out = io.StringIO()
    desk = make_desk(store, clock, ConsoleNotifier(out))
    desk.report(FailureKind.PUBLISH_FAILED, [PUBLISH], error="AuthenticationFailed")
    desk.report(FailureKind.PUBLISH_FAILED, [PUBLISH], error="AuthenticationFailed")
    desk.deliver()
    clock.now += timedelta(days=1, hours=2)
    desk.recover(PUBLISH, by=Recovery.MATERIALIZED)
    desk.deliver()
    printed = out.getvalue()
    assert "🔴 HIGH · Publishing failed: publish/ddrc_metrics_json" in printed
    assert "Rerun the publication" in printed and "| AuthenticationFailed" in printed
    assert f"Resolved after 1 d 2 h. {RETRO}" in printed
    [row] = store.list_incidents()
    assert (row.occurrences, row.delivery_state) == (2, DeliveryState.RESOLVED_DELIVERED)


def test_build_desk_wires_settings_values(server: SlackServer, tmp_path: Path) -> None:
    defs = dg.Definitions(
        assets=[
            dg.AssetSpec(EPA),
            dg.AssetSpec(PUBLISH, deps=[EPA]),
        ]
    )
    clock = Clock(datetime(2026, 4, 4, 12, tzinfo=PT))  # Saturday
    desk = build_desk(
        oncall_path=ONCALL,
        store_path=tmp_path / "incidents.sqlite",
        metric_sources={"cleanup_phase1_complete": {EPA}},
        graph=defs,
        secrets=SECRETS,
        deployment="dev",
        slack_channel="#ddrc-bots",
        slack_token=server.token,
        slack_base_url=server.api_url,
        webserver_url="http://dagster.local",
        clock=clock,
    )
    row, _ = desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id="abc", error=SECRETS[0])
    assert row.incident.affected_metrics == ("cleanup_phase1_complete",)
    assert row.incident.title.startswith("[dev] Source load failed")
    assert not row.incident.act_now and row.incident.deferred_until is not None
    desk.deliver()
    [message] = server.messages
    assert SECRETS[0] not in json.dumps(message.blocks)
    posts = [params for method, params in server.calls if method == "chat.postMessage"]
    assert posts[0]["channel"] == "#ddrc-bots"

    console = build_desk(
        oncall_path=ONCALL,
        store_path=tmp_path / "local.sqlite",
        metric_sources={},
        graph=defs,
    )
    assert isinstance(console.notifier, ConsoleNotifier)
