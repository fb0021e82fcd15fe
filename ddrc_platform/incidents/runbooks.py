"""What to do next, per failure kind and asset, and the GitHub issue to write it up in.

The first three steps are what the Slack message shows, so they are ordered by how often
they fix the problem: look at the failing thing (with its source URL), apply the usual
fix (rerun the loader, re-trigger the Fivetran sync, revert the Airtable entry, roll
back the publication), then rerun. Asking the front-end team comes last, as the team's
process says.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC
from typing import assert_never
from urllib.parse import urlencode

from ddrc_platform.core import catalog
from ddrc_platform.core.names import PUBLISH_KEY as PUBLISH_ASSET
from ddrc_platform.incidents.model import FailureKind, Incident
from ddrc_platform.incidents.severity import public_view

DEFAULT_REPO = "cagov/ddrc-platform"
ROLLBACK_COMMAND = "./ddrc rollback"
PUBLISH_KEY = PUBLISH_ASSET.to_user_string()
FRONT_END = (
    "Last resort: ask the front-end team to hide or annotate the affected numbers on the "
    "site until the file is right."
)

_TABLES = {t.asset_key.to_user_string(): t for t in catalog.RAW_TABLES}
_FIVETRAN = {t.asset_key.to_user_string() for t in catalog.FIVETRAN_TABLES}
_AIRTABLE = catalog.AIRTABLE_METRICS.asset_key.to_user_string()


def materialize(keys: Sequence[str], downstream: bool = False) -> str:
    selection = ",".join(f"{k}+" if downstream else k for k in keys)
    return f"`uv run dagster asset materialize -m ddrc_platform.definitions --select '{selection}'`"


def _look_at_source(key: str, source_urls: Mapping[str, str]) -> str:
    """`source_urls`: the configured (redacted) URL per raw table key, else the public one."""
    table = _TABLES.get(key)
    if table is None:
        return f"Open the run and read the error for `{key}`."
    url = source_urls.get(key, table.source_url)
    arcgis = table.family is catalog.Family.ARCGIS
    where = f"{url}{'&' if '?' in url else '?'}f=json" if arcgis else url
    step = f"Check that the source answers: {table.title} at {where}."
    return f"{step} {table.runbook_note}" if table.runbook_note else step


def _fivetran_sync(key: str, fivetran: bool) -> str:
    if not fivetran:  # the local deployment loads these tables itself
        return f"Reload `{key}` from its source: {materialize([key])}."
    return (
        f"Re-trigger the Fivetran sync of `{key}` (Fivetran UI: Sync now, or {materialize([key])})"
        " and watch its sync log."
    )


def _airtable_steps(metrics: Collection[str], fivetran: bool) -> list[str]:
    named = ", ".join(f"`{m}`" for m in metrics) or "the manual metrics"
    return [
        f'Open the latest Airtable entries for {named} (base "LA recovery metrics"): '
        "who changed them, when, and what the value was before.",
        "Revert the Airtable entry to its last good value (or correct it with its metric "
        "contact), rather than loosening the check.",
        f"{_fivetran_sync(_AIRTABLE, fivetran)} Then rerun the checks: "
        f"{materialize([_AIRTABLE], downstream=True)}.",
    ]


def _rerun_loader(keys: Sequence[str], fivetran: bool) -> str:
    if all(k in _FIVETRAN for k in keys):
        return _fivetran_sync(keys[0], fivetran)
    return f"Rerun the loader: {materialize(keys)}."


def runbook(
    kind: FailureKind,
    asset_keys: Sequence[str],
    *,
    check_name: str | None = None,
    affected_metrics: Collection[str] = (),
    manual_metrics: Collection[str] = (),
    fivetran: bool = True,  # dev/prd: Fivetran syncs Airtable and page feedback
    source_urls: Mapping[str, str] = {},  # raw table key -> the URL this deployment reads
) -> list[str]:
    """Steps for this failure of these assets, most useful first.

    `manual_metrics` are the affected metrics that come from Airtable: a check that fails
    on them alone is fixed by reverting the Airtable entry, not by touching the pipeline.
    """
    keys = list(asset_keys)
    first = keys[0] if keys else PUBLISH_KEY
    check = f"`{check_name}`" if check_name else "the failed check"
    manual_only = bool(affected_metrics) and set(affected_metrics) <= set(manual_metrics)
    on_airtable = _AIRTABLE in keys or manual_only

    match kind:
        case FailureKind.SOURCE_LOAD_FAILED:
            steps = [
                _look_at_source(first, source_urls),
                _rerun_loader(keys, fivetran),
                "If the source is down, leave it: the site keeps the last good data. "
                "Rerun once it answers and note the outage in the issue.",
            ]
        case FailureKind.SCHEMA_DRIFT if first in _FIVETRAN:
            steps = [
                f"Compare the columns Fivetran lands for `{first}` with the documented ones "
                "(`ddrc_platform/core/catalog.py`).",
                "If someone renamed or removed a field in Airtable, revert that change in "
                "Airtable; otherwise update the catalog and staging model in a reviewed PR.",
                _fivetran_sync(first, fivetran),
            ]
        case FailureKind.SCHEMA_DRIFT:
            steps = [
                f"{_look_at_source(first, source_urls)} Compare its fields with the documented "
                "columns (`ddrc_platform/core/catalog.py`, docs/sources.md).",
                "If the agency renamed or added a field, update the catalog columns and the "
                "dbt staging model in one reviewed PR; if our own change caused it, revert it.",
                _rerun_loader(keys, fivetran),
            ]
        case FailureKind.DBT_MODEL_FAILED:
            steps = [
                f"Read the dbt error for `{first}` in the run (locally: "
                "`cd ddrc_dbt && dbt build --select <model>`).",
                "If a recent change to `ddrc_dbt/` caused it, revert that change.",
                f"Rerun the model and everything downstream: {materialize(keys, downstream=True)}.",
            ]
        case FailureKind.DATA_CHECK_FAILED | FailureKind.PUBLICATION_HELD if on_airtable:
            steps = _airtable_steps(manual_metrics or affected_metrics, fivetran)
        case FailureKind.DATA_CHECK_FAILED | FailureKind.PUBLICATION_HELD:
            upstream = next((k for k in keys if k in _TABLES), None)
            steps = [
                f"Read {check} on `{first}` in the run: which rows or metrics broke it.",
                _look_at_source(upstream, source_urls)
                if upstream
                else "Compare the numbers with the sources and the last published file.",
                "If the agency changed its reporting, change the metric definition in one "
                "reviewed edit; if a code change caused it, revert it; then rerun: "
                f"{materialize(keys, downstream=True)}.",
            ]
        case FailureKind.PUBLISH_FAILED:
            steps = [
                "Read the write/upload error in the run: container, credentials, an expired "
                "SAS token or a network failure.",
                f"Rerun the publication: {materialize([PUBLISH_KEY])}.",
                "The previous file stays in place; confirm the site still shows it.",
            ]
        case FailureKind.PUBLISH_VERIFICATION_FAILED:
            steps = [
                f"Roll back the publication now: `{ROLLBACK_COMMAND}` restores the previous "
                "version from the publish history.",
                "Compare the published file with `summary/ddrc_metrics_summary` in the run to "
                "find what differs (encoding, partial upload, a concurrent writer).",
                f"Once fixed, publish again: {materialize([PUBLISH_KEY])}.",
            ]
        case FailureKind.PUBLISHED_FILE_STALE:
            steps = [
                f"Find why publishing stopped: the latest runs of `{PUBLISH_KEY}` (held by a "
                "check? failed? schedule or sensor off?).",
                "Fix that cause and rerun the pipeline: "
                f"{materialize([PUBLISH_KEY])} once the upstream assets are good.",
                f"If the file now on the site is wrong, roll it back: `{ROLLBACK_COMMAND}`.",
            ]
        case FailureKind.SOURCE_STALE:
            steps = [
                f"{_look_at_source(first, source_urls)} Has the agency updated it lately (the "
                "layer's last edit date)?",
                _rerun_loader(keys, fivetran),
                "If the agency stopped updating, tell its metric contact and note it in the issue.",
            ]
        case FailureKind.FIVETRAN_SYNC_FAILED:
            steps = [
                f"Open the Fivetran sync log of `{first}`: auth, quota or a schema change.",
                _fivetran_sync(first, fivetran),
                "If a change in the Airtable base broke it (renamed table or field), revert "
                "that change in Airtable.",
            ]
        case FailureKind.DELIVERY_REFUSED:
            steps = [
                f"{_look_at_source(first, source_urls)} How many rows does it deliver now, "
                "and did the agency announce a rebuild or a cut?",
                "If it is an outage or a botched rebuild, leave it: the kept snapshot stays "
                f"and the site shows the last good data. Rerun once it is whole: "
                f"{materialize(keys)}.",
                "If the source really shrank (or was emptied), acknowledge that row count under "
                "`deliveries:` in config/acknowledgements.yaml in a reviewed PR, then rerun.",
            ]
        case FailureKind.BAD_SOURCE_DATA if on_airtable:
            steps = _airtable_steps(manual_metrics or affected_metrics, fivetran)
        case FailureKind.BAD_SOURCE_DATA:
            steps = [
                f"{_look_at_source(first, source_urls)} The error names the record or object "
                "ids and the field: retrying cannot fix the data.",
                "Tell the layer's owner (its metric contact) what is wrong; nothing is loaded "
                "until it is fixed, and the site keeps the last good data.",
                f"Rerun once the source is fixed: {materialize(keys)}.",
            ]
        case FailureKind.WAREHOUSE_BUSY:
            steps = [
                "Another run (or a process such as a dashboard or `./ddrc dbt`) held the "
                "warehouse: look for a run still in progress in the Dagster UI.",
                "Let it finish (or stop it); do not delete the lock file.",
                f"Rerun: {materialize(keys, downstream=True)}.",
            ]
        case FailureKind.RUN_HUNG:
            steps = [
                "Open the run: which step is still going, and what did it log last? A source "
                "that trickles its answer or a lock held elsewhere are the usual causes.",
                "Terminate the run in the Dagster UI if it is still going: it holds the "
                "publishing slot, and the site keeps the last good data meanwhile.",
                "Rerun the pipeline; if the same step hangs again, treat its source as down.",
            ]
        case FailureKind.RUN_FAILED:
            steps = [
                "Open the run and read the first failed step.",
                "Re-execute the run from failure in the Dagster UI.",
                "If a deploy just preceded it, revert that change.",
            ]
        case _:
            assert_never(kind)
    if kind in (FailureKind.PUBLISH_VERIFICATION_FAILED, FailureKind.PUBLISHED_FILE_STALE):
        steps.append(FRONT_END)
    return steps


def github_issue_url(incident: Incident, repo: str = DEFAULT_REPO, max_length: int = 2900) -> str:
    """A pre-filled "new issue" link holding the findings so far and the team's sections.

    Capped at `max_length` (Slack refuses button URLs over 3000 characters): the error
    excerpt is shortened first, then the body itself, until the link fits.
    """
    labels = f"incident,severity-{incident.severity.value}"
    title = f"[{incident.severity.value.upper()}] {incident.title}"[:200]
    error = incident.error_excerpt
    body = _issue_body(incident, error)
    while True:
        query = urlencode({"title": title, "body": body, "labels": labels})
        url = f"https://github.com/{repo}/issues/new?{query}"
        if len(url) <= max_length:
            return url
        if error:
            error = error[: len(error) // 2]
            body = _issue_body(incident, error)
        else:
            body = body[: len(body) // 2] + "\n… (cut to fit a link; see the Slack message)"


def _issue_body(incident: Incident, error: str) -> str:
    opened = incident.opened_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Findings so far (filled in by the platform)",
        f"- Kind: {incident.kind.label} (`{incident.kind.value}`), severity "
        f"{incident.severity.value} ({public_view(incident.severity)})",
        f"- Assets: {', '.join(f'`{k}`' for k in incident.asset_keys) or 'none'}",
        f"- Affected metrics: {', '.join(incident.affected_metrics) or 'none'}",
        f"- Run: {incident.run_url or incident.run_id or 'none'}",
        f"- Opened: {opened}, deployment `{incident.deployment}`",
    ]
    if incident.check_name:
        lines.append(f"- Check: `{incident.check_name}`")
    if error:
        lines += ["", "```", error.replace("```", "'''"), "```"]
    lines += [
        "",
        "## Runbook",
        *(f"{i}. {step}" for i, step in enumerate(incident.runbook, 1)),
        "",
        "## Findings",
        "",
        "## Fix",
        "",
        "## Retro",
        "(schedule for the week after resolution)",
    ]
    return "\n".join(lines)
