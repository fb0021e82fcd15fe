"""Rollback bookkeeping a responder reads: one live version in `./ddrc versions`, the pin
that holds it named, and a release told in the held incident's Slack thread at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
from ddrc_platform.publish.rollback import RELEASE_HINT, listing
from ddrc_platform.publish.targets.base import Pin
from stand_ins.slack import SlackServer

ROOT = Path(__file__).resolve().parent.parent
AT = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)
A, B = "a" * 64, "b" * 64
FIRST = f"20250602T193000Z-{A[:12]}.json"
SECOND = f"20250602T203000Z-{B[:12]}.json"
RESTORED = f"20250602T213000Z-{A[:12]}.json"  # the first content, live again after a rollback


def test_after_a_rollback_only_the_version_that_went_live_last_is_live():
    pin = Pin(FIRST, A, AT, "run 1")
    assert listing([FIRST, SECOND, RESTORED], A, pin) == [
        f"{FIRST}  pinned",
        SECOND,
        f"{RESTORED}  live, held by the pin",
        f"{pin.describe()}; {RELEASE_HINT}",
    ]


def test_without_a_pin_the_live_version_is_marked_once_and_nothing_holds_it():
    assert listing([FIRST, SECOND, RESTORED], A, None) == [
        FIRST,
        SECOND,
        f"{RESTORED}  live",
        "not pinned",
    ]
    assert listing([FIRST, SECOND], B, None) == [FIRST, f"{SECOND}  live", "not pinned"]
    assert listing([], None, None) == ["not pinned"]


def test_a_pin_whose_version_is_live_says_both():
    pin = Pin(SECOND, B, AT, "run 1")
    assert listing([FIRST, SECOND], B, pin)[1] == f"{SECOND}  live, held by the pin; pinned"


def test_a_note_on_an_incident_slack_already_has_reaches_its_thread_once(tmp_path: Path):
    """The release's note on the pin's incident, posted long before: no new message
    or recovery comes with it, and the thread still hears of it at the next delivery."""
    with SlackServer() as slack:
        triage = Triage(
            Router(load_oncall(ROOT / "config" / "oncall.yaml"), lambda: AT),
            redactor=Redactor([]),
            deployment="prd",
        )
        notifier = SlackNotifier(slack.token, "#ddrc", base_url=slack.api_url)
        store = SqliteIncidentStore(tmp_path / "incidents.sqlite")
        desk = IncidentDesk(triage, store, notifier)
        desk.report(FailureKind.PUBLICATION_PINNED, ["publish/ddrc_metrics_json"], check_name="g")
        assert desk.deliver().failed == {}
        (parent,) = slack.parents()
        assert slack.replies(parent.ts) == []

        desk.note_open_incidents("Pin released: the next publish goes through the checks.")
        assert desk.deliver().failed == {}
        desk.deliver()
        replies = [reply.text for reply in slack.replies(parent.ts)]
        assert replies == ["📝 Pin released: the next publish goes through the checks."]
        assert len(slack.parents()) == 1
