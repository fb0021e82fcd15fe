"""The Fivetran-synced raw tables of dev/prd, declared with dagster-fivetran.

In dev and prd, `raw/airtable/metrics` (Airtable connector) and `raw/feedback/page_feedback`
(DynamoDB connector) are landed in Snowflake by Fivetran, not by our loaders. They keep
the asset keys, group, owners and freshness of the local loaders (`raw_assets`), so the
dbt models and checks downstream do not care which deployment they run in.

Definitions load from a workspace snapshot kept in the repo (`fivetran_snapshot.json`),
never from the Fivetran API: a code server starts the same whether Fivetran answers or
not. The snapshot is keyed by FIVETRAN_ACCOUNT_ID, holds connector ids, table and column
names, and connector config as the API returns it (Fivetran masks secret fields as
"******"; look before committing). Refresh it against the real Fivetran after a connector
or its schema changes:

  uv run dagster-fivetran snapshot -m ddrc_platform.ingest.fivetran \
    -o ddrc_platform/ingest/fivetran_snapshot.json

with FIVETRAN_ACCOUNT_ID, FIVETRAN_API_KEY and FIVETRAN_API_SECRET set (add
DDRC_FIVETRAN_API_URL=http://127.0.0.1:PORT to take it from the local stand-in instead).
The command finds `snapshot_definitions`, this module's only Definitions, by itself: do
not add `-a snapshot_definitions`, with which dagster-fivetran 0.29 writes a file it
cannot read back.

The committed file was taken from the stand-in (`stand_ins.fivetran`, account
`ddrc_stand_in`): its connector ids are the stand-in's, so refresh it before dev/prd run.

Materializing an asset forces a sync of its connector and polls until the sync ends
(`FivetranWorkspace.sync_and_poll`). A failed sync fails the step with a message naming
the connector and what to do. A sync Fivetran reschedules (quota) is logged and recorded
as an observation, then handled as dagster-fivetran does: the step is retried once the
rescheduled time has passed (up to DAGSTER_RESCHEDULE_MAX_RETRIES, 3).
"""

# No `from __future__ import annotations` here: Dagster reads the asset function's
# annotations at definition time (context type, resource parameter), as in defs/ingest/raw.py.
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_fivetran import (
    DagsterFivetranTranslator,
    FivetranConnectorTableProps,
    FivetranMetadataSet,
    FivetranWorkspace,
    build_fivetran_polling_sensor,
    fivetran_assets,
)

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Kind, RawTable
from ddrc_platform.core.names import INGESTION_GROUP, OWNERS, WATCH_SENSOR_PREFIX
from ddrc_platform.core.redact import Redactor
from ddrc_platform.ingest.contract import ContractReport, check_columns, enforce
from ddrc_platform.integrations.dagster_fivetran import (
    PUBLIC_API_URL,
    RESCHEDULE_MAX_RETRIES,
    DdrcFivetranWorkspace,
    connectors_named,
    generating_snapshot,
    snapshot_accounts,
)
from ddrc_platform.settings import FivetranSettings, SettingsError, fivetran_settings

FIVETRAN_RESOURCE_KEY = "fivetran"
SNAPSHOT_PATH = Path(__file__).with_name("fivetran_snapshot.json")
REFRESH_COMMAND = (
    "uv run dagster-fivetran snapshot -m ddrc_platform.ingest.fivetran "
    "-o ddrc_platform/ingest/fivetran_snapshot.json"
)
KINDS = {"fivetran", "snowflake"}
_NOT_NEEDED_TO_LOAD = "unused: specs come from the snapshot"

# Fivetran names the destination schema and table in lower case; Snowflake upper-cases them.
_TABLES = {(t.schema.lower(), t.table.lower()): t for t in catalog.FIVETRAN_TABLES}
# Only our connectors: Fivetran names a connector after its destination schema.
_is_ddrc_connector = connectors_named({schema for schema, _ in _TABLES})


def build_fivetran_workspace(
    settings: FivetranSettings, snapshot_path: Path = SNAPSHOT_PATH
) -> DdrcFivetranWorkspace:
    """The workspace resource for dev/prd, to be bound under `FIVETRAN_RESOURCE_KEY`.

    The key and secret are `EnvVar`s: Dagster resolves them from the process environment
    when a run starts, so the definitions (and the UI's resource page) hold only the
    variable names.
    """
    return DdrcFivetranWorkspace(
        account_id=settings.account_id,
        api_key=dg.EnvVar(settings.api_key.variable),
        api_secret=dg.EnvVar(settings.api_secret.variable),
        snapshot_path=str(snapshot_path),
        api_url=settings.api_url or PUBLIC_API_URL,
        poll_interval=settings.poll_interval,
        poll_timeout=settings.poll_timeout,
    )


class DdrcFivetranTranslator(DagsterFivetranTranslator):
    """Fivetran's `airtable.metrics` and `feedback.page_feedback` under the loaders' keys.

    A table of these connectors that the catalog does not know (one added in Fivetran) is
    still an asset, `raw/<schema>/<table>`, since every sync lands it anyway.
    """

    def get_asset_spec(self, props: FivetranConnectorTableProps) -> dg.AssetSpec:
        spec = super().get_asset_spec(props)
        schema, table_name = props.table.split(".")
        table = _TABLES.get((schema.lower(), table_name.lower()))
        link = f"[{props.connector_name}]({props.connector_url})"
        if table is None:
            return spec.replace_attributes(
                key=dg.AssetKey(["raw", schema.lower(), table_name.lower()]),
                group_name=INGESTION_GROUP,
                owners=OWNERS,
                kinds=KINDS,
                description=f"`{props.table}`, synced by the Fivetran connector {link}; "
                "not in the DDRC catalog.",
            )
        metadata = {
            **spec.metadata,
            "source_url": dg.MetadataValue.url(table.source_url),
            "keeping": table.keeping.value,
            "documented_columns": ", ".join(table.all_columns),
        }
        if props.database:
            metadata["dagster/table_name"] = f"{props.database}.{table.path}"
        return spec.replace_attributes(
            key=table.asset_key,
            group_name=INGESTION_GROUP,
            owners=OWNERS,
            kinds=KINDS,
            tags={"ddrc/source": table.name, "ddrc/layer": "raw"},
            freshness_policy=table.freshness,
            description=_description(table, link),
            metadata=metadata,
        )


def _description(table: RawTable, connector_link: str) -> str:
    return (
        f"**{table.title}**, landed in Snowflake by the Fivetran connector {connector_link}.\n\n"
        "Current state keyed by record id, in the table shape Fivetran lands it. "
        "Materializing forces a sync of the connector and waits for it to finish.\n\n"
        f"Warehouse table `{table.path}`. Documented columns: {', '.join(table.columns)}."
    )


def _require_snapshot(workspace: FivetranWorkspace) -> None:
    """Fail at load, with the fix, rather than silently calling the API at every start."""
    if generating_snapshot(workspace):
        return
    accounts = snapshot_accounts(workspace)
    if accounts.get(workspace.account_id):
        return
    if workspace.account_id in accounts:
        raise SettingsError(
            f"The Fivetran snapshot {workspace.snapshot_path} was taken with `-a`, which "
            f"dagster-fivetran cannot read back. Take it again, without -a: {REFRESH_COMMAND}"
        )
    raise SettingsError(
        f"The Fivetran snapshot {workspace.snapshot_path} has no workspace for "
        f"FIVETRAN_ACCOUNT_ID={workspace.account_id!r} (it holds: "
        f"{', '.join(sorted(accounts)) or 'none'}). Take one from that account: {REFRESH_COMMAND}"
    )


def build_fivetran_assets(workspace: FivetranWorkspace) -> list[dg.AssetsDefinition]:
    """One multi-asset per DDRC connector, from the snapshot; they need the resource
    `FIVETRAN_RESOURCE_KEY` bound to this workspace (a `DdrcFivetranWorkspace`)."""
    _require_snapshot(workspace)
    # Reading the snapshot needs no credentials, but initializing the workspace resolves
    # its EnvVars: load with placeholders, so definitions load where the secrets are not
    # set (CI, a laptop). Runs use the resource bound under FIVETRAN_RESOURCE_KEY.
    if not generating_snapshot(workspace):
        workspace = workspace.model_copy(
            update={"api_key": _NOT_NEEDED_TO_LOAD, "api_secret": _NOT_NEEDED_TO_LOAD}
        )
    translator = DdrcFivetranTranslator()
    specs = workspace.load_asset_specs(
        dagster_fivetran_translator=translator, connector_selector_fn=_is_ddrc_connector
    )
    missing = [t for t in catalog.FIVETRAN_TABLES if t.asset_key not in {s.key for s in specs}]
    if missing:
        raise SettingsError(
            f"No connector in the Fivetran snapshot {workspace.snapshot_path} lands "
            f"{', '.join(f'{t.schema.lower()}.{t.table.lower()}' for t in missing)} "
            "(destination schema.table). Check the connectors in Fivetran, then refresh the "
            f"snapshot: {REFRESH_COMMAND}"
        )
    connectors = sorted(
        {
            (meta.connector_id, meta.connector_name)
            for meta in (FivetranMetadataSet.extract(spec.metadata) for spec in specs)
            if meta.connector_id and meta.connector_name
        }
    )
    return [_connector_assets(workspace, translator, cid, name) for cid, name in connectors]


def build_fivetran_sensor(
    workspace: FivetranWorkspace, interval_seconds: int
) -> dg.SensorDefinition:
    """The change signal of the Fivetran tables: syncs Fivetran ran on its own schedule
    become materializations of their assets, so the automation downstream follows them
    as it follows our loaders. Syncs Dagster triggers (the daily reconcile) are recorded
    by the run itself; a sync Fivetran reschedules (quota) is handled by `_sync`."""
    return build_fivetran_polling_sensor(
        workspace=workspace,
        dagster_fivetran_translator=DdrcFivetranTranslator(),
        connector_selector_fn=_is_ddrc_connector,
        minimum_interval_seconds=interval_seconds,
        default_sensor_status=dg.DefaultSensorStatus.RUNNING,
        name=WATCH_SENSOR_PREFIX + "fivetran",
    )


def _connector_assets(
    workspace: FivetranWorkspace,
    translator: DagsterFivetranTranslator,
    connector_id: str,
    connector_name: str,
) -> dg.AssetsDefinition:
    @fivetran_assets(
        connector_id=connector_id,
        workspace=workspace,
        name=f"fivetran_sync_{connector_name.lower()}",
        dagster_fivetran_translator=translator,
    )
    def sync_connector(
        context: dg.AssetExecutionContext, fivetran: DdrcFivetranWorkspace
    ) -> Iterator[Any]:
        yield from _sync(context, fivetran, connector_id, connector_name)

    return sync_connector


def _sync(
    context: dg.AssetExecutionContext,
    fivetran: DdrcFivetranWorkspace,
    connector_id: str,
    connector_name: str,
) -> Iterator[Any]:
    """`sync_and_poll`, with failures and reschedules told in terms an on-call can act on."""
    client = fivetran.get_client()
    page = f"https://fivetran.com/dashboard/connections/{connector_id}"
    keys = ", ".join(k.to_user_string() for k in sorted(context.selected_asset_keys))
    retries = context.retry_number  # only reschedules retry this step
    started = time.perf_counter()
    reports: list[ContractReport | None] = []
    try:
        for event in fivetran.sync_and_poll(context=context):
            key = getattr(event, "asset_key", None)
            reports.append(synced_contract(key, event.metadata or {}) if key else None)
            yield event._replace(
                metadata={
                    **(event.metadata or {}),
                    "dagster/storage_kind": "snowflake",  # dagster-fivetran puts the source's
                    "sync_seconds": round(time.perf_counter() - started, 3),
                    "reschedules": retries,
                }
            )
    except dg.RetryRequested:
        status = client.last_seen.get(connector_id, {}).get("status", {})
        when = status.get("rescheduled_for", "a later time")
        told = (
            f"Fivetran rescheduled the sync of connector '{connector_name}' ({connector_id}) "
            f"to {when} (update_state={status.get('update_state')}; usually the account's "
            "sync quota)"
        )
        for key in context.selected_asset_keys:
            yield dg.AssetObservation(
                asset_key=key,
                metadata={
                    "fivetran_sync_state": "rescheduled",
                    "rescheduled_for": str(when),
                    "reschedules": retries + 1,
                    "connector_url": dg.MetadataValue.url(page),
                },
            )
        if retries < RESCHEDULE_MAX_RETRIES:
            context.log.warning(
                f"{told}. Dagster retries this step then "
                f"(retry {retries + 1} of {RESCHEDULE_MAX_RETRIES}); see {page}."
            )
            raise
        cause = f"{told}, for the {retries + 1}th time in a row."
    except Exception as exc:  # every failure gets the same actionable message
        cause = exc.description if isinstance(exc, dg.Failure) else f"{type(exc).__name__}: {exc}"
    else:
        for report in reports:
            if report is not None and report.undocumented:
                context.log.warning(report.summary)
            if report is not None:
                enforce(report)  # downstream must not build on a table that broke its contract
        return
    raise _sync_failure(fivetran, connector_id, connector_name, cause, keys)


def synced_contract(key: dg.AssetKey, metadata: Mapping[str, Any]) -> ContractReport | None:
    """The schema contract over the columns a sync reports for a catalog table (the
    connector's schema config, as dagster-fivetran puts it in `dagster/column_schema`).

    Names only: Fivetran's schema config has no column types, and the data is already in
    its table when we see them, so a broken contract fails the step (nothing downstream
    builds on it) rather than keeping an older state. None: not a catalog table, or no
    column list in the event.
    """
    table = catalog.BY_KEY.get(key)
    schema = metadata.get("dagster/column_schema")
    if table is None or schema is None:
        return None
    value = schema.value if isinstance(schema, dg.TableSchemaMetadataValue) else schema
    columns = {column.name: frozenset[Kind]() for column in value.columns}
    return check_columns(table, columns)


def _sync_failure(
    fivetran: DdrcFivetranWorkspace, connector_id: str, connector_name: str, cause: str, keys: str
) -> dg.Failure:
    """One actionable message for every way a sync fails, with Fivetran's last word on it."""
    details = fivetran.get_client().last_seen.get(connector_id, {})
    redact = Redactor([fivetran.api_key, fivetran.api_secret])
    page = f"https://fivetran.com/dashboard/connections/{connector_id}"
    return dg.Failure(
        description=redact(
            f"Fivetran sync of connector '{connector_name}' ({connector_id}) did not succeed: "
            f"{cause}\nWhat to do: open the connector in Fivetran ({page}), read its sync log "
            "(credentials, source permissions, quota, a schema change), fix what it reports, "
            f"then re-trigger the sync by materializing {keys} again (or 'Sync now' in Fivetran)."
        ),
        metadata={
            "connector_id": connector_id,
            "connector_name": connector_name,
            "connector_url": dg.MetadataValue.url(page),
            "sync_state": str(details.get("status", {}).get("sync_state")),
            "succeeded_at": str(details.get("succeeded_at")),
            "failed_at": str(details.get("failed_at")),
        },
    )


@dg.definitions
def snapshot_definitions() -> dg.Definitions:
    """The Fivetran assets alone, configured from the process environment: the target of
    the refresh command above, which needs none of the other deployment variables."""
    workspace = build_fivetran_workspace(fivetran_settings())
    return dg.Definitions(
        assets=build_fivetran_assets(workspace), resources={FIVETRAN_RESOURCE_KEY: workspace}
    )
