"""dagster-fivetran's internals the platform leans on, in one place.

- The workspace with its API base and poll timing made settings: the stock client builds
  every request URL from its `api_base_url` property, fixed to `https://api.fivetran.com`,
  and the workspace always polls every 10 seconds; a stand-in needs the first to change
  and fast tests the second. Both are overrides of members that are not a documented
  extension point (guarded by tests/test_integrations.py).
- Unexported constants (the public API base, the reschedule retry limit) and the layout
  of the workspace snapshot the `dagster-fivetran snapshot` command writes: which account
  it holds, and whether the library can read it back (guarded by
  tests/test_integrations_fivetran.py).
"""

from collections.abc import Collection, Mapping
from typing import Any

import dagster as dg
from dagster_fivetran import ConnectorSelectorFn, FivetranOutput, FivetranWorkspace
from dagster_fivetran.constants import FIVETRAN_RECONSTRUCTION_METADATA_KEY_PREFIX
from dagster_fivetran.resources import (
    FIVETRAN_API_BASE,
    FIVETRAN_API_VERSION,
    FIVETRAN_QUOTA_RESCHEDULE_MAX_RETRIES,
    FivetranClient,
)
from dagster_fivetran.translator import FivetranConnector
from pydantic import Field

from ddrc_platform.integrations.dagster import cached_method

DEFAULT_POLL_INTERVAL = 10.0  # dagster-fivetran's own default, in seconds
PUBLIC_API_URL = FIVETRAN_API_BASE
# how often a step whose sync Fivetran rescheduled (quota) is retried before it fails
RESCHEDULE_MAX_RETRIES = FIVETRAN_QUOTA_RESCHEDULE_MAX_RETRIES


class DdrcFivetranClient(FivetranClient):
    """dagster-fivetran's client with its API base and poll timing made settings.

    The stock client builds every request URL from its `api_base_url` property, fixed to
    `https://api.fivetran.com`, and the workspace always polls every 10 seconds; a
    stand-in needs the first to change and fast tests the second. It also remembers the
    last connector state it read, so a failure or a reschedule can be reported with
    Fivetran's own words.
    """

    def __init__(
        self, *, api_url: str, poll_interval: float, poll_timeout: float | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._api_url = api_url.rstrip("/")
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.last_seen: dict[str, Mapping[str, Any]] = {}

    @property
    def api_base_url(self) -> str:
        return f"{self._api_url}/{FIVETRAN_API_VERSION}"

    def get_connector_details(self, connector_id: str) -> Mapping[str, Any]:
        details = super().get_connector_details(connector_id)
        self.last_seen[connector_id] = details
        return details

    def sync_and_poll(
        self,
        connector_id: str,
        poll_interval: float | None = None,
        poll_timeout: float | None = None,
    ) -> FivetranOutput | None:
        return super().sync_and_poll(
            connector_id,
            poll_interval=self.poll_interval if poll_interval is None else poll_interval,
            poll_timeout=self.poll_timeout if poll_timeout is None else poll_timeout,
        )


def _resolved(value: str) -> str:
    """A credential's value, also where the workspace is used without being initialized.

    dagster-fivetran's polling sensor calls the workspace object it was built with, not the
    resource Dagster initializes for a run: its `EnvVar` fields still hold variable names,
    and requests would carry the name as the key. Read from the environment at call time.
    """
    if not isinstance(value, dg.EnvVar):
        return value
    resolved = value.get_value()
    if not resolved:
        raise dg.DagsterInvariantViolationError(
            f"{value.env_var_name} is not set: the Fivetran API cannot be called"
        )
    return resolved


class DdrcFivetranWorkspace(FivetranWorkspace):
    """A `FivetranWorkspace` whose API base URL and poll timing are configurable."""

    api_url: str = Field(default=PUBLIC_API_URL, description="Base URL of the Fivetran REST API.")
    poll_interval: float = Field(
        default=DEFAULT_POLL_INTERVAL, description="Seconds between polls of a running sync."
    )
    poll_timeout: float | None = Field(
        default=None, description="Seconds before a sync still running fails the step."
    )

    @cached_method
    def get_client(self) -> DdrcFivetranClient:
        return DdrcFivetranClient(
            api_url=self.api_url,
            poll_interval=self.poll_interval,
            poll_timeout=self.poll_timeout,
            api_key=_resolved(self.api_key),
            api_secret=_resolved(self.api_secret),
            request_max_retries=self.request_max_retries,
            request_retry_delay=self.request_retry_delay,
            request_backoff_factor=self.request_backoff_factor,
            disable_schedule_on_trigger=self.disable_schedule_on_trigger,
            retry_on_reschedule=self.retry_on_reschedule,
        )


def generating_snapshot(workspace: FivetranWorkspace) -> bool:
    """Whether `dagster-fivetran snapshot` is loading the definitions right now.

    The command tells the workspace by an environment variable of its own, upon which a
    workspace with a snapshot path reads no snapshot: asking the workspace keeps that
    variable (and the environment) out of the platform.
    """
    return bool(workspace.snapshot_path) and workspace.snapshot is None


def snapshot_accounts(workspace: FivetranWorkspace) -> dict[str, bool]:
    """The Fivetran accounts the workspace's snapshot holds -> whether the library can read
    that account's state back (0.29 writes it wrapped, unreadably, when given `-a`)."""
    held = workspace.snapshot.reconstruction_metadata if workspace.snapshot else {}
    prefix = f"{FIVETRAN_RECONSTRUCTION_METADATA_KEY_PREFIX}/"
    return {
        key.removeprefix(prefix): isinstance(state, str)
        for key, state in held.items()
        if key.startswith(prefix)
    }


def connectors_named(names: Collection[str]) -> ConnectorSelectorFn:
    """A selector of the connectors whose name, in any case, is one of `names` (lower case);
    the connector type a selector is given is not exported."""

    def selected(connector: FivetranConnector) -> bool:
        return connector.name.lower() in names

    return selected
