"""Rollback that sticks, history of public versions only, and incidents in the shell.

- a failed local live write leaves no history version, and rollback restores public ones;
- the job `ddrc_rollback` restores and pins a version: the next pipeline run holds (file
  unchanged byte for byte) until the pin is released, then publishes through the checks;
- an Airtable entry that holds the publication shows up, with who changed it, when and a
  link, in `./ddrc incidents` run against the home of that run.

No whole-pipeline run here. The tests on the live stand-ins start from their own copy of
the session's built home (`home_copy`: sample data at SCALE, built and published at NOW).
The stand-ins serve that same sample data, and `tests/test_pipeline.py` proves a live run
publishes that same file byte for byte. So the first publication is the one a live run at
NOW would make. Then each step reruns only what it needs: an Airtable edit reruns the
Airtable loader and what lies below it (`changed=`, as the automation would), and a step
where only the pin decides runs the publish step alone (`selection=`). Every run is a real
run of the real assets in the test's one Dagster instance, which the incident sensor reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import os
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import (
    GATE_CHECK,
    JUMP_CHECK,
    PUBLISH_KEY,
    ROLLBACK_JOB,
    SUMMARY_KEY,
)
from ddrc_platform.incidents import FailureKind, Severity, SqliteIncidentStore
from ddrc_platform.incidents.asset_page import INCIDENT_CHECK
from ddrc_platform.ingest import sample
from ddrc_platform.publish import document as publication
from ddrc_platform.publish.rollback import RELEASE_HINT, rollback
from ddrc_platform.publish.targets import local
from ddrc_platform.publish.targets.local import LocalPublisher, version_name
from ddrc_platform.settings import load_settings
from stand_ins.sources import AIRTABLE_BASE, serve_sample_sources
from tests.support import BUILT_AT, BUILT_SCALE, FAST_HTTP, run_pipeline, tick

pytestmark = pytest.mark.slow

NOW = BUILT_AT  # 2025-06-02T19:30Z: when the session's home was built (same Pacific day)
DAY = NOW.date()
SCALE = float(BUILT_SCALE)  # 0.05, the scale the session's home was built at
DRC = "people_helped_drc"
AIRTABLE = catalog.AIRTABLE_METRICS.asset_key


def document(value: int) -> bytes:
    metric = publication.Metric(DRC, publication.Decimal(value), "count", "people", "daily", NOW)
    return publication.render([metric])


def test_a_failed_live_write_enters_no_history_and_rollback_stays_public(tmp_path, monkeypatch):
    publisher = LocalPublisher(directory=str(tmp_path))
    publisher.publish(document(61000), NOW)
    publisher.publish(document(61100), NOW + dt.timedelta(hours=1))
    public = publisher.live_path.read_bytes()
    replace = os.replace

    def disk_full_for_the_live_file(src, dst):
        if Path(dst) == publisher.live_path:
            raise OSError(errno.ENOSPC, "No space left on device")
        replace(src, dst)

    monkeypatch.setattr(local.os, "replace", disk_full_for_the_live_file)
    with pytest.raises(OSError, match="No space left"):
        publisher.publish(document(5), NOW + dt.timedelta(hours=2))
    monkeypatch.setattr(local.os, "replace", replace)

    assert publisher.live_path.read_bytes() == public  # byte for byte
    assert publisher.versions() == [
        version_name(document(61000), NOW),
        version_name(document(61100), NOW + dt.timedelta(hours=1)),
    ]
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != ".publish.lock")
    assert left == ["ddrc-metrics.json", "history"]  # no temporary file left behind
    pin = rollback(publisher, None, NOW + dt.timedelta(hours=3), by="test")
    assert pin.version == version_name(document(61000), NOW)
    assert publisher.current() == document(61000)
    assert publisher.pin() == pin  # pin.json beside the file


@pytest.fixture
def ddrc(ddrc_cli):
    """`ddrc(home, *args)`: `./ddrc ARGS` on this home, as a responder types it; its output."""

    def run(home: Path, *args: str) -> str:
        done = ddrc_cli({"DDRC_HOME": str(home)}, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_the_cli_rolls_back_pins_and_releases_through_the_job(tmp_path, ddrc):
    home = tmp_path / "ddrc"
    publisher = LocalPublisher(directory=str(home / "publish"))
    publisher.publish(document(61000), NOW)
    publisher.publish(document(61100), NOW + dt.timedelta(hours=1))
    first = version_name(document(61000), NOW)

    assert f"to version {first} (run " in ddrc(home, "rollback")
    assert publisher.current() == document(61000)
    listed = ddrc(home, "versions").splitlines()
    # the restored content went live again as the newest version: only it is live
    assert listed[0] == f"{first}  pinned"
    assert listed[-2].endswith(f"-{first.split('-')[1]}  live, held by the pin")
    assert sum(" live" in line for line in listed[:-1]) == 1
    assert listed[-1] == f"{publisher.pin().describe()}; {RELEASE_HINT}"

    assert "released" in ddrc(home, "rollback", "--release")
    assert publisher.pin() is None
    assert ddrc(home, "versions").splitlines()[-1] == "not pinned"
    # Dagster knows: both were runs of the job, in the instance `./ddrc ui` shows
    instance = dg.DagsterInstance.local_temp(tempdir=str(home / "dagster"))
    runs = instance.get_runs(dg.RunsFilter(job_name=ROLLBACK_JOB))
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2


def set_airtable_entry(live, value: int, by: str, at: dt.datetime) -> str:
    """Edit the latest `people_helped_drc` entry as a person would in Airtable; its id."""
    records = sample.airtable_records(scale=SCALE, day=DAY)
    entries = [
        r
        for r in records
        if r["fields"].get("Metric Machine Name (from Metric Definition)") == [DRC]
        and "Metric" in r["fields"]
    ]
    latest = max(entries, key=lambda r: r["fields"]["Date Created"])
    latest["fields"] |= {
        "Metric": value,
        "Metric Modified By": {"id": "usrTEST", "email": "x@example.org", "name": by},
        "Date Metric Modified": at.isoformat().replace("+00:00", "Z"),
    }
    live.airtable.set_records(records)
    return latest["id"]


@pytest.fixture
def stand_ins(home_copy, tmp_path):
    """Live settings on this test's copy of the built home (published at NOW), the
    stand-ins serving the same sample data, and the test's one Dagster instance."""
    with serve_sample_sources(day=DAY, scale=SCALE) as live:
        env = {
            **live.env,
            "DDRC_HOME": str(home_copy),
            "DDRC_SAMPLE_SCALE": str(SCALE),
            "DDRC_ACKNOWLEDGEMENTS": str(tmp_path / "ack.yaml"),
            "DDRC_WEBSERVER_URL": "http://dagster.example",
        }
        settings = dataclasses.replace(load_settings(env), http=FAST_HTTP)
        yield settings, live, dg.DagsterInstance.ephemeral()


def gate(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == GATE_CHECK]
    return check


def publish_status(result: dg.ExecuteInProcessResult) -> str:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == PUBLISH_KEY]
    return event.step_materialization_data.materialization.metadata["status"].value


def rollback_job(defs, instance, **config) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(ROLLBACK_JOB).execute_in_process(
        instance=instance,
        run_config={"ops": {"rollback_publication": {"config": config}}},
        raise_on_error=False,
    )


def test_a_rollback_job_pins_until_released(stand_ins):
    settings, live, instance = stand_ins
    publisher = LocalPublisher(directory=str(settings.publish_dir))
    store = SqliteIncidentStore(settings.incident_store_path)
    later = NOW + dt.timedelta(hours=1)

    # -- the first public version: the built home's, published at NOW --
    first = publisher.current()
    assert first is not None and len(publisher.versions()) == 1
    # -- a small, legitimate Airtable update: its loader and all below it publish it --
    set_airtable_entry(live, 77300, "Priya Raman", later)
    defs, result = run_pipeline(settings, instance, later, changed=[AIRTABLE])
    assert result.success and publish_status(result) == "published"
    second = publisher.current()
    assert second != first
    cursor = tick(defs, instance, None)

    # -- the job restores the previous public version and pins it --
    result = rollback_job(defs, instance)
    assert result.success
    restored = publisher.versions()[0]
    assert publisher.current() == first
    assert publisher.pin().version == restored
    shown = instance.get_latest_materialization_event(PUBLISH_KEY).asset_materialization
    assert shown.metadata["status"].value == "rolled back"
    assert shown.metadata["version"].value == restored
    (held,) = store.list_incidents(open_only=True)
    assert held.incident.kind == FailureKind.PUBLICATION_PINNED  # a person's choice: low
    assert held.incident.severity is Severity.LOW
    assert held.incident.check_name == GATE_CHECK
    ((_, note),) = store.notes(held.key)
    assert note.startswith("Rolled back: pinned by rollback at") and restored in note

    # -- the next run holds: the public file stays the restored one --
    # No data changed, so only the publish step's decision matters: it runs alone, on a
    # summary that holds the update (second), with every blocking check passed, and the
    # pin alone keeps it back.
    history = publisher.versions()
    defs, result = run_pipeline(settings, instance, later, selection=[PUBLISH_KEY])
    assert result.success and publish_status(result) == "pinned"
    assert not gate(result).passed
    assert "pinned by rollback at" in gate(result).description
    assert f"to version {restored}" in gate(result).description
    assert publisher.current() == first  # byte for byte
    assert publisher.versions() == history
    cursor = tick(defs, instance, cursor)
    assert [r.id for r in store.list_incidents(open_only=True)] == [held.id]  # the same one

    # -- released: the next run publishes through the usual checks --
    # The summary is rebuilt and checked again (its dbt tests and the jump check against
    # the restored file) in the same run as the publish step.
    result = rollback_job(defs, instance, release=True)
    assert result.success and publisher.pin() is None
    assert "Pin released" in store.notes(held.key)[-1][1]
    defs, result = run_pipeline(settings, instance, later, selection=[SUMMARY_KEY, PUBLISH_KEY])
    assert result.success and publish_status(result) == "published"
    assert gate(result).passed
    checked = result.get_asset_check_evaluations()
    assert [c.passed for c in checked if c.check_name == JUMP_CHECK] == [True]  # rechecked
    assert publisher.current() == second
    tick(defs, instance, cursor)
    assert store.list_incidents(open_only=True) == []


def test_an_airtable_entry_holding_the_publication_is_listed_by_the_cli(stand_ins, tmp_path, ddrc):
    settings, live, instance = stand_ins
    # the last good file: the built home's, published at NOW
    good = (settings.publish_dir / publication.FILE_NAME).read_bytes()
    later = NOW + dt.timedelta(hours=1)
    record = set_airtable_entry(live, 5, "Sam Typo", later)

    # the Airtable loader and all below it: a blocking check on the summary holds the file
    defs, result = run_pipeline(settings, instance, later, changed=[AIRTABLE])
    assert not result.success
    assert (settings.publish_dir / publication.FILE_NAME).read_bytes() == good
    tick(defs, instance, None)
    store = SqliteIncidentStore(settings.incident_store_path)
    (floor,) = [r for r in store.list_incidents(open_only=True) if DRC in (r.incident.check_name)]
    assert floor.incident.kind == FailureKind.PUBLICATION_HELD

    # the same incident on the failed asset's page: a failed check, not a green event
    page = instance.get_latest_asset_check_evaluation_record(
        dg.AssetCheckKey(dg.AssetKey.from_user_string(floor.incident.asset_keys[0]), INCIDENT_CHECK)
    )
    assert page is not None and page.status.value == "FAILED"
    assert floor.incident.title in page.event.dagster_event.event_specific_data.description

    listing = ddrc(settings.home, "incidents")
    (line,) = [ln for ln in listing.splitlines() if ln.startswith(f"{floor.id}  ")]
    assert "  high  open  " in line and floor.incident.title in line  # nothing can publish
    shown = ddrc(settings.home, "incidents", "show", floor.id)
    assert f"run:           {floor.incident.run_url}" in shown
    assert "runbook:\n  1. " in shown and "delivery:      " in shown
    assert "public impact: The site still shows the last published file, but no new" in shown
    assert (
        f"Airtable entry {record} ({DRC}): published 77,217.00 → new 5.00, changed by Sam Typo"
        in shown
    )
    assert f"https://airtable.com/{AIRTABLE_BASE}/Metrics/{record}" in shown
