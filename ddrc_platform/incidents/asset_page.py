"""What an asset's page says of the incidents open on it: a failed check, not a green event.

Dagster shows an observation with a green icon, so an open incident recorded that way read
as good news. Each asset carries the check `no_open_incident` instead: failed while an
incident is open on it (its id, title, severity, runbook, run and notes), passed once none
is. What it says is decided here from the store's rows alone, so the sensor that records
it and the check run by hand say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ddrc_platform.incidents.model import Severity
from ddrc_platform.incidents.store import IncidentRow, IncidentStore

INCIDENT_CHECK = "no_open_incident"


@dataclass(frozen=True)
class PageEntry:
    """The check's verdict for one asset; `state` tells a new verdict from the one recorded."""

    passed: bool
    error: bool  # HIGH: the public file is affected; LOW is a warning
    description: str
    metadata: dict[str, str | list[str]] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return str(self.metadata.get("page_state", ""))


def page_entry(rows: Sequence[IncidentRow], notes: Mapping[int, Sequence[str]]) -> PageEntry:
    """The verdict from the incidents open on one asset (`rows`, any order) and their notes
    (by row key). The most severe, then the newest, leads; the others are named after it."""
    if not rows:
        return PageEntry(True, False, "no incident is open on this asset", {"page_state": ""})
    ordered = sorted(rows, key=lambda r: (r.incident.severity is not Severity.HIGH, -r.key))
    lead = ordered[0].incident
    lead_notes = list(notes.get(ordered[0].key, ()))
    others = [f"Also open: {r.incident.title} ({r.id})" for r in ordered[1:]]
    lines = [lead.title, lead.public_impact, *others, *(f"Note: {n}" for n in lead_notes)]
    # the ids, repeats and notes: a repeat or a new note is a new verdict for the page
    state = ";".join(f"{r.id}#{r.occurrences}#{len(notes.get(r.key, ()))}" for r in ordered)
    metadata: dict[str, str | list[str]] = {
        "incident_id": lead.id,
        "incident_title": lead.title,
        "severity": lead.severity.value,
        "runbook": list(lead.runbook),
        "notes": lead_notes,
        "page_state": state,
    }
    if lead.run_url:
        metadata["run"] = lead.run_url
    return PageEntry(
        False, lead.severity is Severity.HIGH, "\n".join(filter(None, lines)), metadata
    )


def open_by_asset(rows: Sequence[IncidentRow]) -> dict[str, list[IncidentRow]]:
    """The open incidents on each asset key (user string) they name."""
    found: dict[str, list[IncidentRow]] = {}
    for row in rows:
        if row.resolved_at is None:
            for key in row.incident.asset_keys:
                found.setdefault(key, []).append(row)
    return found


def verdicts(store: IncidentStore, keys: Sequence[str]) -> list[tuple[str, PageEntry]]:
    """Each asset's verdict (by key user string), from the incidents open in the store."""
    rows = open_by_asset(store.list_incidents(open_only=True))
    notes = {r.key: [text for _, text in store.notes(r.key)] for f in rows.values() for r in f}
    return [(key, page_entry(rows.get(key, []), notes)) for key in keys]
