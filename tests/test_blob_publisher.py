"""AzureBlobPublisher against a real Azurite: content, headers, history, races, outages, secrets."""

from __future__ import annotations

import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from ddrc_platform.publish import document as publication
from ddrc_platform.publish.rollback import release, rollback
from ddrc_platform.publish.targets.azure_blob import (
    CACHE_CONTROL,
    AzureBlobPublisher,
    BlobStorageError,
    PublishConflictError,
)
from ddrc_platform.publish.targets.local import version_name
from ddrc_platform.settings import SettingsError, azure_settings

# The Azurite fixtures. A registered plugin rather than imported names: those would trip ruff
# (F811), and importing the module first would keep pytest from rewriting its asserts.
pytest_plugins = ["tests.azurite"]

pytestmark = pytest.mark.slow

T0 = datetime(2025, 8, 21, 17, 0, tzinfo=UTC)
# Failure tests: give up after one quick retry instead of the production patience.
FAST = {"connection_timeout": 1.0, "read_timeout": 1.0, "retries": 1, "retry_backoff": 0.1}


def document(value: str) -> bytes:
    metric = publication.Metric(
        name="people_helped_drc",
        value=Decimal(value),
        type="count",
        unit_label="people",
        update_frequency="daily",
        last_updated=T0,
    )
    return publication.render([metric])


def account(connection: str) -> tuple[str, str, str]:
    """Name, key and blob endpoint of the account in a connection string."""
    parts = dict(part.split("=", 1) for part in connection.split(";") if part)
    return parts["AccountName"], parts["AccountKey"], parts["BlobEndpoint"]


def container_client(connection: str, container: str):
    return BlobServiceClient.from_connection_string(connection).get_container_client(container)


def blob_bytes(connection: str, container: str, name: str) -> bytes:
    return container_client(connection, container).download_blob(name).readall()


def test_first_publish_writes_live_and_history_with_headers(azurite, azure_container):
    publisher = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    content = document("61234")
    assert publisher.current() is None

    published = publisher.publish(content, T0)

    name = version_name(content, T0)
    assert published.version == name
    assert published.location.endswith(f"/{azure_container}/ddrc-metrics.json")
    container = container_client(azurite, azure_container)
    for blob in ("ddrc-metrics.json", f"history/{name}"):
        assert container.download_blob(blob).readall() == content
        properties = container.get_blob_client(blob).get_blob_properties()
        assert properties.content_settings.content_type == "application/json"
        assert properties.content_settings.cache_control == CACHE_CONTROL
        assert properties.metadata == {"content_sha256": publication.content_hash(content)}
    assert publisher.versions() == [name]
    assert publisher.version(name) == content


def test_current_returns_exactly_the_published_bytes(azurite, azure_container):
    """The asset decides "unchanged" by hashing current(): it must round-trip byte for byte."""
    content = document("61234")
    AzureBlobPublisher(container=azure_container, connection_string=azurite).publish(content, T0)

    reader = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    assert reader.current() == content
    assert publication.content_hash(reader.current()) == publication.content_hash(content)


def test_changed_content_adds_a_version_and_replaces_the_live_blob(azurite, azure_container):
    publisher = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    first, second = document("61234"), document("61240")
    publisher.current()
    publisher.publish(first, T0)
    assert publisher.current() == first

    publisher.publish(second, T0 + timedelta(hours=1))

    assert blob_bytes(azurite, azure_container, "ddrc-metrics.json") == second
    names = [version_name(first, T0), version_name(second, T0 + timedelta(hours=1))]
    assert publisher.versions() == names
    assert [publisher.version(n) for n in names] == [first, second]


@pytest.mark.parametrize("live_exists", [True, False], ids=["etag-412", "create-only-409"])
def test_a_stale_read_cannot_overwrite_another_publisher(azurite, azure_container, live_exists):
    a = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    b = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    if live_exists:  # the race is on the live blob's ETag; else on creating it
        b.current()
        b.publish(document("1"), T0)
    a.current()
    b.current()
    b.publish(document("2"), T0 + timedelta(minutes=1))

    with pytest.raises(PublishConflictError) as raised:
        a.publish(document("3"), T0 + timedelta(minutes=2))

    assert "changed since it was read" in str(raised.value)
    assert "nothing was overwritten; rerun the publish" in str(raised.value)
    assert blob_bytes(azurite, azure_container, "ddrc-metrics.json") == document("2")
    # The loser wrote no history copy: a default rollback never picks a never-live version.
    assert version_name(document("3"), T0 + timedelta(minutes=2)) not in a.versions()
    # Rereading (what a rerun of the asset does) clears the way.
    assert a.current() == document("2")
    a.publish(document("3"), T0 + timedelta(minutes=3))
    assert blob_bytes(azurite, azure_container, "ddrc-metrics.json") == document("3")


def test_losing_a_race_to_the_same_content_is_not_a_conflict(azurite, azure_container):
    """What a retried upload that had landed looks like, too: the wanted file is live."""
    a = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    b = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    a.current()
    b.current()
    b.publish(document("2"), T0)

    published = a.publish(document("2"), T0 + timedelta(minutes=1))

    assert published.version == version_name(document("2"), T0 + timedelta(minutes=1))
    assert blob_bytes(azurite, azure_container, "ddrc-metrics.json") == document("2")


@contextmanager
def refusing_listener(port: int) -> Iterator[list[float]]:
    """Azure gone: on its port, a listener that counts each connection and drops it."""
    attempts: list[float] = []
    with socket.create_server(("127.0.0.1", port)) as listener:
        listener.settimeout(0.1)
        stop = threading.Event()

        def drop() -> None:
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                attempts.append(time.monotonic())
                connection.close()

        worker = threading.Thread(target=drop)
        worker.start()
        try:
            yield attempts
        finally:
            stop.set()
            worker.join()


def test_a_stopped_azurite_fails_fast_and_leaves_the_published_file_intact(dedicated_azurite):
    server = dedicated_azurite()
    BlobServiceClient.from_connection_string(server.connection_string).create_container("ddrc")
    publisher = AzureBlobPublisher(
        container="ddrc", connection_string=server.connection_string, **FAST
    )
    publisher.current()
    publisher.publish(document("1"), T0)

    publisher.publish(document("2"), T0 + timedelta(hours=1))
    public = blob_bytes(server.connection_string, "ddrc", "ddrc-metrics.json")

    assert publisher.current() == document("2")  # the publish reads, then Azure goes away
    server.stop()
    with refusing_listener(server.port) as attempts, pytest.raises(BlobStorageError) as raised:
        publisher.publish(document("3"), T0 + timedelta(hours=2))

    # fails fast: a bounded number of tries (each request once plus its retries), no wait
    assert 1 <= len(attempts) <= 2 * (FAST["retries"] + 1), attempts
    message = str(raised.value)
    assert "replace of ddrc/ddrc-metrics.json failed" in message
    assert f"127.0.0.1:{server.port}" in message
    server.start()  # same port, same data
    reader = AzureBlobPublisher(container="ddrc", connection_string=server.connection_string)
    assert blob_bytes(server.connection_string, "ddrc", "ddrc-metrics.json") == public
    # the version whose live write failed is not in the history: never public, never restored
    assert reader.versions() == [
        version_name(document("1"), T0),
        version_name(document("2"), T0 + timedelta(hours=1)),
    ]
    assert rollback(reader, None, T0 + timedelta(hours=3), by="test").version == (
        version_name(document("1"), T0)
    )
    assert reader.current() == document("1")


def test_an_endpoint_that_never_answers_times_out_in_seconds(azurite):
    name, key, _ = account(azurite)
    with socket.socket() as silent:  # accepts connections (backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        publisher = AzureBlobPublisher(
            container="c",
            account_url=f"http://127.0.0.1:{silent.getsockname()[1]}/{name}",
            account_key=key,
            **FAST,
        )
        started = time.monotonic()
        with pytest.raises(BlobStorageError, match=r"read of c/ddrc-metrics.json failed"):
            publisher.current()
        assert time.monotonic() - started < 5


def container_sas(connection: str, container: str) -> str:
    name, key, _ = account(connection)
    return generate_container_sas(
        name,
        container,
        account_key=key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )


def test_errors_name_the_operation_and_never_a_secret(azurite, azure_container):
    """Wrong key (HTTP 403), refused connection, and a SAS to a dead port: no secret leaks."""
    name, key, endpoint = account(azurite)
    wrong_key = "A" * 86 + "=="
    sas = container_sas(azurite, azure_container)
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        dead_endpoint = f"http://127.0.0.1:{dead.getsockname()[1]}/{name}"
        cases = {
            "wrong key": {"connection_string": azurite.replace(key, wrong_key)},
            "refused": {"connection_string": azurite.replace(endpoint, dead_endpoint)},
            "sas": {"account_url": dead_endpoint, "sas_token": sas},
        }
        for case, credentials in cases.items():
            publisher = AzureBlobPublisher(container=azure_container, **credentials, **FAST)
            with pytest.raises(BlobStorageError) as raised:
                publisher.publish(document("1"), T0)
            message = str(raised.value)
            shown = "".join(traceback.format_exception(raised.value))
            secrets = [key, wrong_key, sas, sas.split("sig=")[1], "AccountKey="]
            assert not [s for s in secrets if s in shown], (case, shown)
            assert f"read of {azure_container}/ddrc-metrics.json failed" in message, case
            if case == "wrong key":
                assert "HTTP 403" in message and "check the storage credentials" in message
            else:
                assert "ServiceRequestError" in message, message


def test_a_missing_container_fails_clearly(azurite):
    publisher = AzureBlobPublisher(container="not-made-by-terraform", connection_string=azurite)
    with pytest.raises(BlobStorageError, match="'not-made-by-terraform' does not exist"):
        publisher.current()


def test_account_key_and_sas_credentials_work(azurite, azure_container):
    _, key, endpoint = account(azurite)
    keyed = AzureBlobPublisher(container=azure_container, account_url=endpoint, account_key=key)
    keyed.current()
    keyed.publish(document("1"), T0)

    sas = container_sas(azurite, azure_container)
    signed = AzureBlobPublisher(container=azure_container, account_url=endpoint, sas_token=sas)
    assert signed.current() == document("1")
    published = signed.publish(document("2"), T0 + timedelta(hours=1))
    assert "sig=" not in published.location and "?" not in published.location
    assert signed.versions() == [
        version_name(document("1"), T0),
        version_name(document("2"), T0 + timedelta(hours=1)),
    ]


def test_from_env_reads_the_deployment_variables(azurite, azure_container, monkeypatch):
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite,
        "DDRC_AZURE_CONTAINER": azure_container,
        "DDRC_AZURE_BLOB_PREFIX": "dev/",
    }
    publisher = AzureBlobPublisher.from_settings(azure_settings(env))
    publisher.current()
    publisher.publish(document("1"), T0)
    names = {b.name for b in container_client(azurite, azure_container).list_blobs()}
    assert names == {"dev/ddrc-metrics.json", f"dev/history/{version_name(document('1'), T0)}"}

    # A secret that is in the process environment becomes a dg.EnvVar: the Dagster UI shows
    # its name, and direct use (the rollback CLI) still reads its value.
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    from_process = AzureBlobPublisher.from_settings(azure_settings(env))
    assert isinstance(from_process.connection_string, dg.EnvVar)
    assert from_process.current() == document("1")

    managed = AzureBlobPublisher.from_settings(
        azure_settings(
            {
                "AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net",
                "DDRC_AZURE_CONTAINER": "c",
            }
        )
    )
    assert (managed.account_key, managed.sas_token, managed.prefix) == (None, None, "")
    with pytest.raises(SettingsError, match="DDRC_AZURE_CONTAINER"):
        azure_settings({"AZURE_STORAGE_CONNECTION_STRING": azurite})
    with pytest.raises(SettingsError, match="AZURE_STORAGE_ACCOUNT_URL"):
        azure_settings({"DDRC_AZURE_CONTAINER": "c"})


def test_as_a_dagster_resource_with_env_var_config(azurite, azure_container, monkeypatch):
    """The read-then-conditional-write state lives on the instance a run is given."""
    monkeypatch.setenv("TEST_AZURE_CONNECTION", azurite)

    @dg.asset
    def published(publisher: AzureBlobPublisher) -> str:
        assert publisher.current() is None
        return publisher.publish(document("1"), T0).version

    resource = AzureBlobPublisher(
        container=azure_container, connection_string=dg.EnvVar("TEST_AZURE_CONNECTION")
    )
    result = dg.materialize([published], resources={"publisher": resource})
    assert result.output_for_node("published") == version_name(document("1"), T0)
    assert blob_bytes(azurite, azure_container, "ddrc-metrics.json") == document("1")


def test_rollback_makes_the_first_content_live_again(azurite, azure_container):
    publisher = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    first, second = document("61234"), document("61240")
    publisher.current()
    publisher.publish(first, T0)
    publisher.publish(second, T0 + timedelta(hours=1))

    pin = rollback(publisher, None, T0 + timedelta(hours=2), by="test")

    assert pin.version == version_name(first, T0)
    assert pin.content_hash == publication.content_hash(first)
    assert blob_bytes(azurite, azure_container, "ddrc-metrics.json") == first
    assert AzureBlobPublisher(container=azure_container, connection_string=azurite).current() == (
        first
    )
    assert publisher.versions()[-1] == version_name(first, T0 + timedelta(hours=2))
    # the pin is the blob pin.json beside the file: every process sees it, until released
    other = AzureBlobPublisher(container=azure_container, connection_string=azurite)
    assert other.pin() == pin
    assert release(other) == pin
    assert publisher.pin() is None
    assert [b.name for b in container_client(azurite, azure_container).list_blobs()].count(
        "pin.json"
    ) == 0
