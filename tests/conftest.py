"""Shared fixtures: settings for a temporary DDRC_HOME, patient-but-fast HTTP, TLS material."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import dagster as dg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ddrc_platform.core.names import (
    HISTORY_KEY,
    INCIDENT_SENSOR,
    PIPELINE_JOB,
    pacific_date,
    partition_key,
)
from ddrc_platform.definitions import build_definitions
from ddrc_platform.settings import HttpSettings, Settings, load_settings

# Retries that take milliseconds, so failure tests stay fast.
FAST_HTTP = HttpSettings(timeout=2.0, tries=3, malibu_tries=4, backoff=0.01, max_backoff=0.05)

# Every variable dev and prd require, with values that never reach a network.
PLACEHOLDERS = {
    "SNOWFLAKE_ACCOUNT": "placeholder",
    "SNOWFLAKE_USER": "placeholder",
    "SNOWFLAKE_PRIVATE_KEY_PATH": "/nonexistent/key.p8",
    "FIVETRAN_API_KEY": "placeholder",
    "FIVETRAN_API_SECRET": "placeholder",
    "FIVETRAN_ACCOUNT_ID": "ddrc_stand_in",  # the account the snapshot in the repo describes
    "DDRC_AZURE_CONTAINER": "ddrc-metrics",
    "AZURE_STORAGE_ACCOUNT_URL": "https://placeholder.blob.core.windows.net",
    "SLACK_BOT_TOKEN": "xoxb-placeholder",
    "DDRC_SLACK_CHANNEL": "C0000000",
    "DDRC_WEBSERVER_URL": "https://dagster.example",
    "DDRC_INCIDENT_DATABASE_URL": "postgresql://ddrc:placeholder@127.0.0.1:1/ddrc_incidents",
}


# The longest test files, longest first (`--durations`): the `dagster dev` ones mostly
# wait for the daemon, so started first they overlap with the rest of the suite instead of
# ending it. `./ddrc test` keeps this order (`--no-loadscope-reorder`).
STARTED_FIRST = (
    "test_change_daemon.py",
    "test_daemon_e2e.py",
    "test_rollback_and_incidents_cli.py",
    "test_publish_gate_and_incidents.py",
    "test_pipeline.py",
    "test_history_backfill.py",
    "test_snowflake.py",
    "test_cli_run.py",
    "test_dashboard.py",
    "test_dashboard_browser.py",
    "test_fault_campaign.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {name: rank for rank, name in enumerate(STARTED_FIRST)}
    items.sort(key=lambda item: first.get(item.path.name, len(first)))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite tests/snapshots/ from this code (an intended structural change)",
    )


@pytest.fixture
def ddrc_home(tmp_path: Path) -> Path:
    return tmp_path / "ddrc"


@pytest.fixture
def make_settings(ddrc_home: Path):
    """Settings as load_settings() makes them from an environment, with fast HTTP."""

    def make(**env: str) -> Settings:
        settings = load_settings({"DDRC_HOME": str(ddrc_home), **env})
        return Settings(**{**settings.__dict__, "http": FAST_HTTP})

    return make


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    """A DAGSTER_HOME of its own for a `dagster` subprocess, telemetry off (no network)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: a source the system trust store rejects."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ddrc test source")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    return context


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None) -> str | None:
    """One evaluation of the incident sensor with the definitions' own resources."""
    sensor = defs.resolve_sensor_def(INCIDENT_SENSOR)
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        repository_def=defs.get_repository_def(),
        resources={key: defs.resources[key] for key in sensor.required_resource_keys},
    )
    sensor.evaluate_tick(context)
    return context.cursor


def run_pipeline(
    settings: Settings,
    instance: dg.DagsterInstance,
    at: dt.datetime,
    selection: list[dg.AssetKey] | None = None,
) -> tuple[dg.Definitions, dg.ExecuteInProcessResult]:
    """The pipeline job as the daily reconcile runs it: today's (Pacific) partition at `at`.

    Without a selection, everything but `marts/metric_history`: its own dbt invocation
    costs seconds of dbt start-up per run, and the tests that read it select it.
    """
    defs = build_definitions(settings, clock=lambda: at)
    job = defs.resolve_job_def(PIPELINE_JOB)
    if selection is None:
        selection = [k for k in job.asset_layer.executable_asset_keys if k != HISTORY_KEY]
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        asset_selection=selection,
        partition_key=partition_key(pacific_date(at)),
    )
    return defs, result
