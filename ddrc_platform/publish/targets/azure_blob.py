"""The dev/prd publish target: ddrc-metrics.json in an Azure Blob Storage container.

Same contract as `LocalPublisher` (the live file first, then its history copy, so only a
version that went live enters the history; the pin is the blob `pin.json` beside the file),
plus what a shared cloud container needs that a local directory does not:

- **No interleaving publishers.** The live blob is replaced only if it is still the one
  `current()` read (ETag condition), or created only if there was none (create-only), so
  two runs racing each other cannot silently overwrite one another: the loser raises
  `PublishConflictError` and the public keeps the winner's file.
- **Whole files only.** Each blob is written by one PUT (the file is far below the SDK's
  single-upload size), so a reader never sees half a document.
- **Fail fast, say what failed, leak nothing.** Short timeouts and a bounded retry policy
  (the SDK's defaults can take minutes against a dead endpoint); every Azure failure becomes
  a `BlobStorageError` naming the operation, container and blob, with credentials redacted.

Built on plain `azure-storage-blob` rather than `dagster_azure`'s resource: that one takes no
connection string (what Azurite and many deployments use) and exposes neither timeouts nor
a retry policy, which is what makes a dead endpoint fail in seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
from azure.core import MatchConditions
from azure.core.credentials import AzureSasCredential
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.identity import DefaultAzureCredential
from azure.storage.blob import (
    BlobClient,
    BlobServiceClient,
    ContainerClient,
    ContentSettings,
    LinearRetry,
)
from pydantic import Field, PrivateAttr

from ddrc_platform.core.redact import Redactor
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.publish.targets.base import (
    VERSION_NAME,
    Pin,
    Published,
    repaired_version_name,
    version_name,
)
from ddrc_platform.settings import AzureSettings, secret_config

# The website's readers (browsers, and the CDN in front of the container) may keep a copy for
# five minutes: that absorbs a traffic spike on the public page, yet an hourly publish (or an
# emergency rollback) reaches everyone within minutes rather than hours.
CACHE_CONTROL = "public, max-age=300"
CONTENT_TYPE = "application/json"
HISTORY = "history/"
PIN = "pin.json"


class BlobStorageError(RuntimeError):
    """An Azure Blob Storage call failed; the message names the call and holds no secret."""


class PublishConflictError(BlobStorageError):
    """Another publisher changed the live file after this one read it; nothing was overwritten."""


class AzureBlobPublisher(dg.ConfigurableResource):
    """ddrc-metrics.json in `container` (under `prefix`), with every version kept in `history/`.

    Credentials: `connection_string`, or `account_url` with `account_key` or `sas_token`, or
    `account_url` alone for DefaultAzureCredential (the managed identity in Azure). Pass
    secrets as `dg.EnvVar` so the Dagster UI shows the variable's name, not its value.
    """

    container: str = Field(description="Container holding the file (Terraform creates it).")
    prefix: str = Field(default="", description='Blob name prefix with its slash, e.g. "dev/".')
    connection_string: str | None = Field(default=None, description="Secret.")
    account_url: str | None = Field(default=None, description="https://ACCOUNT.blob.core...")
    account_key: str | None = Field(default=None, description="Secret.")
    sas_token: str | None = Field(default=None, description="Secret.")
    connection_timeout: float = Field(default=5.0, description="Seconds to open a connection.")
    read_timeout: float = Field(default=10.0, description="Seconds to wait for a response.")
    retries: int = Field(default=2, description="Retries of a failed request.")
    retry_backoff: float = Field(default=1.0, description="Seconds between retries.")

    _client: ContainerClient | None = PrivateAttr(default=None)
    # The live blob's ETag as this instance last saw it (None: there was no live blob), the
    # condition of the next live upload. Unset until `current()` or `publish()` looked.
    _live_read: bool = PrivateAttr(default=False)
    _live_etag: str | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: AzureSettings) -> AzureBlobPublisher:
        """The publisher of a deployment; secrets as EnvVars where the process holds them."""

        return cls(
            container=settings.container,
            prefix=settings.prefix,
            connection_string=secret_config(settings.connection_string),
            account_url=None if settings.connection_string else settings.account_url,
            account_key=secret_config(settings.account_key),
            sas_token=secret_config(settings.sas_token),
        )

    @property
    def kind(self) -> str:
        return "azure_blob"

    @property
    def live_name(self) -> str:
        return f"{self.prefix}{FILE_NAME}"

    def history_name(self, version: str) -> str:
        return f"{self.prefix}{HISTORY}{version}"

    def current(self) -> bytes | None:
        client = self._container().get_blob_client(self.live_name)
        with self._azure("read", self.live_name):
            try:
                downloader = client.download_blob()
            except ResourceNotFoundError as error:
                if _error_code(error) != "BlobNotFound":  # no container: a configuration error
                    raise
                self._live_read, self._live_etag = True, None
                return None
            content = downloader.readall()
        self._live_read, self._live_etag = True, downloader.properties.etag
        return content

    def publish(self, content: bytes, at: datetime) -> Published:
        """The live blob, conditional on what was read; then the history copy (create-only).

        Without an earlier `current()` on this instance the condition is the live blob as
        it is now: still no interleaving, but a caller that decides from content should
        read it with `current()` first.
        """
        if not self._live_read:
            self._read_live_etag()
        name = version_name(content, at)
        digest = hashlib.sha256(content).hexdigest()
        live = self._container().get_blob_client(self.live_name)
        if self._live_etag is None:
            condition = {"match_condition": MatchConditions.IfMissing}  # If-None-Match: *
        else:
            condition = {"etag": self._live_etag, "match_condition": MatchConditions.IfNotModified}
        with self._azure("replace", self.live_name):
            try:
                etag = live.upload_blob(
                    content, overwrite=True, **condition, **self._blob_settings(digest)
                )["etag"]
            except (ResourceModifiedError, ResourceExistsError):  # 412 or 409
                # Either a lost race, or this very upload landed and its retry (after a timeout)
                # found it: only the first is a conflict.
                live_now = live.get_blob_properties()
                if live_now.metadata.get("content_sha256") != digest:
                    raise PublishConflictError(
                        f"{FILE_NAME} changed since it was read (another publisher?); nothing "
                        "was overwritten; rerun the publish (container "
                        f"{self.container}, blob {self.live_name})"
                    ) from None
                etag = live_now.etag
        self._live_read, self._live_etag = True, etag
        history = self._container().get_blob_client(self.history_name(name))
        self._upload_history(history, content, digest)
        return Published(location=_without_query(live.url), version=name)

    def copy_live_to_history(self, before: datetime) -> str:
        """Named by the live blob's Last-Modified: when the public started seeing it."""
        live = self._container().get_blob_client(self.live_name)
        with self._azure("read", self.live_name):
            downloader = live.download_blob()
            content = downloader.readall()
        name = repaired_version_name(content, downloader.properties.last_modified, before)
        history = self._container().get_blob_client(self.history_name(name))
        self._upload_history(history, content, hashlib.sha256(content).hexdigest())
        return name

    def versions(self) -> list[str]:
        start = self.history_name("")
        with self._azure("list", start):
            names = [b.name[len(start) :] for b in self._container().list_blobs(start)]
        return sorted(n for n in names if VERSION_NAME.match(n))

    def version(self, name: str) -> bytes:
        client = self._container().get_blob_client(self.history_name(name))
        with self._azure("download", client.blob_name):
            return client.download_blob().readall()

    def pin(self) -> Pin | None:
        client = self._container().get_blob_client(f"{self.prefix}{PIN}")
        with self._azure("read", client.blob_name):
            try:
                return Pin.from_bytes(client.download_blob().readall())
            except ResourceNotFoundError as error:
                if _error_code(error) != "BlobNotFound":
                    raise
                return None

    def set_pin(self, pin: Pin | None) -> None:
        client = self._container().get_blob_client(f"{self.prefix}{PIN}")
        with self._azure("release" if pin is None else "write", client.blob_name):
            if pin is not None:
                client.upload_blob(
                    pin.to_bytes(),
                    overwrite=True,
                    content_settings=ContentSettings(content_type=CONTENT_TYPE),
                )
                return
            try:
                client.delete_blob()
            except ResourceNotFoundError as error:
                if _error_code(error) != "BlobNotFound":
                    raise

    def _upload_history(self, history: BlobClient, content: bytes, digest: str) -> None:
        """Create the history copy of the version just made live.

        The name holds the time and a content hash prefix, so an existing blob of that name is
        this very version (published within the same second): fine, once its hash confirms it.
        """
        operation = f"upload history copy (the new {FILE_NAME} is live)"
        with self._azure(operation, history.blob_name):
            try:
                history.upload_blob(
                    content,
                    overwrite=True,
                    match_condition=MatchConditions.IfMissing,
                    **self._blob_settings(digest),
                )
            except ResourceExistsError:
                existing = history.get_blob_properties().metadata.get("content_sha256")
                if existing != digest:
                    raise BlobStorageError(
                        f"history blob {self.container}/{history.blob_name} exists with other "
                        f"content; the new {FILE_NAME} is live but not in the history"
                    ) from None

    def _read_live_etag(self) -> None:
        client = self._container().get_blob_client(self.live_name)
        with self._azure("read", self.live_name):
            try:
                self._live_etag = client.get_blob_properties().etag
            except ResourceNotFoundError as error:
                if _error_code(error) != "BlobNotFound":
                    raise
                self._live_etag = None
        self._live_read = True

    def _blob_settings(self, digest: str) -> dict[str, Any]:
        return {
            "content_settings": ContentSettings(
                content_type=CONTENT_TYPE, cache_control=CACHE_CONTROL
            ),
            "metadata": {"content_sha256": digest},
        }

    def _container(self) -> ContainerClient:
        if self._client is None:
            options = {
                "connection_timeout": self.connection_timeout,
                "read_timeout": self.read_timeout,
                "retry_policy": LinearRetry(
                    backoff=self.retry_backoff,
                    retry_total=self.retries,
                    random_jitter_range=self.retry_backoff / 2,
                ),
            }
            try:
                if self.connection_string:
                    service = BlobServiceClient.from_connection_string(
                        _value(self.connection_string, "connection string"), **options
                    )
                elif self.account_url:
                    service = BlobServiceClient(
                        self.account_url, credential=self._credential(), **options
                    )
                else:
                    raise ValueError("give connection_string or account_url")
            except ValueError as error:
                raise BlobStorageError(
                    f"cannot configure Azure Blob Storage for container {self.container}: "
                    f"{self._redact(str(error))}"
                ) from None
            self._client = service.get_container_client(self.container)
        return self._client

    def _credential(self) -> str | AzureSasCredential | DefaultAzureCredential:
        if self.account_key and self.sas_token:
            raise ValueError("give account_key or sas_token, not both")
        if self.account_key:
            return _value(self.account_key, "account key")
        if self.sas_token:
            return AzureSasCredential(_value(self.sas_token, "SAS token").lstrip("?"))
        return DefaultAzureCredential()

    @contextmanager
    def _azure(self, operation: str, blob: str) -> Iterator[None]:
        """Turn an Azure failure into a BlobStorageError that says what failed and where.

        `from None`: the Azure exception's own text may carry a SAS or a request URL, and a
        cause chain travels into Dagster's event log and UI.
        """
        try:
            yield
        except AzureError as error:
            endpoint = _without_query(self._client.url if self._client else self.account_url or "")
            raise BlobStorageError(
                f"Azure Blob Storage {operation} of {self.container}/{blob} failed at {endpoint}: "
                f"{self._redact(_reason(error))}{self._hint(error)}"
            ) from None

    def _hint(self, error: AzureError) -> str:
        code = _error_code(error)
        if code == "ContainerNotFound":
            return f" (container {self.container!r} does not exist: Terraform creates it)"
        if isinstance(error, HttpResponseError) and error.status_code in (401, 403):
            return " (check the storage credentials and their permissions)"
        return ""

    def _redact(self, text: str) -> str:
        configured = (self.connection_string, self.account_key, self.sas_token)
        secrets = [s.get_value() if isinstance(s, dg.EnvVar) else s for s in configured]
        secrets += [s.lstrip("?") for s in secrets if s and s.startswith("?")]
        return Redactor(s for s in secrets if s)(text)


def _value(configured: str | None, what: str) -> str | None:
    """A config value as a string, reading a `dg.EnvVar` when used outside a Dagster run."""
    if not isinstance(configured, dg.EnvVar):
        return configured
    value = configured.get_value()
    if not value:
        raise BlobStorageError(f"the {what} variable {configured.env_var_name} is not set")
    return value


def _error_code(error: AzureError) -> str:
    code = getattr(error, "error_code", None)  # a StorageErrorCode, or the service's string
    return str(getattr(code, "value", code) or "")


def _reason(error: AzureError) -> str:
    if isinstance(error, HttpResponseError) and error.status_code:
        text = (error.message or "").splitlines()[0] if error.message else ""
        text = text.removeprefix("Operation returned an invalid status ").strip("'")
        return f"HTTP {error.status_code} {_error_code(error)}: {text}"
    return f"{type(error).__name__}: {error.message}"


def _without_query(url: str) -> str:
    """A URL fit for metadata and messages: a SAS travels in the query string."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
