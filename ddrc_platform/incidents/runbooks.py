"""What to do next, per failure kind and asset, and the GitHub issue to write it up in.

The first three steps are what the Slack message shows, so they are ordered by how often
they fix the problem: look at the failing thing (with its source URL), apply the usual
fix (rerun the loader, re-trigger the Fivetran sync, revert the Airtable entry, roll
back the publication), then rerun. Asking the front-end team comes last, as the team's
process says. The steps are data, one `RUNBOOKS` entry per kind, so editing what responders
read is editing text, and a test sees that every kind has its entry. The commands they name
come from `core/commands.py`, spelt as `./ddrc` parses them, and a test runs each one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum
from urllib.parse import urlencode

from ddrc_platform.core import catalog, commands
from ddrc_platform.core.names import PUBLISH_KEY as PUBLISH_ASSET
from ddrc_platform.incidents.model import FailureKind, Incident
from ddrc_platform.incidents.severity import public_view

DEFAULT_REPO = "cagov/ddrc-platform"
ROLLBACK_COMMAND = commands.rollback()
PUBLISH_KEY = PUBLISH_ASSET.to_user_string()
FRONT_END = (
    "Last resort: ask the front-end team to hide or annotate the affected numbers on the "
    "site until the file is right."
)

_TABLES = {t.asset_key.to_user_string(): t for t in catalog.RAW_TABLES}
_FIVETRAN = {t.asset_key.to_user_string() for t in catalog.FIVETRAN_TABLES}
_AIRTABLE = catalog.AIRTABLE_METRICS.asset_key.to_user_string()


def materialize(keys: Sequence[str]) -> str:
    """The command that reruns these assets for today and everything below them, through
    the usual checks (a rerun that stopped short would leave the public file behind): a
    source by `./ddrc reload`, anything else by `./ddrc run --select 'KEY+'`."""
    if keys and all(k in _TABLES for k in keys):
        return " then ".join(f"`{commands.reload(k)}`" for k in keys)
    return f"`{commands.run(keys, downstream=True)}`"


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
        return f"Reload `{key}` from its source and rerun what it feeds: {materialize([key])}."
    return (
        f"Re-trigger the Fivetran sync of `{key}` (Fivetran UI: Sync now, or {materialize([key])})"
        " and watch its sync log."
    )


def _rerun_loader(keys: Sequence[str], fivetran: bool) -> str:
    if all(k in _FIVETRAN for k in keys):
        return _fivetran_sync(keys[0], fivetran)
    named = ", ".join(f"`{k}`" for k in keys)
    return f"Rerun the loader of {named}: {materialize(keys)}."


@dataclass(frozen=True)
class _Failure:
    """What a runbook's steps may name, as `{phrase}` fields; each phrase is worked out only
    where a step names it (`str.format_map` asks for it)."""

    keys: Sequence[str]
    check_name: str | None
    affected_metrics: Collection[str]
    manual_metrics: Collection[str]
    fivetran: bool
    source_urls: Mapping[str, str]

    def __getitem__(self, phrase: str) -> str:
        return getattr(self, phrase)

    @property
    def first(self) -> str:
        return self.keys[0] if self.keys else PUBLISH_KEY

    @property
    def on_airtable(self) -> bool:
        """On Airtable's table, or on manual metrics only: fixed in Airtable, not here."""
        manual_only = bool(self.affected_metrics) and set(self.affected_metrics) <= set(
            self.manual_metrics
        )
        return _AIRTABLE in self.keys or manual_only

    @property
    def check(self) -> str:
        return f"`{self.check_name}`" if self.check_name else "the failed check"

    @property
    def look(self) -> str:
        return _look_at_source(self.first, self.source_urls)

    @property
    def look_upstream(self) -> str:
        upstream = next((k for k in self.keys if k in _TABLES), None)
        if upstream is None:
            return "Compare the numbers with the sources and the last published file."
        return _look_at_source(upstream, self.source_urls)

    @property
    def rerun_loader(self) -> str:
        return _rerun_loader(self.keys, self.fivetran)

    @property
    def sync(self) -> str:
        return _fivetran_sync(self.first, self.fivetran)

    @property
    def materialize(self) -> str:
        return materialize(self.keys)

    @property
    def dbt_build(self) -> str:
        """dbt by hand on the first failed model (its key's last part names it)."""
        return f"`{commands.dbt_build(self.first.rsplit('/', 1)[-1])}`"

    @property
    def manual(self) -> str:
        named = self.manual_metrics or self.affected_metrics
        return ", ".join(f"`{m}`" for m in named) or "the manual metrics"

    @property
    def airtable_sync(self) -> str:
        return _fivetran_sync(_AIRTABLE, self.fivetran)


class Case(StrEnum):
    """Where a kind's usual fix differs: the failure's own steps replace the kind's."""

    AIRTABLE = "airtable"  # `_Failure.on_airtable`
    FIVETRAN_TABLE = "fivetran_table"  # the first asset is a table Fivetran lands


@dataclass(frozen=True)
class Runbook:
    """One kind's steps: text whose `{phrase}` fields the failure fills in when rendered."""

    steps: tuple[str, ...]  # `{phrase}` fields: the properties of `_Failure`
    cases: Mapping[Case, tuple[str, ...]] = field(default_factory=dict)
    front_end: bool = False  # the public file is wrong: the front-end team comes last


_AIRTABLE_STEPS = (
    'Open the latest Airtable entries for {manual} (base "LA recovery metrics"): '
    "who changed them, when, and what the value was before.",
    "Revert the Airtable entry to its last good value (or correct it with its metric "
    "contact), rather than loosening the check.",
    "{airtable_sync}",
)
_PUBLISH = materialize([PUBLISH_KEY])
_CHECK_FAILED = Runbook(
    (
        "Read {check} on `{first}` in the run: which rows or metrics broke it.",
        "{look_upstream}",
        "If the agency changed its reporting, change the metric definition in one "
        "reviewed edit; if a code change caused it, revert it; then rerun: "
        "{materialize}.",
    ),
    cases={Case.AIRTABLE: _AIRTABLE_STEPS},
)

RUNBOOKS: Mapping[FailureKind, Runbook] = {
    FailureKind.SOURCE_LOAD_FAILED: Runbook(
        (
            "{look}",
            "{rerun_loader}",
            "If the source is down, leave it: the site keeps the last good data. "
            "Rerun once it answers and note the outage in the issue.",
        )
    ),
    FailureKind.SCHEMA_DRIFT: Runbook(
        (
            "{look} Compare its fields with the documented columns "
            "(`ddrc_platform/core/catalog.py`, docs/sources.md).",
            "If the agency renamed or added a field, update the catalog columns and the "
            "dbt staging model in one reviewed PR; if our own change caused it, revert it.",
            "{rerun_loader}",
        ),
        cases={
            Case.FIVETRAN_TABLE: (
                "Compare the columns Fivetran lands for `{first}` with the documented ones "
                "(`ddrc_platform/core/catalog.py`).",
                "If someone renamed or removed a field in Airtable, revert that change in "
                "Airtable; otherwise update the catalog and staging model in a reviewed PR.",
                "{sync}",
            )
        },
    ),
    FailureKind.DBT_MODEL_FAILED: Runbook(
        (
            "Read the dbt error for `{first}` in the run (by hand: {dbt_build}).",
            "If a recent change to `ddrc_dbt/` caused it, revert that change.",
            "Rerun the model and everything downstream: {materialize}.",
        )
    ),
    FailureKind.DATA_CHECK_FAILED: _CHECK_FAILED,
    FailureKind.PUBLICATION_HELD: _CHECK_FAILED,
    FailureKind.PUBLICATION_PINNED: Runbook(
        (
            "A person rolled the public file back on purpose and pinned it: read the "
            "incident's notes and the run for what was wrong with the newer version.",
            "Fix that cause (revert the change, correct the source or the Airtable entry); "
            f"the site keeps the pinned version meanwhile (`{commands.versions()}` shows it).",
            f"Then release the pin: `{commands.release()}`. The next automation tick "
            "publishes through the usual checks.",
        )
    ),
    FailureKind.PUBLISH_FAILED: Runbook(
        (
            "Read the write/upload error in the run: container, credentials, an expired "
            "SAS token or a network failure.",
            f"Rerun the publication: {_PUBLISH}.",
            "The previous file stays in place; confirm the site still shows it.",
        )
    ),
    FailureKind.PUBLISH_VERIFICATION_FAILED: Runbook(
        (
            f"Roll back the publication now: `{ROLLBACK_COMMAND}` restores the previous "
            "version from the publish history.",
            "Compare the published file with `summary/ddrc_metrics_summary` in the run to "
            "find what differs (encoding, partial upload, a concurrent writer).",
            f"Once fixed, publish again: {_PUBLISH}.",
        ),
        front_end=True,
    ),
    FailureKind.PUBLISHED_FILE_STALE: Runbook(
        (
            f"Find why publishing stopped: the latest runs of `{PUBLISH_KEY}` (held by a "
            "check? failed? schedule or sensor off?).",
            f"Fix that cause and rerun the pipeline: {_PUBLISH} once the upstream assets are good.",
            f"If the file now on the site is wrong, roll it back: `{ROLLBACK_COMMAND}`.",
        ),
        front_end=True,
    ),
    FailureKind.SOURCE_STALE: Runbook(
        (
            "{look} Has the agency updated it lately (the layer's last edit date)?",
            "{rerun_loader}",
            "If the agency stopped updating, tell its metric contact and note it in the issue.",
        )
    ),
    FailureKind.FIVETRAN_SYNC_FAILED: Runbook(
        (
            "Open the Fivetran sync log of `{first}`: auth, quota or a schema change.",
            "{sync}",
            "If a change in the Airtable base broke it (renamed table or field), revert "
            "that change in Airtable.",
        )
    ),
    FailureKind.DELIVERY_REFUSED: Runbook(
        (
            "{look} How many rows does it deliver now, and did the agency announce a rebuild "
            "or a cut?",
            "If it is an outage or a botched rebuild, leave it: the kept snapshot stays "
            "and the site shows the last good data. Rerun once it is whole: {materialize}.",
            "If the source really shrank (or was emptied), acknowledge that row count under "
            "`deliveries:` in config/acknowledgements.yaml in a reviewed PR, then rerun.",
        )
    ),
    FailureKind.BAD_SOURCE_DATA: Runbook(
        (
            "{look} The error names the record or object ids and the field: retrying cannot "
            "fix the data.",
            "Tell the layer's owner (its metric contact) what is wrong; nothing is loaded "
            "until it is fixed, and the site keeps the last good data.",
            "Rerun once the source is fixed: {materialize}.",
        ),
        cases={Case.AIRTABLE: _AIRTABLE_STEPS},
    ),
    FailureKind.WAREHOUSE_BUSY: Runbook(
        (
            "Another run (or a process such as a dashboard, or dbt run by hand) held the "
            "warehouse: look for a run still in progress in the Dagster UI.",
            "Let it finish (or stop it); do not delete the lock file.",
            "Rerun: {materialize}.",
        )
    ),
    FailureKind.RUN_HUNG: Runbook(
        (
            "Open the run: which step is still going, and what did it log last? A source "
            "that trickles its answer or a lock held elsewhere are the usual causes.",
            "Terminate the run in the Dagster UI if it is still going: it holds the "
            "publishing slot, and the site keeps the last good data meanwhile.",
            f"Rerun the pipeline (`{commands.run()}`); if the same step hangs again, "
            "treat its source as down.",
        )
    ),
    FailureKind.RUN_FAILED: Runbook(
        (
            "Open the run and read the first failed step.",
            "Re-execute the run from failure in the Dagster UI.",
            "If a deploy just preceded it, revert that change.",
        )
    ),
    FailureKind.WAREHOUSE_CORRUPT: Runbook(
        (
            "The warehouse file itself is broken, not a source: do not rerun the loaders "
            "against it, and do not delete it (the kept snapshots are the history).",
            "Check the disk it lives on (space, errors in the system log), then restore the "
            "file from the latest backup or volume snapshot.",
            "Without a backup, move the broken file aside and rebuild: a full pipeline run "
            "reloads today's snapshots; earlier days' history is lost and must be noted.",
        )
    ),
    FailureKind.DISK_FULL: Runbook(
        (
            "Free space on the disk named in the error (old run logs under the home's logs/, "
            "Dagster's run storage, dbt's target/); the incident store may be on it too.",
            "Check the last published file is whole and still live; it is never written "
            "partially, so it should be.",
            "Rerun the pipeline once there is space again.",
        )
    ),
}


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
    """Steps for this failure of these assets, most useful first (`RUNBOOKS[kind]`).

    `manual_metrics` are the affected metrics that come from Airtable: a check that fails
    on them alone is fixed by reverting the Airtable entry, not by touching the pipeline.
    """
    failure = _Failure(
        list(asset_keys), check_name, affected_metrics, manual_metrics, fivetran, source_urls
    )
    entry = RUNBOOKS[kind]
    holds = {Case.AIRTABLE: failure.on_airtable, Case.FIVETRAN_TABLE: failure.first in _FIVETRAN}
    steps = next((steps for case, steps in entry.cases.items() if holds[case]), entry.steps)
    return [step.format_map(failure) for step in steps] + ([FRONT_END] if entry.front_end else [])


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
