"""`./ddrc rollback` refusing a version says why in one line, and changes nothing; a
rollback and a release from the UI's Launchpad leave what the CLI's leave.

Run with the words a responder's shell passes (`ddrc_cli`, on its own DDRC_HOME, two public
versions published by the local target): a path-like or an unknown version is refused with a
non-zero exit, one line on stderr naming the reason, nothing on stdout, the live file and
the pin untouched; Dagster's log goes to the file the line names.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core.names import ROLLBACK_JOB
from ddrc_platform.definitions import build_definitions
from ddrc_platform.incidents import FailureKind, SqliteIncidentStore
from ddrc_platform.publish.document import Metric, content_hash, render
from ddrc_platform.publish.rollback import listing
from ddrc_platform.publish.targets.local import LocalPublisher
from ddrc_platform.settings import load_settings
from stand_ins.slack import SlackServer

pytestmark = pytest.mark.slow  # each case builds the definitions and runs a job

NOW = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)


def document(value: int) -> bytes:
    return render([Metric("people_helped_drc", Decimal(value), "count", "people", "daily", NOW)])


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("../../etc/passwd", "'../../etc/passwd' is a path, not a version name"),
        ("/etc/passwd", "'/etc/passwd' is a path, not a version name"),
        ("20990101T000000Z-000000000000.json", "no version '20990101T000000Z-000000000000.json'"),
    ],
)
def test_a_refused_rollback_says_why_in_one_line(
    tmp_path: Path, version: str, reason: str, ddrc_cli
):
    home = tmp_path / "ddrc"
    publisher = LocalPublisher(directory=str(home / "publish"))
    publisher.publish(document(61000), NOW)
    publisher.publish(document(61100), NOW + dt.timedelta(hours=1))
    done = ddrc_cli({"DDRC_HOME": str(home)}, "rollback", "--to", version)
    assert done.returncode != 0
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"rollback refused: {reason}; see `./ddrc versions` (full log: ")
    assert "dagster" not in line.lower() and "Traceback" not in done.stderr
    log = Path(line.rsplit("(full log: ", 1)[1].removesuffix(")"))
    assert "RollbackError" in log.read_text()  # the whole story is kept, off the screen
    assert publisher.current() == document(61100) and publisher.pin() is None


def two_versions(home: Path) -> LocalPublisher:
    publisher = LocalPublisher(directory=str(home / "publish"))
    publisher.publish(document(61000), NOW)
    publisher.publish(document(61100), NOW + dt.timedelta(hours=1))
    return publisher


def launchpad(home: Path, env: dict[str, str], **config: object) -> dg.ExecuteInProcessResult:
    """The job as the UI's Launchpad launches it: the deployment's definitions, the run
    config the Launchpad's form produces (both fields, defaults included)."""
    settings = load_settings(env | {"DDRC_HOME": str(home)})
    job = build_definitions(settings).resolve_job_def(ROLLBACK_JOB)
    run_config = {"ops": {"rollback_publication": {"config": {"to": None, "release": False}}}}
    run_config["ops"]["rollback_publication"]["config"] |= config
    with dg.DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(run_config=run_config, instance=instance)


def outcome(home: Path, slack: SlackServer) -> dict[str, object]:
    """What a rollback or release leaves behind, with the run ids and clock times taken out."""
    publisher = LocalPublisher(directory=str(home / "publish"))
    store = SqliteIncidentStore(home / "incidents.sqlite")
    rows = store.list_incidents()
    plain = re.compile(r"run [0-9a-f-]{36}|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC|/runs/[0-9a-f-]{36}")
    pin = publisher.pin()
    return {
        "live": publisher.current(),
        "pin": pin and (pin.version, pin.content_hash),
        "versions": [v.split("-", 1)[1] for v in publisher.versions()],
        "listing": [plain.sub("…", line.split("Z-", 1)[-1]) for line in listing_of(publisher)],
        "incidents": [(r.incident.kind, r.incident.title, r.resolved_at is None) for r in rows],
        "notes": [plain.sub("…", text) for r in rows for _, text in store.notes(r.key)],
        "slack": [
            [plain.sub("…", reply.text) for reply in slack.replies(parent.ts)]
            for parent in slack.parents()
        ],
    }


def listing_of(publisher: LocalPublisher) -> list[str]:
    live = publisher.current()
    return listing(publisher.versions(), live and content_hash(live), publisher.pin())


def test_the_launchpad_rollback_and_release_do_what_the_cli_does(tmp_path: Path, ddrc_cli):
    with SlackServer() as slack_cli, SlackServer() as slack_ui:
        envs = [
            {
                "SLACK_BOT_TOKEN": slack.token,
                "DDRC_SLACK_CHANNEL": "#ddrc-test",
                "DDRC_SLACK_API_URL": slack.api_url,
            }
            for slack in (slack_cli, slack_ui)
        ]
        by_cli, by_ui = tmp_path / "cli", tmp_path / "ui"
        two_versions(by_cli), two_versions(by_ui)

        rolled = ddrc_cli({**envs[0], "DDRC_HOME": str(by_cli)}, "rollback")
        assert rolled.returncode == 0, rolled.stderr
        assert rolled.stdout.startswith("rolled back: pinned by rollback at ")
        assert launchpad(by_ui, envs[1]).success
        after_rollback = outcome(by_cli, slack_cli)
        assert after_rollback == outcome(by_ui, slack_ui)
        assert after_rollback["live"] == document(61000)
        assert [line for line in after_rollback["listing"] if "live" in line] == [
            f"{content_hash(document(61000))[:12]}.json  live, held by the pin"
        ]
        # the hold is an incident, told in Slack at once (not at the sensor's next tick)
        assert [kind for kind, _, _ in after_rollback["incidents"]] == [
            FailureKind.PUBLICATION_PINNED
        ]
        assert after_rollback["slack"] == [[f"📝 {after_rollback['notes'][0]}"]]

        released = ddrc_cli({**envs[0], "DDRC_HOME": str(by_cli)}, "rollback", "--release")
        assert released.returncode == 0, released.stderr
        assert released.stdout.startswith("released")
        assert launchpad(by_ui, envs[1], release=True).success
        after_release = outcome(by_cli, slack_cli)
        assert after_release == outcome(by_ui, slack_ui)
        assert after_release["pin"] is None
        # the release reaches the held incident's thread, which Slack already had whole
        (thread,) = after_release["slack"]
        assert thread[-1].startswith("📝 Pin released (pinned by rollback at …")
        for done in (rolled, released):
            assert "DEBUG" not in done.stdout + done.stderr
