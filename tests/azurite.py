"""Azurite, the Azure Blob Storage emulator, started by the tests themselves.

`azurite` (session scope: one emulator per pytest process, so per xdist worker) yields the
connection string of the well-known development account; `azure_container` makes a fresh,
empty container in it for one test; `dedicated_azurite` starts an emulator of the test's
own, for a test that stops and restarts it.

Register with `pytest_plugins = ["tests.azurite"]` (in the root conftest, or a test module).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from tests.process import Server, start_server

AZURITE_BIN = Path(__file__).resolve().parent.parent / "tools" / "node_modules" / ".bin"
ACCOUNT = "devstoreaccount1"
# Azurite's published development key: public knowledge, not a secret.
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_TIMEOUT = 60.0
PORT_LINE = r"successfully listens on http://127\.0\.0\.1:(?P<port>\d+)"


def connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


class Azurite:
    """One azurite-blob process on 127.0.0.1, keeping its data in `location`.

    It binds port 0 the first time; `stop()` then `start()` again is a restart on the same
    port and data (clients keep their URL).
    """

    def __init__(self, location: Path) -> None:
        self.location = location
        self.port = 0
        self.server: Server | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(self.port)

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def start(self) -> Azurite:
        binary = AZURITE_BIN / "azurite-blob"
        if not binary.exists():
            pytest.fail(
                f"Azurite is not installed ({binary} is missing): run `npm ci --prefix tools`",
                pytrace=False,
            )
        self.location.mkdir(parents=True, exist_ok=True)
        self.server = start_server(
            [
                binary,
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--location",
                self.location,
                "--disableTelemetry",  # otherwise it tries to reach the internet
                "--skipApiVersionCheck",
                "--loose",
            ],
            log=self.location / "azurite.log",
            port_line=PORT_LINE,
            ready=_answers,
            timeout=START_TIMEOUT,
        )
        self.port = self.server.port
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The connection string of an Azurite started for this test session."""
    server = Azurite(tmp_path_factory.mktemp("azurite")).start()
    try:
        yield server.connection_string
    finally:
        server.stop()


@pytest.fixture
def azure_container(azurite: str) -> str:
    """A new empty container in the session's Azurite (in Azure, Terraform makes it)."""
    name = f"ddrc-{uuid.uuid4().hex[:12]}"
    BlobServiceClient.from_connection_string(azurite).create_container(name)
    return name


@pytest.fixture
def dedicated_azurite(tmp_path: Path) -> Iterator[Callable[[], Azurite]]:
    """Start an Azurite for this test alone (`stop()`/`start()` restart it on its data)."""
    servers: list[Azurite] = []

    def start() -> Azurite:
        servers.append(Azurite(tmp_path / f"azurite-{len(servers)}").start())
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
