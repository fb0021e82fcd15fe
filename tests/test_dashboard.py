"""The dashboard (dashboards/), page by page, with Streamlit's AppTest.

On the warehouse of a real (sample) pipeline run with weeks of history, a stale source, a
held-back number and incidents; on an empty DDRC_HOME; on a warehouse with raw tables
only; and while another process holds DuckDB's writer lock, as a loader or dbt does.
Expected values come from the warehouse and the published file read here directly.
"""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
import snowflake.connector
from streamlit.testing.v1 import AppTest

from ddrc_platform.core import catalog
from ddrc_platform.core.freshness import freshness
from ddrc_platform.incidents import FailureKind
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.settings import load_settings
from ddrc_platform.transform.assets import model_relation
from ddrc_platform.transform.project import dbt_project, prepare_manifest
from tests.dashboard_home import (
    APP,
    DASHBOARDS,
    HELD_BY,
    HELD_METRIC,
    copy_home,
    home_settings,
    incident_desk,
    pipeline_writing,
    sample_home,
)
from tests.support import PLACEHOLDERS

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.fakesnow_server"]

METRICS, TRENDS, FEEDBACK, SOURCES, INCIDENTS = (
    f"views/{name}.py" for name in ("metrics", "trends", "feedback", "sources", "incidents")
)
PAGES = (METRICS, TRENDS, FEEDBACK, SOURCES, INCIDENTS)
RUN_SECONDS = 120  # the first run imports dagster and dbt; a loaded CI machine is slow
PACIFIC = ZoneInfo("America/Los_Angeles")
USACE_METRICS = ("phase2_roes_accepted", "phase2_parcels_in_queue", "phase2_parcels_completed")
NO_DATA = "No data yet — run `./ddrc run`"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_home(tmp_path_factory)


@pytest.fixture(scope="module")
def data() -> Iterator[ModuleType]:
    """dashboards/data.py, imported as the pages import it (`streamlit run` puts
    dashboards/ on the path)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(DASHBOARDS))
        yield importlib.import_module("data")


@pytest.fixture
def dashboard(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, str], AppTest]:
    """Render a page of the app on a DDRC_HOME, as `streamlit run` would, and fail on
    any exception it shows."""
    for name in ("DDRC_DEPLOYMENT", "DDRC_INCIDENT_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(DASHBOARDS))

    def render(ddrc_home: Path, page: str = METRICS) -> AppTest:
        monkeypatch.setenv("DDRC_HOME", str(ddrc_home))
        app = AppTest.from_file(str(APP), default_timeout=RUN_SECONDS).run()
        if page != METRICS:
            app.switch_page(page).run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return render


def published(home: Path) -> dict[str, dict]:
    return {m["METRIC_NAME"]: m for m in json.loads((home / "publish" / FILE_NAME).read_text())}


def query(home: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as warehouse:
        return warehouse.sql(sql).df()


def markdown(app: AppTest) -> list[str]:
    return [m.value for m in app.markdown]


def badges(app: AppTest, label: str) -> int:
    return sum(1 for text in markdown(app) if "-badge[" in text and text.endswith(f"{label}]"))


def charts(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]


# -- with data -------------------------------------------------------------------------


def test_metrics_page_shows_each_public_number_with_its_title_and_badges(home, dashboard):
    app = dashboard(home)
    public = published(home)
    shown = {m.label: m for m in app.metric}

    assert shown["Numbers on the site"].value == str(len(public))
    assert shown["Held back"].value == "1"
    assert shown["Stale"].value == str(len(USACE_METRICS))
    # titles from the metric catalog seed, and Airtable's "Metric Title for Interface"
    lots = shown["Lots cleared of hazardous materials"]
    assert lots.value == f"{public[HELD_METRIC]['METRIC_VALUE']:,.0f}"  # what the site shows
    assert shown["People helped at recovery centers"].value == (
        f"{public['people_helped_drc']['METRIC_VALUE']:,.0f}"
    )
    dollars = public["fema_individual_assistance_dollars"]["METRIC_VALUE"]
    assert shown["FEMA Individual Assistance"].value == f"${dollars:,.2f}M"
    assert not any(label in shown for label in public)  # no bare machine names
    assert lots.delta is not None and "in 7 days" in str(lots.proto.delta_description)

    assert badges(app, "Held back") == 1
    assert badges(app, "Stale") == len(USACE_METRICS)
    assert any("cleanups completed · updated daily" in c.value for c in app.caption)
    assert app.expander[0].label == "All numbers as a table"


def test_the_metrics_reader_computes_changes_staleness_and_held_back_values(home, data):
    frame = data.metrics(home_settings(home)).set_index("metric_name")
    history = query(home, "select * from marts.metric_history")
    history["load_date"] = pd.to_datetime(history["load_date"]).dt.date
    today = datetime.now(PACIFIC).date()

    def known_on(name: str, day: date) -> float:
        rows = history[(history["metric_name"] == name) & (history["load_date"] <= day)]
        return float(rows.sort_values("load_date")["metric_value"].iloc[-1])

    assert set(frame.index) == set(published(home))
    for name in history["metric_name"].unique():
        for days in (7, 30):
            change = known_on(name, today) - known_on(name, today - timedelta(days))
            assert frame.at[name, f"change_{days}d"] == pytest.approx(change), (name, days)
    assert frame.loc[list(USACE_METRICS), "freshness"].eq("stale").all()
    assert frame.drop(index=list(USACE_METRICS))["freshness"].eq("fresh").all()
    assert frame.index[frame["held_back"].astype(bool)].tolist() == [HELD_METRIC]
    held = frame.loc[HELD_METRIC]
    assert held["summary_value"] == held["metric_value"] + HELD_BY
    assert frame.loc[frame["metric_source"] == "airtable", "change_7d"].isna().all()


def test_trends_page_charts_each_metric_and_shows_a_single_load_date_as_a_point(home, dashboard):
    app = dashboard(home, TRENDS)
    catalogued = query(home, "select metric_name, metric_title from seeds.metric_catalog")
    specs = charts(app)
    assert len(specs) == len(catalogued)
    assert {s["title"]["text"] for s in specs} == set(catalogued["metric_title"])
    assert all({layer["mark"]["type"] for layer in s["layer"]} == {"line", "circle"} for s in specs)

    last_load = query(home, "select max(load_date) as day from marts.metric_history").at[0, "day"]
    app.multiselect[0].set_value(["cleanup_phase1_complete"])
    app.date_input[0].set_value((last_load.date(), last_load.date()))
    app.run()
    assert not app.exception
    (spec,) = charts(app)
    assert spec["title"]["text"] == "Lots cleared of hazardous materials"
    assert any("1 load date between" in c.value for c in app.caption)
    domain = spec["layer"][0]["encoding"]["x"]["scale"]["domain"]
    assert domain[0] != domain[1]  # a single day still gets an axis around it


def test_feedback_page_shows_one_site_at_a_time_with_counts(home, dashboard):
    app = dashboard(home, FEEDBACK)
    weekly = query(home, "select * from marts.page_feedback_weekly")
    answers = weekly.groupby("site_domain")["response_count"].sum().sort_values()
    busiest, other = answers.index[-1], answers.index[0]

    for site in (busiest, other):
        if site != busiest:
            app.segmented_control[0].set_value(site).run()
            assert not app.exception
        assert app.segmented_control[0].value == site
        table = app.dataframe[0].value
        expected = weekly[weekly["site_domain"] == site].groupby("page")["response_count"].sum()
        assert table.set_index("page")["responses"].to_dict() == expected.to_dict()
        titles = [s["title"]["text"] for s in charts(app) if "title" in s]
        assert titles and all(t.startswith(site) for t in titles)


def test_sources_page_shows_loads_edits_rows_freshness_and_open_incidents(home, dashboard):
    app = dashboard(home, SOURCES)
    table = app.dataframe[0].value.set_index("table")
    loads = query(
        home,
        "select table_path, row_count from OPS.RAW_LOADS "
        "qualify row_number() over (partition by table_path order by load_date desc) = 1",
    ).set_index("table_path")

    assert list(table["source"]) == [t.title for t in catalog.RAW_TABLES]
    for path, row in loads.iterrows():
        assert table.at[path, "rows"] == row["row_count"], path
    assert table.at[catalog.USACE.path, "freshness"].startswith("Stale · ")
    assert table.at[catalog.EPA.path, "freshness"].startswith("Fresh · ")
    # each source's change signal: its last edit, else what its change sensor watches
    signals = table["change_signal"]
    assert signals[catalog.EPA.path].startswith("last edit ")
    assert signals[catalog.USACE.path].startswith("newest GDB_FROM_DATE ")
    assert signals[catalog.MALIBU_FIRE_REBUILD_POINTS.path].startswith("a hash of each delivery")
    assert not signals.str.contains("None|NaT|⚠").any(), signals.to_dict()
    (stale_incident,) = table.at[catalog.USACE.path, "incidents"]
    assert stale_incident.startswith("[local] Source is stale: USACE")
    assert len(table.at[catalog.EPA.path, "incidents"]) == 0


def test_incidents_page_shows_what_to_do_and_a_new_incident_on_the_next_read(
    home, tmp_path, dashboard
):
    own = copy_home(home, tmp_path / "ddrc")
    app = dashboard(own, INCIDENTS)
    store = incident_desk(home_settings(own)).store
    ongoing = store.list_incidents(open_only=True)
    text = "\n".join(markdown(app))
    ui = importlib.import_module("ui")  # the title is shown as typed: escaped for Markdown

    for row in ongoing:
        assert f"#### {ui.plain(row.incident.title)}" in text
        assert row.incident.runbook[0] in text
    for severity in ("high", "low"):  # a held publication is high: nothing can publish
        shown = sum(row.incident.severity.value == severity for row in ongoing)
        assert badges(app, f"{severity.capitalize()} severity") == shown
    assert text.count("Who acts: **") == len(ongoing)
    assert [b.proto.url for b in app.get("link_button") if b.proto.label == "Open the run"] == [
        "http://127.0.0.1:3000/runs/run-held"
    ]
    resolved = app.dataframe[0].value
    assert resolved["kind"].tolist() == ["Source load failed"]

    new, _ = incident_desk(home_settings(own)).report(
        FailureKind.SCHEMA_DRIFT, [catalog.EPA.asset_key], check_name="schema_contract"
    )
    app.run()  # what a fragment rerun does: the store is read again, no cache in between
    assert f"#### {ui.plain(new.incident.title)}" in "\n".join(markdown(app))
    said = [*app.sidebar.warning, *app.sidebar.error]  # an error when one is high
    assert any(f"{len(ongoing) + 1} open incidents" in w.value for w in said)


# -- without data, with part of it, during a run ---------------------------------------


def test_an_empty_home_says_no_data_yet_on_every_page_and_creates_nothing(tmp_path, dashboard):
    never_run, empty = tmp_path / "never-run", tmp_path / "empty"
    empty.mkdir()
    for ddrc_home in (never_run, empty):
        for page in PAGES:
            app = dashboard(ddrc_home, page)
            if page == INCIDENTS:
                assert "No open incidents." in [s.value for s in app.main.success]
            else:
                assert [i.value for i in app.info] == [f"{NO_DATA}."], page
    assert not never_run.exists()
    assert list(empty.iterdir()) == []


def test_a_warehouse_with_raw_tables_only_shows_sources_and_says_what_is_missing(
    home, tmp_path, dashboard
):
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(home / "warehouse.duckdb", partial / "warehouse.duckdb")
    with duckdb.connect(str(partial / "warehouse.duckdb")) as warehouse:
        for schema in ("marts", "intermediate", "staging", "seeds"):
            warehouse.execute(f"drop schema {schema} cascade")

    for page in (METRICS, TRENDS, FEEDBACK):  # nothing published, no marts
        assert [i.value for i in dashboard(partial, page).info] == [f"{NO_DATA}."], page
    sources = dashboard(partial, SOURCES).dataframe[0].value
    # no incident store here: USACE, a week behind, is late; only an incident says stale
    assert sources["freshness"].str.startswith(("Fresh", "Late")).all()

    shutil.copytree(home / "publish", partial / "publish")  # published, marts not built
    app = dashboard(partial)
    public = published(home)
    assert {m.label: m.value for m in app.metric}["Numbers on the site"] == str(len(public))
    assert any("need the warehouse's marts" in c.value for c in app.caption)
    assert badges(app, "Held back") == 0  # unknown without the summary, not claimed


def test_pages_keep_showing_the_last_data_while_the_pipeline_writes(home, tmp_path, dashboard):
    own = copy_home(home, tmp_path / "ddrc")
    before = {m.label: m.value for m in dashboard(own).metric}
    with pipeline_writing(own / "warehouse.duckdb"):
        app = dashboard(own)
        assert "pipeline is writing" in app.warning[0].value
        assert {m.label: m.value for m in app.metric} == before  # the last data, kept
        for page in (TRENDS, SOURCES):  # never read by this server: nothing to keep
            app = dashboard(own, page)
            assert "pipeline is writing" in app.info[0].value
            assert app.button[0].label == "Retry"
        incidents = markdown(dashboard(own, INCIDENTS))  # the store is not the warehouse
        assert any(text.startswith("#### ") for text in incidents)


def test_a_broken_public_file_is_reported_not_shown(home, tmp_path, dashboard):
    own = copy_home(home, tmp_path / "ddrc")
    (own / "publish" / FILE_NAME).write_text('[{"METRIC_NAME": "people_helped_drc"}]')
    app = dashboard(own)
    assert "ddrc-metrics.json breaks its JSON Schema" in app.warning[0].value
    assert not app.metric


def test_an_unreachable_incident_store_is_unavailable_not_an_error(data):
    """PostgreSQL down (dev/prd): the pages say the store is unavailable; the password the
    URL holds is not in what they say."""
    url = "postgresql://ddrc:s3cret-pw@127.0.0.1:1/incidents"
    settings = load_settings({"DDRC_INCIDENT_DATABASE_URL": url})
    with pytest.raises(data.UnavailableError, match=r"^incident store: ") as refused:
        data.incidents(settings)
    assert "s3cret-pw" not in str(refused.value)


def test_readers_close_the_warehouse_before_returning(home, tmp_path, data):
    own = copy_home(home, tmp_path / "ddrc")
    settings = home_settings(own)
    for reader in (data.metrics, data.metric_history, data.page_feedback, data.sources):
        reader(settings)
        # a read-write open in this process fails while any other connection is open
        duckdb.connect(str(settings.warehouse_path)).close()


def test_dev_reads_the_marts_through_snowflake_as_the_reporter_role(data, fakesnow_server):
    env = {
        **fakesnow_server.env,
        "DDRC_DEPLOYMENT": "dev",
        **dict.fromkeys(("FIVETRAN_API_KEY", "FIVETRAN_API_SECRET", "FIVETRAN_ACCOUNT_ID"), "x"),
        "DDRC_AZURE_CONTAINER": "ddrc-metrics-dev",
        "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
        "DDRC_SLACK_CHANNEL": "#ddrc-bot",
        "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/unused",
        "DDRC_WEBSERVER_URL": "http://127.0.0.1:3000",
        "DDRC_INCIDENT_DATABASE_URL": PLACEHOLDERS["DDRC_INCIDENT_DATABASE_URL"],
    }
    settings = load_settings(env)
    manifest = json.loads(prepare_manifest(dbt_project("dev")).read_text())
    history = model_relation(manifest, "metric_history")
    with snowflake.connector.connect(
        account=env["SNOWFLAKE_ACCOUNT"],
        user=env["SNOWFLAKE_USER"],
        password=env["SNOWFLAKE_PASSWORD"],
        host=env["SNOWFLAKE_HOST"],
        port=int(env["SNOWFLAKE_PORT"]),
        protocol=env["SNOWFLAKE_PROTOCOL"],
    ) as admin:
        cursor = admin.cursor()
        database, schema, _ = history.split(".")
        cursor.execute(f"create database if not exists {database}")
        cursor.execute(f"create schema if not exists {database}.{schema}")
        cursor.execute(
            f"create or replace table {history} (metric_name varchar, load_date date, "
            "metric_value number(18, 2), last_updated timestamp_ntz)"
        )
        cursor.execute(
            f"insert into {history} values "
            "('cleanup_phase1_complete', '2025-06-01', 640.00, '2025-06-01 19:00:00'), "
            "('cleanup_phase1_complete', '2025-06-02', 651.00, '2025-06-02 19:00:00')"
        )

    assert data.location(settings) == "Snowflake and Azure (dev)"
    rows = data.metric_history(settings)
    assert rows["metric_value"].tolist() == [640.0, 651.0]
    assert set(rows["title"]) == {"Lots cleared of hazardous materials"}
    assert str(rows["last_updated"].dt.tz) == "UTC"
    with pytest.raises(data.UnavailableError, match="REPORTER_DEV"):
        data.sources(settings)  # no loads log in this database, or no grant on it


# -- the pure parts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('["People helped at recovery centers"]', "People helped at recovery centers"),
        ('[\n  "Debris removed"\n]', "Debris removed"),  # Snowflake ARRAY as text
        (["", "Temporary housing"], "Temporary housing"),
        ("Crisis counseling", "Crisis counseling"),  # a plain text field
        ("[]", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_airtable_array_values_read_as_their_first_text(data, raw, expected):
    assert data.first_value(raw) == expected


def test_changes_compare_with_the_value_known_that_many_days_before(data):
    history = pd.DataFrame(
        {
            "metric_name": ["a", "a", "a", "b"],
            "load_date": pd.to_datetime(["2025-05-01", "2025-05-25", "2025-06-01", "2025-06-01"]),
            "metric_value": [10.0, 15.0, 18.0, 7.0],
        }
    )
    changes = data.metric_changes(history, date(2025, 6, 1))
    assert changes.at["a", "change_7d"] == 3.0  # 18 now, 15 as of May 25
    assert changes.at["a", "change_30d"] == 8.0  # 18 now, 10 as of May 2 (loaded May 1)
    assert changes.loc["b"].isna().all()  # no history that far back


@pytest.mark.parametrize(
    ("last_load", "expected"),
    [
        (None, "never loaded"),  # the table is not there yet
        (pd.NaT, "never loaded"),  # the table is there and empty
        (datetime(2025, 6, 1, 11, tzinfo=UTC), "fresh"),
        (datetime(2025, 5, 1, tzinfo=UTC), "stale"),
    ],
)
def test_a_sources_freshness_is_the_one_definition_of_it(data, last_load, expected):
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    row = data.source_row(catalog.EPA, {"last_load": last_load}, now)
    assert row["freshness"] == expected
    if last_load is not None and pd.notna(last_load):
        assert expected == freshness(last_load, catalog.EPA.freshness, now)
