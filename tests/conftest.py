"""Shared fixtures: settings for a temporary DDRC_HOME, patient-but-fast HTTP, TLS material.

The platform, Dagster and cryptography are imported inside the fixtures that use them: the
xdist controller loads this file before it starts any worker and runs no test, so what it
imports here is seconds every `./ddrc test` waits for before the workers even start.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from filelock import FileLock

if TYPE_CHECKING:
    from ddrc_platform.settings import Settings

# A test that starts a server process, or stands on the session's whole-pipeline build, is
# `slow` (out of `./ddrc test --fast`), whichever way it gets them: a fixture, or a
# parameter that asks for one.
SERVER_FIXTURES = frozenset(
    {
        "postgres_server",
        "postgres_url",
        "fakesnow_server",
        "azurite",
        "azure_container",
        "dedicated_azurite",
        "ddrc_ui",
        "built_home",
        "home_copy",
    }
)
SERVER_PARAMETERS = ("snowflake", "postgres")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        ids = callspec.id if callspec else ""
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) or any(
            name in ids for name in SERVER_PARAMETERS
        ):
            item.add_marker(pytest.mark.slow)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop, by its PID, the warm dbt server that the tests' runs started on first use (in
    the default folder, which settings built from a test's own environment also name),
    once every worker is done: the controller's session ends last."""
    if hasattr(session.config, "workerinput"):
        return
    from ddrc_platform.settings import load_settings
    from ddrc_platform.transform import warm

    if folder := load_settings({}).dbt_warm:
        warm.stop(warm.socket_path(folder))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite tests/snapshots/ from this code (an intended structural change)",
    )


@pytest.fixture
def ddrc_cli(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]):
    """`ddrc_cli(env, *args)`: `./ddrc ARGS` with `env` set, in this process; a `Done`.

    The script hands every verb it routes to `python -m ddrc_platform.cli` with the same
    words (tests/test_runbook_commands.py checks the routing), so `main` gets what a shell
    passes; what it and its children (dbt) print is read at the file descriptors. In this
    process, each command is spared its interpreter, imports and definitions (~5 s of CPU).
    """
    from ddrc_platform.cli import main
    from tests.support import Done

    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # the home's own instance

    def run(env: dict[str, str], *args: str) -> Done:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capfd.readouterr()
        code, message = 0, ""
        try:
            main(list(args))
        except SystemExit as done:  # what the interpreter would make of it
            if isinstance(done.code, str):
                code, message = 1, done.code + "\n"
            else:
                code = done.code or 0
        out, err = capfd.readouterr()
        return Done(code, out, err + message)

    return run


@pytest.fixture
def ddrc_home(tmp_path: Path) -> Path:
    return tmp_path / "ddrc"


@pytest.fixture
def make_settings(ddrc_home: Path):
    """Settings as load_settings() makes them from an environment, with fast HTTP."""
    from ddrc_platform.settings import Settings, load_settings
    from tests.support import FAST_HTTP

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
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

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


# The published state most tests start from: sample data at SCALE, loaded, built and
# published once for the whole session (one build for every xdist worker: the first worker
# builds it under a file lock, the others wait and reuse it). A test copies it.


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    import dagster as dg

    from ddrc_platform.settings import load_settings
    from tests.support import BUILT_AT, BUILT_SCALE, run_pipeline

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    home = shared / "built-home"
    with FileLock(str(shared / "built-home.lock")):
        if not (home / "done").exists():
            settings = load_settings({"DDRC_HOME": str(home), "DDRC_SAMPLE_SCALE": BUILT_SCALE})
            with dg.DagsterInstance.ephemeral() as instance:
                _, result = run_pipeline(settings, instance, BUILT_AT)
            assert result.success, [e.message for e in result.all_events if e.is_step_failure]
            (home / "done").touch()
    return home


@pytest.fixture
def home_copy(built_home: Path, tmp_path: Path) -> Path:
    """This test's own copy of the built home (warehouse, published file and its history)."""
    home = tmp_path / "ddrc"
    shutil.copytree(built_home, home, ignore=shutil.ignore_patterns("done", "*.lock"))
    return home
