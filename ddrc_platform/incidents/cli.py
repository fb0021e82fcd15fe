"""`./ddrc incidents [show ID]`: the incident store where responders already are, a shell.

Slack may be down, or the responder may have joined after the message scrolled away; the
store is the record. One line per open or recent incident, or one incident in full: what
broke, what the public sees, who acts, the runbook, the run, Slack delivery and the notes
(rollbacks, releases, the Airtable entry behind a held publication).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ddrc_platform.incidents.severity import local_time, public_view
from ddrc_platform.incidents.slack import humanize_duration
from ddrc_platform.incidents.store import IncidentRow, IncidentStore, existing_incident_store

RECENT = timedelta(days=7)  # resolved incidents listed: about one retro cycle


def line(row: IncidentRow, now: datetime) -> str:
    state = "open" if row.resolved_at is None else "resolved"
    age = humanize_duration(now - row.opened_at)
    return f"{row.id}  {row.incident.severity.value}  {state}  {age}  {row.incident.title}"


def listing(store: IncidentStore, now: datetime) -> list[str]:
    """Open incidents, and those resolved within `RECENT`, newest first."""
    rows = [
        r for r in store.list_incidents() if r.resolved_at is None or now - r.resolved_at <= RECENT
    ]
    return [line(r, now) for r in rows]


def details(store: IncidentStore, row: IncidentRow) -> list[str]:
    incident = row.incident
    if row.resolved_at is None:
        state = f"open since {local_time(row.opened_at)}"
    else:
        state = f"resolved {local_time(row.resolved_at)}, after {humanize_duration(row.duration)}"
    what = f"{incident.kind.label}: {', '.join(incident.asset_keys) or 'pipeline run'}"
    if incident.check_name:
        what += f", check {incident.check_name}"
    if incident.deferred_until:
        when = f"deferred until {local_time(incident.deferred_until)} (low severity)"
    else:
        when = "act now" if incident.act_now else "in business hours"
    delivery = row.delivery_state.value
    if row.slack_channel:
        delivery += f" (Slack {row.slack_channel}, message {row.slack_ts or 'without thread'})"
    seen = incident.public_impact or f"{public_view(incident.severity).capitalize()}."
    lines = [
        incident.title,
        f"id:            {incident.id}",
        f"state:         {state}; {row.occurrences} occurrence(s), "
        f"last {local_time(row.updated_at)}",
        f"severity:      {incident.severity.value}",
        f"what broke:    {what}",
        f"public impact: {seen} Metrics: {', '.join(incident.affected_metrics) or 'none'}.",
        f"who acts:      {incident.responder}, {when}; escalation: "
        f"{', '.join(p.name for p in incident.escalation) or 'none'}",
        f"run:           {incident.run_url or incident.run_id or 'none'}",
        f"delivery:      {delivery}",
        f"github issue:  {incident.github_issue_url}",
    ]
    if incident.error_excerpt:
        lines += ["error:", *(f"  {text}" for text in incident.error_excerpt.splitlines())]
    lines += ["runbook:", *(f"  {i}. {step}" for i, step in enumerate(incident.runbook, 1))]
    notes = store.notes(row.key)
    if notes:
        lines += ["notes:", *(f"  {local_time(at)}: {text}" for at, text in notes)]
    return lines


def incidents(location: str, incident_id: str | None, now: datetime | None = None) -> int:
    """List (no id) or show one incident, its latest occurrence; 1 if there is no such id."""
    now = now or datetime.now(UTC)
    store = existing_incident_store(location)
    if store is None:
        print(f"no incidents recorded ({location} does not exist)")
        return 1 if incident_id else 0
    if incident_id is None:
        print("\n".join(listing(store, now)) or "no open or recent incidents")
        return 0
    matches = [r for r in store.list_incidents() if r.id == incident_id]
    if not matches:
        print(f"no incident {incident_id!r}; `./ddrc incidents` lists them")
        return 1
    print("\n".join(details(store, matches[0])))
    return 0
