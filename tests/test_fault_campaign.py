"""The fault campaign of issue 10, replayed against the local stand-ins, one test per fault.

Every test starts from the same good state (a copy of the session's built home: a
published file and kept snapshots, built at NOW from the sample data the stand-ins
serve), injects one fault, runs what the fault reaches (the source at fault and all
below it, as the automation would after its change; every loader when the fault is
everyone's), ticks the incident sensor, and asserts what the campaign found missing: the
public file unchanged byte for byte, no kept snapshot lost, the run failed with a message
naming the source and the cause, the incident's kind, severity and text, and no secret
anywhere (event log, metadata, printed output, incident store, Slack). Fault 3 (publish
history) belongs to the publish targets and is tested with them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import RawTable
from ddrc_platform.core.names import PIPELINE_JOB, PUBLISH_KEY, pacific_date
from ddrc_platform.definitions import build_definitions
from ddrc_platform.defs.incidents.instance import hung_runs
from ddrc_platform.incidents import FailureKind, Severity, open_incident_store
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.delivery import DeliveryRefusedError, decide_delivery
from ddrc_platform.ingest.sources.arcgis import LayerData
from ddrc_platform.publish.document import FILE_NAME, Metric, render
from ddrc_platform.publish.plan import carry_out, newest_version, plan_publication
from ddrc_platform.publish.rollback import previous_public_version
from ddrc_platform.publish.targets.azure_blob import AzureBlobPublisher
from ddrc_platform.publish.targets.local import LocalPublisher
from ddrc_platform.settings import Settings, load_settings
from ddrc_platform.transform.warm import running
from ddrc_platform.warehouse.base import LOADS_SCHEMA, LOADS_TABLE
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse
from stand_ins.base import Fault
from stand_ins.slack import SlackServer
from stand_ins.sources import AIRTABLE_TOKEN, LAYER_PATHS, LiveSources, serve_sample_sources
from tests.process import wait_until
from tests.support import BUILT_AT, BUILT_SCALE, FAST_HTTP, run_pipeline, tick

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.postgres", "tests.azurite"]

NOW = BUILT_AT  # when the good state was built (`built_home`)
DAY = pacific_date(NOW)
LATER = NOW + dt.timedelta(hours=1)  # the same Pacific day: the fault hits today's snapshot
SCALE = float(BUILT_SCALE)
SLACK_TOKEN = "xoxb-fault-campaign-0123456789"
URL_PASSWORD = "url-password-0123456789"
LAYER_TOKEN = "layer-token-0123456789"
SECRETS = (SLACK_TOKEN, AIRTABLE_TOKEN, URL_PASSWORD, LAYER_TOKEN)


def settings_for(home: Path, env: dict[str, str]) -> Settings:
    """The deployment a schedule would run, with fast retries (the trickle test sets its own
    short deadline: a 1 s deadline for every request timed sources out on a loaded machine)."""
    return dataclasses.replace(load_settings({"DDRC_HOME": str(home), **env}), http=FAST_HTTP)


def run(
    settings: Settings,
    instance: dg.DagsterInstance,
    *,
    changed: list[RawTable] | None = None,
    loaders: list[RawTable] | None = None,
):
    """At LATER: `changed`, those sources and all below them; `loaders`, those loaders
    alone (a test of the load itself); neither, the whole graph."""
    return run_pipeline(
        settings,
        instance,
        LATER,
        selection=[t.asset_key for t in loaders] if loaders else None,
        changed=[t.asset_key for t in changed] if changed else None,
    )


@dataclass
class Campaign:
    live: LiveSources
    slack: SlackServer
    env: dict[str, str]
    good_home: Path


@pytest.fixture(scope="module")
def campaign(built_home):
    """The stand-ins serving the data the good state was built from, and that state."""
    with (
        serve_sample_sources(day=DAY, scale=SCALE) as live,
        SlackServer(token=SLACK_TOKEN) as slack,
    ):
        env = {
            **live.env,
            "DDRC_SAMPLE_SCALE": str(SCALE),
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "DDRC_SLACK_CHANNEL": "#ddrc-test",
            "DDRC_SLACK_API_URL": slack.api_url,
            "DDRC_WEBSERVER_URL": "http://dagster.example",
        }
        yield Campaign(live, slack, env, built_home)


@dataclass
class World:
    """A copy of the good state, and what must survive any fault."""

    settings: Settings
    live: LiveSources
    slack: SlackServer
    instance: dg.DagsterInstance
    public_file: bytes
    snapshots: list[dict]

    def restore_sources(self) -> None:
        self.live.arcgis.heal()
        self.live.malibu.heal()
        self.live.airtable.heal()
        for table in catalog.ARCGIS_TABLES:
            layer = catalog.sample_data(table, scale=SCALE, day=DAY)
            self.live.arcgis.set_layer(LAYER_PATHS[table.name], layer)
        self.live.malibu.set_endpoints(sample.malibu_endpoints(scale=SCALE, day=DAY))
        self.live.airtable.set_records(sample.airtable_records(scale=SCALE, day=DAY))


def kept_snapshots(settings: Settings) -> list[dict]:
    """Every kept load (loads log) and the rows of every raw table."""
    warehouse = DuckDBWarehouse(path=str(settings.warehouse_path))
    loads = warehouse.query(
        f'select * from "{LOADS_SCHEMA}"."{LOADS_TABLE}" order by table_path, load_date'
    ).to_pylist()
    counts = [
        {t.path: warehouse.query(f'select count(*) as n from "{t.schema}"."{t.table}"')["n"][0]}
        for t in catalog.RAW_TABLES
    ]
    return loads + counts


def make_world(campaign: Campaign, home: Path, **env: str) -> World:
    shutil.copytree(campaign.good_home, home, ignore=shutil.ignore_patterns("done", "*.lock"))
    settings = settings_for(home, {**campaign.env, **env})
    return World(
        settings,
        campaign.live,
        campaign.slack,
        dg.DagsterInstance.ephemeral(),
        (settings.publish_dir / FILE_NAME).read_bytes(),
        kept_snapshots(settings),
    )


@pytest.fixture
def world(campaign, tmp_path):
    made = make_world(campaign, tmp_path / "ddrc")
    yield made
    made.restore_sources()


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        e.step_failure_data.error.to_string() for e in result.all_events if e.is_step_failure
    )


def assert_contained(
    world: World,
    result: dg.ExecuteInProcessResult,
    defs: dg.Definitions,
    capsys: pytest.CaptureFixture[str],
    *,
    kind: FailureKind,
    table: RawTable | None,
    says: tuple[str, ...],
):
    """The campaign's questions, for one fault; returns the incident for more checks.

    `table`: the source at fault, named in the run's error and the incident; None when
    every loader failed for the same reason (one incident for all of them).
    """
    assert not result.success
    assert (world.settings.publish_dir / FILE_NAME).read_bytes() == world.public_file
    assert kept_snapshots(world.settings) == world.snapshots
    named = (table.title,) if table else ()
    message = failure_text(result)
    for part in (*named, *says):
        assert part in message, part
    tick(defs, world.instance, None)
    store = open_incident_store(world.settings.incident_store_location)
    (row,) = [r for r in store.list_incidents(open_only=True) if r.incident.kind is kind]
    incident = row.incident
    assert incident.severity is Severity.LOW  # the site still shows the last good data
    tables = (table,) if table else catalog.RAW_TABLES
    assert incident.asset_keys == tuple(sorted(t.asset_key.to_user_string() for t in tables))
    assert all(part in incident.title for part in named)
    first_paragraph = incident.error_excerpt.split("\n\n")[0]
    for part in (*named, *says):  # the real error, first
        assert part in first_paragraph, part
    everything = [
        *(repr(entry) for entry in world.instance.all_logs(result.run_id)),  # + metadata
        *(json.dumps(r.incident.to_json()) for r in store.list_incidents()),
        *(str(call) for call in world.slack.calls),
        *capsys.readouterr(),
    ]
    for secret in SECRETS:
        assert not [text for text in everything if secret in text], secret
    return incident


# -- 1. empty deliveries ----------------------------------------------------------------


@pytest.mark.parametrize("source", ["epa", "malibu", "airtable"])
def test_1_an_empty_delivery_is_refused_and_the_kept_snapshot_stays(world, source, capsys):
    if source == "epa":
        table = catalog.EPA
        layer = catalog.sample_data(table, scale=SCALE, day=DAY)
        empty = LayerData(layer.metadata, layer.table.slice(0, 0))
        world.live.arcgis.set_layer(LAYER_PATHS["epa"], empty)
    elif source == "malibu":
        table = catalog.MALIBU_FIRE_REBUILD_POINTS
        endpoints = sample.malibu_endpoints(scale=SCALE, day=DAY)
        world.live.malibu.set_endpoints({**endpoints, "FireRebuildPoints": []})
    else:
        table = catalog.AIRTABLE_METRICS
        world.live.airtable.set_records([])
    defs, result = run(world.settings, world.instance, changed=[table])
    incident = assert_contained(
        world,
        result,
        defs,
        capsys,
        kind=FailureKind.DELIVERY_REFUSED,
        table=table,
        says=("delivered no rows", "refused, the kept data stays"),
    )
    assert "acknowledgements.yaml" in " ".join(incident.runbook)


def test_1_shrinking_deliveries_are_refused_beyond_the_source_limit_unless_acknowledged():
    """ArcGIS layers only grow: losing more than a fifth is refused; an acknowledged count is
    accepted, and only that count."""
    table = catalog.EPA
    decide_delivery(table, 801, 1000, {})  # within max_shrink (0.2)
    with pytest.raises(DeliveryRefusedError, match="799 rows, 20% fewer than the 1000 kept"):
        decide_delivery(table, 799, 1000, {})
    decide_delivery(table, 799, 1000, {"epa": {799}})
    decide_delivery(table, 0, 1000, {"epa": {0}})
    with pytest.raises(DeliveryRefusedError, match="no rows"):
        decide_delivery(table, 0, None, {"epa": {799}})


# -- 2. a trickling server, a dropped connection, a hung run ----------------------------


def test_2_a_trickling_source_ends_at_its_deadline_and_names_source_and_url(world, capsys):
    world.live.arcgis.fail_always(LAYER_PATHS["usace"], Fault.trickle(0.05))
    world = dataclasses.replace(
        world,
        settings=dataclasses.replace(
            world.settings, http=dataclasses.replace(FAST_HTTP, deadline=1.0)
        ),
    )
    defs, result = run(world.settings, world.instance, changed=[catalog.USACE])
    assert_contained(
        world,
        result,
        defs,
        capsys,
        kind=FailureKind.SOURCE_LOAD_FAILED,
        table=catalog.USACE,
        says=("no complete answer within 1 s", world.live.arcgis.url + LAYER_PATHS["usace"]),
    )


def test_2_a_connection_dropped_mid_body_is_retried_and_the_run_succeeds(world):
    path = "/Home/FireRebuildPoints"
    before = len(world.live.malibu.requests_to(path))
    world.live.malibu.fail_next(path, Fault.dropped(after_bytes=30))
    _, result = run(world.settings, world.instance, loaders=[catalog.MALIBU_FIRE_REBUILD_POINTS])
    assert result.success, failure_text(result)
    assert len(world.live.malibu.requests_to(path)) - before == 2  # dropped, then answered


def test_2_a_run_past_its_maximum_runtime_is_a_hung_run_incident(world):
    """The sensor notices a run still going; one stopped by run monitoring is hung too."""
    from ddrc_platform.defs.incidents.runs import classify_run
    from ddrc_platform.incidents.classify import GraphFacts

    defs = build_definitions(world.settings)
    job = defs.resolve_job_def(PIPELINE_JOB)
    running = world.instance.create_run_for_job(job_def=job)
    world.instance.handle_run_event(
        running.run_id,
        dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value, job_name=job.name),
    )
    started = dt.datetime.now(dt.UTC)
    assert hung_runs(world.instance, started, world.settings.max_run_seconds) == []
    late = started + dt.timedelta(seconds=world.settings.max_run_seconds + 60)
    ((run_id, _, problem),) = hung_runs(world.instance, late, world.settings.max_run_seconds)
    assert run_id == running.run_id and "past its maximum runtime of 50 min" in problem

    world.instance.report_run_failed(running, "Exceeded maximum runtime of 3000 seconds.")
    findings = classify_run(
        dg.DagsterRunStatus.FAILURE,
        world.instance.all_logs(running.run_id),
        GraphFacts({}, frozenset(), "ddrc_dbt", frozenset()),
        None,
    )
    assert [r.kind for r in findings.reports] == [FailureKind.RUN_HUNG]


def test_2_the_local_instance_stops_runs_past_the_maximum_runtime(tmp_path):
    """`./ddrc ui` and `./ddrc run` use this instance: Dagster itself must accept the setting."""
    from ddrc_platform.instance import instance_config

    settings = load_settings({"DDRC_HOME": str(tmp_path), "DDRC_MAX_RUN_SECONDS": "1200"})
    path = instance_config(settings)
    instance = dg.DagsterInstance.local_temp(tempdir=str(path.parent))
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_max_runtime_seconds == 1200
    # runs start side by side; one that publishes at a time (the warehouse has its lock)
    queue = instance.run_coordinator.get_run_queue_config()
    assert queue.max_concurrent_runs == 3
    assert queue.tag_concurrency_limits == [{"key": "ddrc/publishes", "value": "true", "limit": 1}]
    # a requested run is read off the queue within a second, not Dagster's default five
    assert instance.run_coordinator.dequeue_interval_seconds == 1


# -- 4. credentials in source URLs ------------------------------------------------------


def test_4_credentials_in_source_urls_never_leak_and_the_store_is_postgres(
    campaign, tmp_path, postgres_url, capsys
):
    """USACE loads through a URL with a password and a token; EPA fails through one. The
    incidents go to PostgreSQL, as in dev/prd."""

    def with_credentials(name: str) -> str:
        url = campaign.env[f"DDRC_{name.upper()}_URL"]
        return url.replace("://", f"://reader:{URL_PASSWORD}@") + f"?token={LAYER_TOKEN}"

    world = make_world(
        campaign,
        tmp_path / "ddrc",
        DDRC_EPA_URL=with_credentials("epa"),
        DDRC_USACE_URL=with_credentials("usace"),
        DDRC_INCIDENT_DATABASE_URL=postgres_url,
    )
    try:
        # USACE's snapshot of today as this source delivers it (the good state was loaded in
        # sample mode, whose USACE table hashes differently): a reload keeps it as it is
        _, loaded = run(world.settings, world.instance, loaders=[catalog.USACE])
        assert loaded.success, failure_text(loaded)
        world = dataclasses.replace(world, snapshots=kept_snapshots(world.settings))
        world.live.arcgis.fail_always(LAYER_PATHS["epa"], Fault.status(503, "Service Unavailable"))
        earlier = len(world.live.arcgis.requests_to(LAYER_PATHS["usace"]))
        # the two loaders reading through credentials, alone: the fault is in the load
        defs, result = run(world.settings, world.instance, loaders=[catalog.EPA, catalog.USACE])
        incident = assert_contained(
            world,
            result,
            defs,
            capsys,
            kind=FailureKind.SOURCE_LOAD_FAILED,
            table=catalog.EPA,
            says=("HTTP 503", "[REDACTED]@127.0.0.1", "token=[REDACTED]"),
        )
        # the runbook links the configured layer (the stand-in), credentials redacted
        assert any(
            f"[REDACTED]@127.0.0.1:{world.live.arcgis.port}" in step for step in incident.runbook
        )
        (usace,) = [
            e.step_materialization_data.materialization
            for e in result.get_asset_materialization_events()
            if e.asset_key == catalog.USACE.asset_key
        ]
        assert "[REDACTED]@" in usace.metadata["read_from"].value
        requests = world.live.arcgis.requests_to(LAYER_PATHS["usace"])[earlier:]
        assert requests and all(r.query.get("token") == LAYER_TOKEN for r in requests)
    finally:
        world.restore_sources()


# -- 5. incidents carry the real error ---------------------------------------------------


def test_5_drift_names_the_columns_and_a_layers_own_id_field_is_not_drift(world, capsys):
    """The live Pasadena layer keys its features by an undocumented `OBJECTID`: never drift."""
    layer = catalog.sample_data(catalog.PASADENA, scale=SCALE, day=DAY)
    n = layer.table.num_rows
    drifted = (
        layer.table.drop_columns(["PERMIT_STATUS"])
        .append_column("INSPECTOR", layer.table.column("CITY"))
        .append_column("OBJECTID", pa.array(range(1, n + 1), pa.int64()))
    )
    fields = [f for f in layer.metadata["fields"] if f["name"] != "PERMIT_STATUS"]
    metadata = {
        **layer.metadata,
        "objectIdField": "OBJECTID",
        "fields": [
            *fields,
            {"name": "INSPECTOR", "type": "esriFieldTypeString"},
            {"name": "OBJECTID", "type": "esriFieldTypeOID"},
        ],
    }
    assert "OBJECTID" not in catalog.PASADENA.columns
    world.live.arcgis.set_layer(LAYER_PATHS["pasadena"], LayerData(metadata, drifted))
    defs, result = run(world.settings, world.instance, changed=[catalog.PASADENA])
    incident = assert_contained(
        world,
        result,
        defs,
        capsys,
        kind=FailureKind.SCHEMA_DRIFT,
        table=catalog.PASADENA,
        says=("missing documented columns: PERMIT_STATUS", "new undocumented columns: INSPECTOR"),
    )
    assert "OBJECTID" not in incident.error_excerpt
    assert any(world.live.arcgis.url in step for step in incident.runbook)  # configured URL


# -- 6. bad values ----------------------------------------------------------------------


def test_6_a_bad_airtable_value_fails_naming_record_and_field(world, capsys):
    records = sample.airtable_records(scale=SCALE, day=DAY)
    bad = next(r for r in records if "Metric" in r["fields"])
    bad["fields"]["Metric"] = "12,345"
    world.live.airtable.set_records(records)
    defs, result = run(world.settings, world.instance, changed=[catalog.AIRTABLE_METRICS])
    assert_contained(
        world,
        result,
        defs,
        capsys,
        kind=FailureKind.BAD_SOURCE_DATA,
        table=catalog.AIRTABLE_METRICS,
        says=(f"record {bad['id']}, field METRIC", "thousands separators are not accepted"),
    )


# -- 7. two runs at once ----------------------------------------------------------------


def test_7_a_second_run_is_told_another_run_is_using_the_warehouse(campaign, tmp_path, capsys):
    world = make_world(campaign, tmp_path / "ddrc", DDRC_WAREHOUSE_LOCK_WAIT="0.5")
    other_run = DuckDBWarehouse(path=str(world.settings.warehouse_path))
    with other_run.exclusive():  # every loader is told: the whole graph runs
        defs, result = run(world.settings, world.instance)
    assert_contained(
        world,
        result,
        defs,
        capsys,
        kind=FailureKind.WAREHOUSE_BUSY,
        table=None,
        says=("another run is using the warehouse",),
    )


# -- second campaign (issue 17), 6. crash repair ----------------------------------------

# A publish in a process of its own, SIGKILLed (by itself, at the exact point) after the live
# file is written and before its history copy: the real kill of a real publish.
KILLED_PUBLISH = """
import os, signal, sys
from datetime import UTC, datetime
from ddrc_platform.publish.targets import azure_blob, local

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

kind, where, content = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read()
if kind == "local":
    real = local._atomic_write
    local._atomic_write = lambda path, data: (
        killed() if path.parent.name == "history" else real(path, data)
    )
    publisher = local.LocalPublisher(directory=where)
else:
    azure_blob.AzureBlobPublisher._upload_history = killed
    container, connection = where.split("|", 1)
    publisher = azure_blob.AzureBlobPublisher(container=container, connection_string=connection)
publisher.current()
publisher.publish(content, datetime.now(UTC))
"""


def publish_killed_between_writes(kind: str, where: str, content: bytes, tmp_path: Path) -> None:
    file = tmp_path / "content.json"
    file.write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_PUBLISH, kind, where, str(file)],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


def other_document(content: bytes) -> bytes:
    """A valid document the summary does not make: its first value one higher."""
    rows = json.loads(content)
    rows[0]["METRIC_VALUE"] += 1
    return json.dumps(rows, indent=2).encode()


def test_17_6a_publish_killed_between_live_and_history_is_repaired_by_the_next_run(world, tmp_path):
    """The public saw P, then a publish of the summary's L was SIGKILLed after the live
    write: live L, no history copy. The next run finds L unchanged and still repairs the
    history, so P and L stay rollback targets."""
    publisher = LocalPublisher(directory=str(world.settings.publish_dir))
    older = other_document(world.public_file)
    publisher.publish(older, LATER - dt.timedelta(minutes=30))
    publish_killed_between_writes("local", publisher.directory, world.public_file, tmp_path)
    assert publisher.current() == world.public_file  # the live file is whole
    assert publisher.version(publisher.versions()[-1]) == older  # its copy is missing

    _, result = run_pipeline(world.settings, world.instance, LATER, selection=[PUBLISH_KEY])
    assert result.success, failure_text(result)
    (event,) = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["status"].value == "unchanged"
    repaired = metadata["repaired_history"].value
    assert publisher.versions()[-1] == repaired
    assert publisher.version(repaired) == world.public_file
    assert previous_public_version(publisher) == publisher.versions()[-2]
    assert publisher.version(previous_public_version(publisher)) == older


def publication_metric(name: str, value: str) -> Metric:
    return Metric(name, Decimal(value), "count", "people", "daily", NOW)


def test_17_6a_blob_publish_killed_between_live_and_history_is_repaired(
    azurite, azure_container, tmp_path
):
    """The same kill against Azure Blob Storage (Azurite): the live blob written, its history
    copy never uploaded; the next plan repairs it from the live blob."""
    publisher = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    first = render([publication_metric("people_helped_drc", "55000")])
    publisher.publish(first, LATER - dt.timedelta(hours=1))
    metrics = [
        publication_metric("people_helped_drc", "60000"),
        publication_metric("people_helped_fema_funds", "150"),
    ]
    content = render(metrics)
    where = f"{azure_container}|{azurite}"
    publish_killed_between_writes("azure", where, content, tmp_path)
    assert publisher.current() == content and len(publisher.versions()) == 1

    fresh = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    plan = plan_publication(metrics, fresh.current(), newest_version(fresh))
    assert plan.unchanged and plan.repair_history
    outcome = carry_out(plan, fresh, lambda: LATER)
    assert outcome.published is None and outcome.repaired == fresh.versions()[-1]
    assert fresh.version(outcome.repaired) == content
    again = plan_publication(metrics, fresh.current(), newest_version(fresh))
    assert not again.repair_history


# A run's process (the parent) starting a child the way dagster-dbt starts dbt: one Popen
# of `dbt_command()` (here becoming `sleep` instead of dbt, to outlive the parent); it
# prints the child's PID and waits for it.
PARENT_OF_A_CHILD = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
print(child.pid, flush=True)
child.wait()
"""
CHILD = """
import os, sys
from pathlib import Path
from ddrc_platform.transform.children import become
become(Path("/bin/sleep"), ["300"], os.getppid())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_17_6b_a_child_of_a_killed_run_dies_with_it():
    """SIGKILL of the run's process kills the child it started through `children` (the
    kernel's parent-death signal, armed before the exec): nothing runs on alone."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_OF_A_CHILD, CHILD], stdout=subprocess.PIPE, text=True
    )
    try:
        child = int(parent.stdout.readline())
        wait_until(
            lambda: Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"/bin/sleep"),
            30,
            "waiting for the child to become sleep",
        )
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
        wait_until(lambda: not running(child), 30, "waiting for the orphan to die")
    finally:
        parent.kill()
        parent.wait(30)


def test_17_6b_the_dbt_resource_starts_dbt_through_the_guard(tmp_path):
    """The dbt resource *as a run gets it* runs `python -m ddrc_platform.transform.children`
    (Dagster rebuilds a resource from the values it was built with: a copy with other
    values, as this guard once was, reached no run), and that command is dbt."""
    from ddrc_platform.resources import build_resources
    from ddrc_platform.transform.children import HOME_FLAG, MODULE, WARM_FLAG

    settings = load_settings({"DDRC_HOME": str(tmp_path), "DDRC_DBT_WARM": "off"})
    with dg.build_resources({"dbt": build_resources(settings)["dbt"]}) as resources:
        command = [resources.dbt.dbt_executable, *resources.dbt.global_config_flags]
    assert command == [sys.executable, "-m", MODULE, f"{HOME_FLAG}{tmp_path}"]
    warm = load_settings({"DDRC_HOME": str(tmp_path)})  # the default: the user's warm server
    with dg.build_resources({"dbt": build_resources(warm)["dbt"]}) as resources:
        command = [resources.dbt.dbt_executable, *resources.dbt.global_config_flags]
    assert command == [
        sys.executable,
        "-m",
        MODULE,
        f"{HOME_FLAG}{tmp_path}",
        f"{WARM_FLAG}{warm.dbt_warm}",
    ]
    # (started cold by tests/test_warm_dbt.py, where no server can start)
    done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Core:" in done.stdout, done.stderr


# -- second campaign (issue 17), 6c. a run whose process is gone -------------------------

# A run in a process of its own, recorded in a persistent instance the way `./ddrc run`
# records one: its only asset prints the run id, then waits to be killed.
RUN_THAT_WAITS = """
import sys, time
import dagster as dg

@dg.asset(key=dg.AssetKey.from_user_string(sys.argv[2]))
def waits(context):
    print(context.run_id, flush=True)
    time.sleep(300)

defs = dg.Definitions(assets=[waits], jobs=[dg.define_asset_job("waits_job", [waits])])
instance = dg.DagsterInstance.local_temp(tempdir=sys.argv[1])
defs.resolve_job_def("waits_job").execute_in_process(
    instance=instance, asset_selection=[waits.key]
)
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_17_6c_a_run_whose_process_is_gone_is_marked_failed_and_reported(world, tmp_path):
    """SIGKILL of a run's process leaves it STARTED; the incident sensor's next tick marks
    it failed, naming the PID, and reports it once (a later tick adds nothing)."""
    home = tmp_path / "dagster"
    home.mkdir()
    key = catalog.AIRTABLE_METRICS.asset_key
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_THAT_WAITS, str(home), key.to_user_string()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        run_id = process.stdout.readline().strip()
        assert run_id, "the run printed no id"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        process.kill()
        process.wait(30)
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED

    defs = build_definitions(world.settings)
    cursor = tick(defs, instance, None)
    tick(defs, instance, cursor)

    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    (ended,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert f"(pid {process.pid}) is gone" in ended.message
    store = open_incident_store(world.settings.incident_store_location)
    (row,) = store.list_incidents(open_only=True)
    assert row.incident.kind is FailureKind.RUN_FAILED
    assert row.incident.run_id == run_id
    assert row.incident.asset_keys == (key.to_user_string(),)
    assert f"(pid {process.pid}) is gone" in row.incident.error_excerpt


# -- 17.7 the platform's own faults ------------------------------------------------------


def test_17_7_a_truncated_warehouse_is_one_high_incident_naming_the_file(world):
    """A real truncated DuckDB file (half its bytes): every step that needs it fails, and the
    responders get one incident that says the warehouse is corrupt, not seven source loads."""
    warehouse = world.settings.warehouse_path
    data = warehouse.read_bytes()
    warehouse.write_bytes(data[: len(data) // 2])
    defs, result = run(world.settings, world.instance)
    assert not result.success
    assert (world.settings.publish_dir / FILE_NAME).read_bytes() == world.public_file
    tick(defs, world.instance, None)
    store = open_incident_store(world.settings.incident_store_location)
    open_rows = store.list_incidents(open_only=True)
    kinds = [row.incident.kind for row in open_rows]
    assert kinds == [FailureKind.WAREHOUSE_CORRUPT], kinds
    (incident,) = [row.incident for row in open_rows]
    assert incident.severity is Severity.HIGH
    first_sentence = incident.error_excerpt.split("\n\n")[0]
    # named with its path when the error that found it says which file (our own reads do;
    # dbt's "could not read enough bytes" does not)
    assert first_sentence.startswith("the warehouse file") and "is corrupt" in first_sentence
    assert FailureKind.SOURCE_LOAD_FAILED not in kinds
