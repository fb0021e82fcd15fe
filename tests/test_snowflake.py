"""SnowflakeWarehouse over a fakesnow server: the DuckDB semantics, credentials kept out of
errors, and the whole dbt project built on the Snowflake dialect from raw tables written
through it, publishing the same summary as the DuckDB path from the same sample data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import traceback
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Keeping
from ddrc_platform.core.redact import REDACTED
from ddrc_platform.ingest.fetch import fetch
from ddrc_platform.ingest.load import with_snapshot_columns
from ddrc_platform.publish.document import metrics_from_rows
from ddrc_platform.settings import SettingsError, load_settings, snowflake_settings
from ddrc_platform.transform.assets import load_dates
from ddrc_platform.transform.manifests import dbt_vars, vars_args
from ddrc_platform.warehouse.base import Warehouse, table_hash
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse
from ddrc_platform.warehouse.snowflake import (
    SnowflakeWarehouse,
    snowflake_type,
)
from tests.fakesnow_server import FakesnowServer
from tests.warehouse_rows import DAY1, snapshot, snowflake_warehouse_from_env, write

pytest_plugins = ["tests.fakesnow_server"]

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "ddrc_dbt"
DBT = Path(sys.executable).parent / "dbt"

PASSWORD = "correct-horse-battery-staple"
KEY_LINE = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"


@pytest.fixture
def wh(fakesnow_server: FakesnowServer) -> SnowflakeWarehouse:
    """A warehouse on a database of its own: fakesnow shares memory between sessions."""
    database = f"RAW_TEST_{uuid.uuid4().hex[:8].upper()}"
    env = {**fakesnow_server.env, "DDRC_SNOWFLAKE_RAW_DATABASE": database}
    return snowflake_warehouse_from_env(env, "dev")


def test_a_failed_load_leaves_no_staging_table_behind(wh):
    write(wh, snapshot(DAY1, {"SFR": 10}), DAY1)
    bad = snapshot(DAY1, {"SFR": 10}).set_column(1, "PALISADESPERMITS", pa.array(["not a number"]))
    with pytest.raises(Exception, match="not a number"):
        write(wh, bad, DAY1)
    tables = wh.query(
        "select table_name from information_schema.tables where table_schema = 'OPS'"
    ).to_pylist()
    assert tables == [{"TABLE_NAME": "RAW_LOADS"}]


def test_arrow_types_map_to_snowflake_types(wh):
    """Naive UTC stays naive; a zoned timestamp is stored as its naive UTC time."""
    assert [
        snowflake_type(t) for t in (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.date32())
    ] == ["VARCHAR", "NUMBER(38,0)", "FLOAT", "BOOLEAN", "DATE"]
    moment = dt.datetime(2025, 3, 1, 12, 30, 15, 250000)
    pacific = dt.timezone(dt.timedelta(hours=-8))
    data = pa.table(
        {
            "FEEDBACK_KEY": ["a"],
            "TIME": pa.array([moment], pa.timestamp("us")),
            "ZONED": pa.array([moment.replace(tzinfo=dt.UTC).astimezone(pacific)]),
            "NOTHING": pa.array([None], pa.null()),
        }
    )
    wh.write_current_state(catalog.PAGE_FEEDBACK, data)
    got = wh.query('select * from "FEEDBACK"."PAGE_FEEDBACK"').to_pylist()
    # ZONED is not a documented column, so it is kept as text: of its naive UTC time
    assert got == [
        {"FEEDBACK_KEY": "a", "TIME": moment, "ZONED": "2025-03-01 12:30:15.25", "NOTHING": None}
    ]
    types = wh.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'FEEDBACK' order by ordinal_position"
    ).to_pylist()
    assert [r["DATA_TYPE"] for r in types] == ["TEXT", "TIMESTAMP_NTZ", "TEXT", "TEXT"]


# --- connection settings and credentials ---------------------------------------------


def _pem(passphrase: bytes | None = None) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def _everything_said(exc: BaseException) -> str:
    """The message and the whole printed traceback, chained exceptions included."""
    return str(exc) + "".join(traceback.format_exception(exc))


BASE_ENV = {"SNOWFLAKE_ACCOUNT": "ab12345.west-us-2.azure", "SNOWFLAKE_USER": "DDRC_LOADER"}


def test_environment_names_follow_the_deployment_and_key_pair_wins():
    prd = snowflake_warehouse_from_env(
        {**BASE_ENV, "SNOWFLAKE_PRIVATE_KEY_PATH": "/keys/rsa.p8", "SNOWFLAKE_PASSWORD": "pw12"},
        "prd",
    )
    assert (prd.role, prd.warehouse, prd.database) == ("LOADER_PRD", "LOADING_PRD", "RAW_DDRC_PRD")
    assert (prd.private_key_path, prd.password, prd.host, prd.port) == (
        "/keys/rsa.p8",
        None,
        None,
        None,
    )
    dev = snowflake_warehouse_from_env(
        {
            **BASE_ENV,
            "SNOWFLAKE_PASSWORD": PASSWORD,
            "DDRC_SNOWFLAKE_LOADER_ROLE": "SANDBOX_LOADER",
            "DDRC_SNOWFLAKE_LOADER_WAREHOUSE": "XS",
            "DDRC_SNOWFLAKE_RAW_DATABASE": "RAW_SANDBOX",
            "SNOWFLAKE_PORT": "8443",
        },
        "dev",
    )
    assert (dev.role, dev.warehouse, dev.database, dev.port) == (
        "SANDBOX_LOADER",
        "XS",
        "RAW_SANDBOX",
        8443,
    )
    assert dev.kind == "snowflake"


def test_settings_errors_name_variables_never_values():
    with pytest.raises(SettingsError, match="SNOWFLAKE_USER") as missing:
        snowflake_warehouse_from_env({"SNOWFLAKE_ACCOUNT": "ab12345"}, "dev")
    assert "SNOWFLAKE_PRIVATE_KEY or SNOWFLAKE_PRIVATE_KEY_PATH" in str(missing.value)
    pem = _pem()
    with pytest.raises(SettingsError, match="holds key text") as misplaced:
        snowflake_warehouse_from_env({**BASE_ENV, "SNOWFLAKE_PRIVATE_KEY_PATH": pem}, "dev")
    assert pem.splitlines()[1] not in _everything_said(misplaced.value)
    with pytest.raises(SettingsError, match="local"):
        snowflake_warehouse_from_env({**BASE_ENV, "SNOWFLAKE_PASSWORD": PASSWORD}, "local")


def test_credentials_stay_out_of_repr():
    pem = _pem()
    for wh in (
        snowflake_warehouse_from_env({**BASE_ENV, "SNOWFLAKE_PASSWORD": PASSWORD}, "dev"),
        snowflake_warehouse_from_env(
            {
                **BASE_ENV,
                "SNOWFLAKE_PRIVATE_KEY": pem,
                "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSWORD,
            },
            "dev",
        ),
    ):
        shown = repr(wh) + str(wh)
        assert "ab12345" in shown
        assert PASSWORD not in shown and pem.splitlines()[1] not in shown


def test_key_pair_auth_connects_and_bad_keys_fail_without_quoting_them(
    fakesnow_server: FakesnowServer,
    tmp_path: Path,
):
    env = {k: v for k, v in fakesnow_server.env.items() if k != "SNOWFLAKE_PASSWORD"}
    key_file = tmp_path / "rsa_key.p8"
    key_file.write_text(_pem(PASSWORD.encode()))
    by_path = snowflake_warehouse_from_env(
        {
            **env,
            "SNOWFLAKE_PRIVATE_KEY_PATH": str(key_file),
            "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSWORD,
        },
        "dev",
    )
    assert by_path.query("select 1 as one").to_pylist() == [{"ONE": 1}]

    wrong_passphrase = "not-the-passphrase-123"
    bad_key = f"-----BEGIN PRIVATE KEY-----\n{KEY_LINE}\n-----END PRIVATE KEY-----\n"
    for variables, secret in (
        ({"SNOWFLAKE_PRIVATE_KEY": bad_key}, KEY_LINE),
        (
            {
                "SNOWFLAKE_PRIVATE_KEY": key_file.read_text(),
                "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": wrong_passphrase,
            },
            wrong_passphrase,
        ),
    ):
        wh = snowflake_warehouse_from_env({**env, **variables}, "dev")
        with pytest.raises(Exception) as error:
            wh.query("select 1")
        assert secret not in _everything_said(error.value)


def test_a_message_that_would_quote_the_password_is_redacted(
    fakesnow_server: FakesnowServer,
):
    wh = snowflake_warehouse_from_env(
        {**fakesnow_server.env, "SNOWFLAKE_PASSWORD": PASSWORD}, "dev"
    )
    with pytest.raises(Exception, match=re.escape(REDACTED)) as error:
        wh.query(f"select cast('{PASSWORD}' as number)")  # a failed cast quotes the value
    assert PASSWORD not in _everything_said(error.value)


def test_an_unreachable_server_fails_without_the_password():
    wh = SnowflakeWarehouse(
        account="fakesnow",
        user="ddrc",
        password=PASSWORD,
        database="RAW_DDRC_DEV",
        host="127.0.0.1",
        port=9,  # discard: nothing listens
        protocol="http",
        login_timeout=2,
    )
    with pytest.raises(Exception) as error:
        wh.query("select 1")
    assert PASSWORD not in _everything_said(error.value)


# --- the whole dbt project on the Snowflake dialect --------------------------------------


def _load_sample_days(warehouses: list[Warehouse], home: Path, days: list[dt.date]) -> None:
    """What the raw assets do for each day, into every warehouse: same rows, same hashes."""
    settings = load_settings({"DDRC_HOME": str(home), "DDRC_SAMPLE_SCALE": "0.05"})
    for day in days:
        now = dt.datetime.combine(day, dt.time(17), dt.UTC)  # 10:00 in Los Angeles
        for table in catalog.RAW_TABLES:
            fetched = fetch(table, settings, day=day, now=now)
            for warehouse in warehouses:
                if table.keeping is Keeping.SNAPSHOT:
                    data = with_snapshot_columns(table, fetched, day, now)
                    digest = f"{table_hash(fetched.table)}@{fetched.last_edit}"
                    warehouse.write_snapshot(table, data, day, digest)
                else:
                    warehouse.write_current_state(table, fetched.table)


def _dbt_build(target: str, env: dict[str, str], folder: Path, *select: str) -> subprocess.Popen:
    """dbt as the platform runs it: in the home (the local profile's DuckDB file is
    relative), credentials and load dates from the environment, names as vars."""
    objects = snowflake_settings(env, target).objects if target != "local" else None
    variables = dbt_vars(target, objects)
    return subprocess.Popen(
        [
            str(DBT),
            "build",
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target",
            target,
            "--target-path",
            str(folder / "target"),
            "--log-path",
            str(folder / "logs"),
            *vars_args(variables),
            *(["--select", *select] if select else []),
        ],
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
        cwd=env.get("DDRC_HOME"),  # local: the home; Snowflake: anywhere
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _relation(folder: Path, model: str) -> str:
    """Where a model was built, as the publisher finds the summary: from the dbt manifest."""
    manifest = json.loads((folder / "target" / "manifest.json").read_text())
    return manifest["nodes"][f"model.ddrc_dbt.{model}"]["relation_name"]


@pytest.mark.slow
def test_dbt_on_snowflake_publishes_the_same_summary_as_duckdb(
    fakesnow_server: FakesnowServer,
    tmp_path: Path,
):
    home = tmp_path / "home"
    duck = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    snow = snowflake_warehouse_from_env(fakesnow_server.env, "dev")
    _load_sample_days([duck, snow], home, [dt.date(2025, 8, 20), dt.date(2025, 8, 21)])

    # both builds at once: they share nothing but the project's source files
    local, dev = tmp_path / "dbt_local", tmp_path / "dbt_dev"
    builds = {
        "local": (_dbt_build("local", {"DDRC_HOME": str(home)}, local), local),
        "dev": (_dbt_build("dev", fakesnow_server.env, dev), dev),
    }
    for target, (process, _) in builds.items():
        output, _ = process.communicate(timeout=240)
        assert process.returncode == 0, f"dbt build --target {target}:\n{output[-4000:]}"

    duck_relation = _relation(local, "ddrc_metrics_summary")
    snow_relation = _relation(dev, "ddrc_metrics_summary")
    assert snow_relation == "TRANSFORM_DDRC_DEV.marts.ddrc_metrics_summary"  # unquoted: upper
    duck_rows = duck.query(f"select * from {duck_relation}").to_pylist()
    snow_rows = snow.query(f"select * from {snow_relation}").to_pylist()
    assert set(snow_rows[0]) == {key.upper() for key in duck_rows[0]}  # Snowflake: upper case

    def by_name(rows: list[dict]) -> list:
        return sorted(metrics_from_rows(rows), key=lambda m: m.name)

    assert len(duck_rows) >= 10
    assert by_name(snow_rows) == by_name(duck_rows)

    # and the history behind it: both load days, every pipeline metric
    def history(warehouse: Warehouse, folder: Path) -> list[tuple]:
        relation = _relation(folder, "metric_history")
        sql = f"select metric_name, load_date, metric_value, last_updated from {relation}"
        return sorted(tuple(row.values()) for row in warehouse.query(sql).to_pylist())

    duck_history = history(duck, local)
    assert {row[1] for row in duck_history} == {dt.date(2025, 8, 20), dt.date(2025, 8, 21)}
    assert history(snow, dev) == duck_history

    # the partitioned path: one day recomputed incrementally (delete+insert, transient temp)
    one_day_env = {**fakesnow_server.env, **load_dates(dt.date(2025, 8, 21), dt.date(2025, 8, 22))}
    one_day = _dbt_build("dev", one_day_env, dev, "metric_history")
    output, _ = one_day.communicate(timeout=240)
    assert one_day.returncode == 0, output[-4000:]
    assert history(snow, dev) == duck_history
