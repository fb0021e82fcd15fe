"""What the publish step and a rollback decide, tested as plain functions: no Dagster run.

The gate (pin, failed checks), the plan (render, validate, diff, unchanged), carrying it out
on a real local target, the pinned hold, the verification, the jump summary, and what a
rollback or a release does and tells responders.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from ddrc_platform.publish import document as publication
from ddrc_platform.publish.checks import (
    Gate,
    Jump,
    PublishVerificationError,
    jump_summary,
    verify_published,
)
from ddrc_platform.publish.plan import (
    Outcome,
    carry_out,
    history_lacks_live,
    newest_version,
    outcome_lines,
    pinned_hold,
    plan_publication,
)
from ddrc_platform.publish.rollback import (
    RELEASE_HINT,
    RollbackError,
    roll_back_or_release,
    tell_responders,
)
from ddrc_platform.publish.targets.base import Pin
from ddrc_platform.publish.targets.local import LocalPublisher

NOW = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)


def metric(name: str, value: str, frequency: str = "daily") -> publication.Metric:
    return publication.Metric(name, Decimal(value), "count", "people", frequency, NOW)


def pin_of(content: bytes, version: str = "v1.json") -> Pin:
    return Pin(version, publication.content_hash(content), NOW, "test")


@pytest.fixture
def publisher(tmp_path: Path) -> LocalPublisher:
    return LocalPublisher(directory=str(tmp_path))


def test_the_gate_passes_only_without_a_pin_or_a_failed_check():
    assert Gate(None, []).passed
    assert Gate(None, []).describe() == "all passed"
    failed = Gate(None, ["not_null_metric_value", "no_unacknowledged_jumps"])
    assert not failed.passed
    assert failed.describe() == "failed: not_null_metric_value, no_unacknowledged_jumps"
    assert "not_null_metric_value, no_unacknowledged_jumps" in str(failed.held_error())
    assert "the public file is unchanged" in str(failed.held_error())


def test_a_pin_holds_the_gate_and_says_how_to_release_it():
    pin = pin_of(b"[]")
    both = Gate(pin, ["a_test"])
    assert not both.passed
    assert both.reasons == [f"held: {pin.describe()}; {RELEASE_HINT}", "failed: a_test"]


def test_a_first_plan_adds_every_metric_and_records_what_it_published(publisher):
    plan = plan_publication([metric("b", "2"), metric("a", "1")], None)
    assert not plan.unchanged
    assert [(c.metric, c.kind) for c in plan.changes] == [("a", "added"), ("b", "added")]
    assert plan.content == publication.render([metric("a", "1"), metric("b", "2")])
    published = carry_out(plan, publisher, lambda: NOW).published
    assert published is not None and publisher.current() == plan.content
    metadata = plan.metadata(published)
    assert list(metadata) == [
        "metric_count",
        "content_hash",
        "diff",
        "added",
        "removed",
        "changed",
        "status",
        "location",
        "version",
    ]
    assert (metadata["metric_count"], metadata["added"], metadata["status"]) == (2, 2, "published")
    assert metadata["version"] == publisher.versions()[-1] == published.version
    assert metadata["diff"] == publication.diff_markdown(plan.changes)


def test_unchanged_content_is_not_republished(publisher):
    metrics = [metric("a", "1")]
    publisher.publish(publication.render(metrics), NOW)

    def no_clock() -> dt.datetime:
        raise AssertionError("nothing to publish, so no time to stamp")

    plan = plan_publication(metrics, publisher.current(), newest_version(publisher))
    assert plan.unchanged and plan.changes == [] and not plan.repair_history
    assert carry_out(plan, publisher, no_clock) == Outcome(None, None)
    assert len(publisher.versions()) == 1
    metadata = plan.metadata(None)
    assert metadata["status"] == "unchanged" and "location" not in metadata
    assert metadata["diff"] == "No change."


def test_the_history_lacks_the_live_file_unless_it_is_the_newest_version_by_content():
    a, b = publication.render([metric("a", "1")]), publication.render([metric("a", "2")])
    assert not history_lacks_live(None, None)  # nothing public yet
    assert not history_lacks_live(a, a)
    assert history_lacks_live(a, None)  # live, never copied
    assert history_lacks_live(a, b)  # killed after the live write of a, b was the last copy
    assert history_lacks_live(a, a + b" ")  # compared by content, not by name


def test_a_live_file_without_its_history_copy_is_repaired_even_when_unchanged(publisher):
    """The state a publish killed between its two writes leaves: the live file written (as
    `publish` writes it), no history copy. The next plan adds the copy, named by when the
    file went live, and does not republish."""
    first, second = [metric("a", "1")], [metric("a", "2")]
    publisher.publish(publication.render(first), NOW - dt.timedelta(hours=1))
    live_path = Path(publisher.directory) / publication.FILE_NAME
    live_path.write_bytes(publication.render(second))  # the half publish: live only
    went_live = dt.datetime.fromtimestamp(live_path.stat().st_mtime, dt.UTC)
    named = min(went_live, NOW - dt.timedelta(seconds=1))  # never after the run's clock

    plan = plan_publication(second, publisher.current(), newest_version(publisher))
    assert plan.unchanged and plan.repair_history
    outcome = carry_out(plan, publisher, lambda: NOW)
    assert outcome.published is None
    assert outcome.repaired == publisher.versions()[-1]
    assert outcome.repaired.startswith(f"{named:%Y%m%dT%H%M%S}Z-")
    assert publisher.version(outcome.repaired) == publication.render(second)
    assert "repaired the history" in outcome_lines(plan, outcome)[0]
    assert plan.metadata(None, outcome.repaired)["repaired_history"] == outcome.repaired
    again = plan_publication(second, publisher.current(), newest_version(publisher))
    assert not again.repair_history  # repaired once, then nothing to do


def test_a_repair_comes_before_a_new_publish(publisher):
    """The interrupted version enters the history before the new one replaces it, so the
    rollback target after the new publish is the version the public saw in between."""
    publisher.publish(publication.render([metric("a", "1")]), NOW - dt.timedelta(hours=2))
    interrupted = publication.render([metric("a", "2")])
    (Path(publisher.directory) / publication.FILE_NAME).write_bytes(interrupted)
    plan = plan_publication([metric("a", "3")], publisher.current(), newest_version(publisher))
    outcome = carry_out(plan, publisher, lambda: NOW)
    assert outcome.published is not None and outcome.repaired is not None
    versions = publisher.versions()
    assert versions[-2:] == [outcome.repaired, outcome.published.version]
    assert publisher.version(versions[-2]) == interrupted


def test_a_plan_shows_changed_and_removed_metrics():
    live = publication.render([metric("a", "1"), metric("gone", "5")])
    plan = plan_publication([metric("a", "2"), metric("new", "3")], live)
    assert [(c.metric, c.kind, c.old, c.new) for c in plan.changes] == [
        ("a", "changed", 1.0, 2.0),
        ("new", "added", None, 3.0),
        ("gone", "removed", 5.0, None),
    ]
    assert (plan.metadata(None)["changed"], plan.metadata(None)["removed"]) == (1, 1)


def test_a_document_that_breaks_the_contract_is_refused_before_any_write(publisher):
    with pytest.raises(publication.PublicationError, match="UPDATE_FREQUENCY"):
        plan_publication([metric("a", "1", frequency="Hourly")], None)
    assert publisher.current() is None and publisher.versions() == []


def test_a_pinned_hold_confirms_the_live_file_is_the_pinned_version():
    content = publication.render([metric("a", "1")])
    pin = pin_of(content)
    intact = pinned_hold(pin, content)
    assert intact.intact
    assert intact.describe() == "the published file is the pinned version v1.json"
    assert intact.metadata() == {
        "status": "pinned",
        "pinned": pin.describe(),
        "version": "v1.json",
        "content_hash": publication.content_hash(content),
    }
    replaced = pinned_hold(pin, publication.render([metric("a", "2")]))
    assert not replaced.intact and "roll back again" in replaced.describe()
    missing = pinned_hold(pin, None)
    assert not missing.intact and missing.metadata()["content_hash"] == "(no file)"


def test_verification_compares_what_the_public_reads_with_the_summary():
    expected = publication.render([metric("a", "1"), metric("b", "2")])
    verify_published(expected, expected)
    with pytest.raises(PublishVerificationError, match="missing right after publishing"):
        verify_published(None, expected)
    other = publication.render([metric("a", "1"), metric("b", "3")])
    with pytest.raises(PublishVerificationError, match=r"differs from the summary \(b changed\)"):
        verify_published(other, expected)


def test_the_jump_summary_says_how_to_let_a_right_value_through():
    assert jump_summary([], 0.5) == "No metric moved more than 50% from its published value."
    jumps = [Jump("a", Decimal(100), Decimal(200)), Jump("gone", Decimal(5), None)]
    text = jump_summary(jumps, 0.5)
    assert text.startswith("2 metric(s) moved more than 50% or vanished")
    assert "config/acknowledgements.yaml" in text
    assert "a: 100.00 → 200.00" in text and "gone: published 5.00 but missing" in text


class Heard:
    """Responders that remember what they were told."""

    def __init__(self) -> None:
        self.holds: list[str] = []
        self.notes: list[str] = []

    def report_hold(self, note: str) -> None:
        self.holds.append(note)

    def note(self, text: str) -> None:
        self.notes.append(text)


def test_a_rollback_pins_the_previous_version_and_reports_the_hold(publisher):
    first, second = publication.render([metric("a", "1")]), publication.render([metric("a", "9")])
    publisher.publish(first, NOW)
    publisher.publish(second, NOW + dt.timedelta(hours=1))
    later = NOW + dt.timedelta(hours=2)
    done = roll_back_or_release(publisher, to=None, lift=False, at=later, by="run r1")
    assert done is not None and not done.released
    assert publisher.current() == first and publisher.pin() == done.pin
    assert done.note == f"Rolled back: {done.pin.describe()}; publishing holds ({RELEASE_HINT})."
    heard = Heard()
    tell_responders(done, heard, "http://ui/runs/r1")
    assert heard.holds == [done.note]
    assert heard.notes == [f"{done.note} Run: http://ui/runs/r1"]


def test_a_release_lifts_the_pin_and_only_notes_it(publisher):
    publisher.publish(publication.render([metric("a", "1")]), NOW)
    assert roll_back_or_release(publisher, to=None, lift=True, at=NOW, by="cli") is None
    pin = pin_of(publisher.current(), publisher.versions()[0])
    publisher.set_pin(pin)
    done = roll_back_or_release(publisher, to=None, lift=True, at=NOW, by="cli")
    assert done is not None and done.released and done.pin == pin
    assert publisher.pin() is None
    heard = Heard()
    tell_responders(done, heard, "http://ui/runs/r2")
    assert heard.holds == []
    assert heard.notes == [
        f"Pin released ({pin.describe()}): the next publish goes through the checks. "
        "Run: http://ui/runs/r2"
    ]


def test_a_rollback_with_nothing_earlier_changes_nothing(publisher):
    publisher.publish(publication.render([metric("a", "1")]), NOW)
    with pytest.raises(RollbackError, match="no earlier version"):
        roll_back_or_release(publisher, to=None, lift=False, at=NOW, by="cli")
    with pytest.raises(RollbackError, match=r"no version 'nope\.json'"):
        roll_back_or_release(publisher, to="nope.json", lift=False, at=NOW, by="cli")
    assert publisher.pin() is None
