"""Every command a responder is told to run works as written.

The commands come from three places: the runbooks (every kind, rendered for a source, a
Fivetran-shaped table, Airtable, a dbt model and the public file), the README's
"Operating it", and the text incidents carry (their steps and notes). The fast tests
check that each is a `./ddrc` verb the script routes and the CLI parses; the slow one runs
every one of them, in turn, on a home that `./ddrc run` (one of them, through the script
as a newcomer types it) builds from sample data first, today, and checks what it did.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from ddrc_platform.cli import UnknownSource, parser, selection_of, source_key
from ddrc_platform.core import catalog, commands
from ddrc_platform.core.names import PUBLISH_KEY, SUMMARY_KEY
from ddrc_platform.defs.publish.public_file import PUBLISH_DESCRIPTION
from ddrc_platform.incidents import FailureKind, SqliteIncidentStore
from ddrc_platform.incidents.runbooks import RUNBOOKS, runbook
from ddrc_platform.publish import document as publication
from ddrc_platform.publish.rollback import RELEASE_HINT, unknown_version
from ddrc_platform.publish.targets.local import LocalPublisher
from tests.support import BUILT_SCALE, Done

ROOT = Path(__file__).resolve().parent.parent
COMMAND = re.compile(r"`(\./ddrc [^`]+)`")
# a backticked span that reads like a shell command a responder would type
SHELL_LIKE = re.compile(r"`((?:uv run|dagster|dg|dbt|cd|python)\b[^`]*)`")
EPA = catalog.EPA.asset_key.to_user_string()
AIRTABLE = catalog.AIRTABLE_METRICS.asset_key.to_user_string()
FEEDBACK = catalog.PAGE_FEEDBACK.asset_key.to_user_string()
MODEL = "intermediate/int_malibu__metrics_by_load_date"
PUBLISH = PUBLISH_KEY.to_user_string()
SUMMARY = SUMMARY_KEY.to_user_string()
ASSETS = ([EPA], [AIRTABLE], [FEEDBACK], [MODEL], [SUMMARY], [PUBLISH])
SERVERS = {"./ddrc ui"}  # starts a server, run by tests/test_daemon.py
MANUAL = ["people_helped_drc"]


def runbook_texts() -> list[str]:
    """Every kind's steps for every kind of asset it can concern, locally and with Fivetran
    (a dbt model's failure concerns dbt models only)."""
    texts = []
    for kind in RUNBOOKS:
        concerned = [[MODEL], [SUMMARY]] if kind is FailureKind.DBT_MODEL_FAILED else ASSETS
        for keys in concerned:
            for fivetran in (False, True):
                texts += runbook(kind, keys, check_name="a_check", fivetran=fivetran)
                texts += runbook(
                    kind, keys, affected_metrics=MANUAL, manual_metrics=MANUAL, fivetran=fivetran
                )
    return texts


def readme_operating() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Operating it", 1)[1].split("\n## ", 1)[0]


def incident_texts() -> list[str]:
    """What incidents and refusals say besides their runbooks."""
    return [
        RELEASE_HINT,
        str(unknown_version("nope")),
        str(unknown_version("../x")),
        PUBLISH_DESCRIPTION,  # the public file's page in the UI
    ]


def found_commands(texts: list[str]) -> list[str]:
    return sorted({m for text in texts for m in COMMAND.findall(text)} - SERVERS)


def test_runbooks_and_incidents_name_only_ddrc_commands():
    texts = [*runbook_texts(), *incident_texts()]
    assert not [m for text in texts for m in SHELL_LIKE.findall(text)]
    named = found_commands(texts)
    assert commands.reload(EPA) in named and commands.run([MODEL], downstream=True) in named
    assert commands.run([MODEL]) not in named  # a rerun always takes what lies below
    assert commands.dbt_build(MODEL.rsplit("/", 1)[1]) in named


def test_every_named_command_parses_and_the_script_routes_its_verb():
    script = (ROOT / "ddrc").read_text()
    routed = {
        verb for case in re.findall(r"^  ([a-z|]+)\)$", script, re.M) for verb in case.split("|")
    }
    texts = [*runbook_texts(), *incident_texts(), readme_operating()]
    for command in found_commands(texts):
        words = shlex.split(placeholders(command, "20250602T193000Z-000000000000.json", "X"))
        assert words[1] in routed, command
        parser().parse_args(words[1:])  # exits (a failure here) on an unknown flag


def test_a_source_is_named_by_its_catalog_path_or_its_key():
    assert source_key("epa/public_status_assessment") == catalog.EPA.asset_key
    assert source_key(EPA) == catalog.EPA.asset_key
    for table in catalog.RAW_TABLES:  # what the runbooks name for each source resolves
        command = commands.reload(table.asset_key.to_user_string())
        assert source_key(command.split()[-1]) == table.asset_key
    with pytest.raises(UnknownSource) as refused:
        source_key("epa")
    message = str(refused.value)
    assert message.startswith("unknown source 'epa'; one of: airtable/metrics, ")
    assert "usace/parcel_debris_removal" in message and "\n" not in message


def test_a_selection_takes_keys_and_what_lies_below_them():
    from ddrc_platform.definitions import build_definitions
    from ddrc_platform.settings import load_settings

    graph = build_definitions(load_settings({"DDRC_HOME": "/nonexistent"})).resolve_asset_graph()
    only = selection_of(PUBLISH).resolve(graph)
    assert {k.to_user_string() for k in only} == {PUBLISH}
    below = {k.to_user_string() for k in selection_of(f"{MODEL}+").resolve(graph)}
    assert {MODEL, "summary/ddrc_metrics_summary", PUBLISH} <= below
    assert EPA not in below
    with pytest.raises(ValueError, match="names no asset"):
        selection_of(" , ")


def placeholders(command: str, version: str, incident_id: str) -> str:
    """The README's placeholders filled in: an optional part taken, names made real."""
    command = command.replace("[", "").replace("]", "")
    for word, value in {
        "SOURCE": commands.source_name(EPA),
        "VERSION": version,
        "ID": incident_id,
        "'KEY+'": f"'{MODEL}+'",
    }.items():
        command = re.sub(rf"(?<![\w/]){re.escape(word)}(?![\w/])", value, command)
    return command


def first_run(capfd: pytest.CaptureFixture[str]) -> Done:
    """`./ddrc run` through the script itself, as a newcomer types it on a fresh home."""
    capfd.readouterr()
    done = subprocess.run(
        [str(ROOT / "ddrc"), "run"], capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    return Done(done.returncode, done.stdout, done.stderr)


def check_newcomer_view(done: Done, home: Path) -> None:
    """A successful first run says what happened in a few lines, keeps the full log in a
    file, and shows nothing a newcomer cannot act on (no warnings, no debug, no dbt)."""
    lines = done.stdout.splitlines()
    assert len(lines) < 40, done.stdout
    assert any("dbt:" in line and "models built" in line for line in lines), done.stdout
    assert any(f"{PUBLISH} " in line and "published" in line for line in lines), done.stdout
    assert "./ddrc ui" in done.stdout and "streamlit run dashboards/app.py" in done.stdout
    log = Path(next(line.split()[-1] for line in lines if "full log" in line))
    assert log.is_file() and "STEP_SUCCESS" in log.read_text()
    assert log.is_relative_to(home)
    assert "Running with dbt" not in done.stdout  # dbt's own progress went to the log
    noise = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if re.search(r"warning|DEBUG", line, re.IGNORECASE)
    ]
    assert noise == [], noise


# a responder's session after the first run: reload and rerun, roll back, look, release last
ORDER = (commands.RELOAD, commands.DBT, commands.RUN, commands.ROLLBACK, commands.VERSIONS)


def step_order(command: str) -> tuple[int, str]:
    verb = command.split()[1]
    if command == commands.run():  # the home's data: today's, so no jump holds a rerun
        return -1, command
    if commands.RELEASE in command:
        return len(ORDER) + 1, command
    return (ORDER.index(verb) if verb in ORDER else len(ORDER)), command


def document(value: int) -> bytes:
    at = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)
    metric = publication.Metric("people_helped_drc", Decimal(value), "count", "people", "daily", at)
    return publication.render([metric])


def check_effect(command: str, out: str, home: Path) -> None:
    """What the command must have done, beyond exiting 0."""
    publisher = LocalPublisher(directory=str(home / "publish"))
    verb = command.split()[1]
    lines = out.splitlines()
    if verb == commands.RELOAD:
        raw = commands.RAW_PREFIX + command.split()[-1]
        assert any(line.split()[:2] == ["ok", raw] for line in lines), out
    if verb in (commands.RELOAD, commands.RUN):
        assert "done in" in out, out
    if verb == commands.RUN and (PUBLISH in command or command == commands.run()):
        assert any(line.split()[:2] == ["ok", PUBLISH] for line in lines), out
    if verb == commands.DBT:
        assert "Completed successfully" in out, out
    if verb == commands.ROLLBACK and commands.RELEASE not in command:
        assert out.startswith("rolled back: pinned by rollback") and publisher.pin() is not None
    if commands.RELEASE in command:
        assert out.startswith("released") and publisher.pin() is None
    if verb == commands.VERSIONS:
        assert sum("  live" in line for line in lines[:-1]) == 1, out
        assert "held by the pin" in out and lines[-1].startswith("pinned by rollback")


@pytest.mark.slow
def test_every_command_runs_as_written_on_the_sample_home(tmp_path, monkeypatch, capfd, ddrc_cli):
    """Reload, rerun, dbt by hand, roll back, list, show, release: each exits 0 and does
    what it says, in the order a responder would take them."""
    named = found_commands([*runbook_texts(), *incident_texts(), readme_operating()])
    assert commands.run() in named
    home = tmp_path / "ddrc"
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("DDRC_HOME", str(home))
    monkeypatch.setenv("DDRC_SAMPLE_SCALE", BUILT_SCALE)
    publisher = LocalPublisher(directory=str(home / "publish"))
    store = SqliteIncidentStore(home / "incidents.sqlite")
    held, ran = None, set()
    for command in sorted(named, key=step_order):
        if command.split()[1] == commands.ROLLBACK and len(publisher.versions()) < 2:
            publisher.publish(document(61100), dt.datetime.now(dt.UTC))  # one to go back from
        incident = held.id if held else "none"
        written = placeholders(command, (publisher.versions() or ["none"])[0], incident)
        if written in ran:  # the README's `./ddrc reload SOURCE`, once filled in
            continue
        ran.add(written)
        if written == commands.run():
            done = first_run(capfd)
        else:
            done = ddrc_cli({}, *shlex.split(written)[1:])
        assert done.returncode == 0, (written, done.stdout, done.stderr)
        if written == commands.run():
            check_newcomer_view(done, home)
        assert "DEBUG" not in done.stdout + done.stderr, written
        check_effect(written, done.stdout, home)
        if held is None and publisher.pin() is not None:
            (held,) = [
                row
                for row in store.list_incidents(open_only=True)
                if row.incident.kind is FailureKind.PUBLICATION_PINNED
            ]
            # what the incident tells a responder is among the commands run here
            told = [*held.incident.runbook, *(text for _, text in store.notes(held.key))]
            assert set(found_commands(told)) <= set(named), found_commands(told)
        if written.startswith(commands.incidents()):
            assert held is not None and held.id in done.stdout
    assert held is not None
    assert any("Pin released" in text for _, text in store.notes(held.key))


def refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line `./ddrc ARGV` says on stderr as it exits 2."""
    from ddrc_platform.cli import main

    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    return line


def test_an_unknown_source_is_one_line_listing_the_valid_ones(capsys):
    line = refusal(["reload", "epa"], capsys)
    assert line.startswith("./ddrc reload: unknown source 'epa'; one of: airtable/metrics, ")


@pytest.mark.slow  # prepares dbt for a new home before it can resolve the selection
def test_an_unknown_asset_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DDRC_HOME", str(tmp_path / "ddrc"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    line = refusal(["run", "--select", "raw/nope+"], capsys)
    assert line == "./ddrc run: AssetKey(s) ['raw/nope'] are no assets"
