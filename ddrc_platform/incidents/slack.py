"""Incidents in Slack: one message per incident, kept up to date, and its delivery.

One parent message per incident says what broke, what the public sees, who acts and how
urgently, and the first steps. Repeats go into its thread (and the parent shows the
count) so a flapping source does not flood the channel; the resolution closes the thread
with the retro reminder. Incoming webhooks cannot thread or edit, so with a webhook only
the incident and its resolution are posted, once each.

Delivery is driven by the store: `deliver_pending` sends what Slack has not seen and
records each step as it succeeds, so Slack being down only delays messages. Notes (a
rollback, a release, the Airtable entry behind a hold) go into the thread with the
incident's next delivery: its opening, a repeat, or its resolution.

An incident is one message even when Slack's answer is lost (the connection dropped after
sending, the body cut off, the process killed before the ts was recorded): the parent
carries the incident in its metadata, and before posting it the bot looks in the channel's
history for a message carrying it; found, its ts is recorded instead of posting again.
The bot therefore needs `channels:history` (`groups:history` for a private channel) and,
when the channel is configured by name, `channels:read` (`groups:read`); without them it
posts without looking, with a warning.
"""

from __future__ import annotations

import html
import http.client
import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TextIO
from urllib.error import URLError

from ddrc_platform.core.redact import Redactor
from ddrc_platform.incidents.model import Incident, Severity
from ddrc_platform.incidents.severity import local_time, public_view
from ddrc_platform.incidents.store import DeliveryState, IncidentRow, IncidentStore

log = logging.getLogger(__name__)

RETRO = "Schedule the retro for next week."
_EMOJI = {Severity.HIGH: "🔴", Severity.LOW: "🟡"}
# Block Kit limits
_HEADER_MAX, _FIELD_MAX, _SECTION_MAX = 150, 2000, 3000
_PATTERNS_ONLY = Redactor()  # render-time default: the patterns, no explicit secret values


def _esc(text: str) -> str:
    """Escape Slack mrkdwn control characters so error text cannot become links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def humanize_duration(duration: timedelta) -> str:
    """How long an incident has lasted, as a responder reads it: "2 d 3 h", "1 h 5 min"."""
    minutes = int(duration.total_seconds()) // 60
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min"]
    return " ".join(p for p in parts if p and not (days and p.endswith("min")))


@dataclass(frozen=True)
class View:
    """An incident as the message shows it, shared by Block Kit and the console.

    `fields` are Slack mrkdwn with every value escaped, so nothing in an asset key,
    check name or title can turn into a link or a mention; the only mention is the one
    `_who_acts` adds on purpose.
    """

    headline: str  # plain text
    fields: list[tuple[str, str]]
    steps: list[str]  # plain text
    error: str  # plain text, redacted
    run_url: str | None
    issue_url: str
    footer: str

    @classmethod
    def of(
        cls,
        incident: Incident,
        occurrences: int = 1,
        resolved_at: datetime | None = None,
        redact: Callable[[str], str] = _PATTERNS_ONLY,
    ) -> View:
        severity = incident.severity.value.upper()
        history = f"{occurrences} since {local_time(incident.opened_at)}"
        if resolved_at is None:
            status = f"{_EMOJI[incident.severity]} {severity}"
        else:
            status = f"✅ Resolved · {severity}"
            history += f", resolved after {humanize_duration(resolved_at - incident.opened_at)}"
        what = f"{incident.kind.label}: " + ", ".join(f"`{_esc(k)}`" for k in incident.asset_keys)
        if incident.check_name:
            what += f"\ncheck `{_esc(incident.check_name)}`"
        metrics = _esc(", ".join(incident.affected_metrics) or "no published metric")
        seen = incident.public_impact or f"{public_view(incident.severity).capitalize()}."
        return cls(
            headline=f"{status} · {redact(incident.title)}",
            fields=[
                ("What broke", what),
                (
                    "What the public sees",
                    f"{_esc(seen)}\nMetrics: {metrics}",
                ),
                ("Who acts", _who_acts(incident, resolved=resolved_at is not None)),
                ("Occurrences", history),
                ("Escalation", _esc(", ".join(p.name for p in incident.escalation) or "none")),
                ("Deployment", f"`{_esc(incident.deployment)}`"),
            ],
            steps=list(incident.runbook[:3]),
            error=redact(incident.error_excerpt),
            run_url=incident.run_url,
            issue_url=incident.github_issue_url,
            footer=f"Incident `{_esc(incident.id)}`",
        )


def _who_acts(incident: Incident, resolved: bool = False) -> str:
    responder = _esc(incident.responder)
    if resolved:
        return f"{responder}: write the findings and fix into the GitHub issue; {RETRO.lower()}"
    if incident.responder_slack_id and incident.act_now:  # a mention pages them: only when due
        responder = f"<@{_esc(incident.responder_slack_id)}> ({responder})"
    if incident.deferred_until is not None:
        return (
            f"{responder}: deferred until {local_time(incident.deferred_until)} "
            "(low severity: no night, weekend or holiday work)"
        )
    if incident.severity is Severity.HIGH:
        return f"{responder}: *act now* (high severity)"
    return f"{responder}: act now (business hours)"


def render(
    incident: Incident,
    occurrences: int = 1,
    resolved_at: datetime | None = None,
    redactor: Callable[[str], str] = _PATTERNS_ONLY,
) -> dict[str, Any]:
    """The Block Kit message; `text` is what notifications and old clients show."""
    view = View.of(incident, occurrences, resolved_at, redactor)
    steps = "\n".join(f"{i}. {_esc(step)}" for i, step in enumerate(view.steps, 1))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(view.headline, _HEADER_MAX)},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _cut(f"*{label}*\n{value}", _FIELD_MAX)}
                for label, value in view.fields
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut(f"*Next steps*\n{steps}", _SECTION_MAX)},
        },
    ]
    buttons = [
        _button("Open the run", view.run_url, "open_run"),
        _button("Write the GitHub issue", view.issue_url, "open_issue"),
    ]
    blocks.append({"type": "actions", "elements": [b for b in buttons if b]})
    if view.error:
        code = _esc(view.error).replace("```", "`\u200b``")
        text = _cut(f"```{code}", _SECTION_MAX - 3) + "```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": view.footer}]})
    summary = f"{_esc(view.headline)}. {_who_acts(incident, resolved=resolved_at is not None)}"
    return {"text": _cut(summary, _SECTION_MAX), "blocks": blocks}


def _button(label: str, url: str | None, action_id: str) -> dict[str, Any] | None:
    if not url:
        return None
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "url": url,
        "action_id": action_id,
    }


def repeat_text(row: IncidentRow) -> str:
    run = row.incident.run_url
    latest = f"<{run}|{row.incident.run_id or 'run'}>" if run else (row.incident.run_id or "n/a")
    return f"Still failing: {row.occurrences} occurrences, latest run {latest}."


def note_text(text: str) -> str:
    """A note (a rollback, a release, the Airtable entry behind a hold) in the thread."""
    return f"📝 {text}"


def resolution_text(row: IncidentRow) -> str:
    assert row.duration is not None
    return f"✅ Resolved after {humanize_duration(row.duration)}. {RETRO}"


# -- delivery ------------------------------------------------------------------------
class DeliveryError(RuntimeError):
    """Slack did not take the message; it stays pending for the next delivery."""


class DeliveryUnknownError(DeliveryError):
    """Slack may have taken the message but its answer was lost (the connection dropped
    after sending, the body cut off): what was sent is looked up before any retry."""


# the message metadata that marks an incident's parent message, for the lookup
INCIDENT_EVENT = "ddrc_incident"
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
_LOOKBACK = timedelta(minutes=10)  # our clock against Slack's
_HISTORY_PAGES = 10  # at 200 messages a page: far more than the channel sees per incident


@dataclass(frozen=True)
class Posted:
    channel: str | None
    ts: str | None  # None where messages cannot be threaded (webhook, console)


class Notifier(Protocol):
    def post_incident(self, row: IncidentRow) -> Posted: ...

    def post_repeat(self, row: IncidentRow) -> None: ...

    def post_resolution(self, row: IncidentRow) -> None: ...

    def post_note(self, row: IncidentRow, text: str) -> None: ...


class SlackNotifier:
    """A bot token: threads repeats under the parent and keeps the parent up to date."""

    # the parent is gone or frozen: post in its thread anyway rather than stay pending
    _PERMANENT_UPDATE_ERRORS = frozenset({"message_not_found", "cant_update_message"})
    # the bot may not read the channel: post without looking rather than never post
    _LOOKUP_IMPOSSIBLE = frozenset({"missing_scope", "not_in_channel", "channel_not_found"})

    def __init__(
        self,
        token: str,
        channel: str,
        *,
        base_url: str | None = None,
        redactor: Redactor | None = None,
        timeout: int = 10,
    ) -> None:
        # imported when a bot is built, not with this module: a deployment without Slack
        # (the local default) never loads the SDK
        from slack_sdk import WebClient

        # no retry inside the client: it would resend a message whose answer was lost
        self.client = WebClient(
            token=token,
            base_url=base_url or WebClient.BASE_URL,
            timeout=timeout,
            retry_handlers=[],
        )
        self.channel = channel
        self.redact = redactor or Redactor()
        self._channel_id: str | None = channel if _CHANNEL_ID.fullmatch(channel) else None

    def _call(self, method: str, **kwargs: Any) -> Any:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            raise DeliveryError(f"Slack {method}: {exc.response.get('error')}") from None
        except (http.client.HTTPException, ValueError, TimeoutError, ConnectionError) as exc:
            raise DeliveryUnknownError(f"Slack {method}: answer lost ({exc!r})") from None
        except (SlackClientError, URLError, OSError) as exc:
            raise DeliveryError(f"Slack {method}: {exc}") from None

    def _render(self, row: IncidentRow) -> dict[str, Any]:
        return render(row.incident, row.occurrences, row.resolved_at, self.redact)

    def post_incident(self, row: IncidentRow) -> Posted:
        """Looked up first, so an earlier attempt whose answer was lost is recorded, not
        repeated; looked up again at once when this attempt's answer is lost."""
        found = self._find_posted(row)
        if found is not None:
            return found
        metadata = {
            "event_type": INCIDENT_EVENT,
            "event_payload": {"incident_id": row.id, "incident_key": row.key},
        }
        try:
            response = self._call(
                "chat_postMessage",
                channel=self.channel,
                unfurl_links=False,
                metadata=metadata,
                **self._render(row),
            )
        except DeliveryUnknownError as lost:
            try:
                found = self._find_posted(row)
            except DeliveryError as exc:
                raise DeliveryUnknownError(f"{lost}; not found yet: {exc}") from None
            if found is None:
                raise
            return found
        return Posted(response["channel"], response["ts"])

    def _find_posted(self, row: IncidentRow) -> Posted | None:
        """The incident's parent in the channel since it opened, or None; posting without
        looking (with a warning) when the bot may not read the channel."""
        try:
            channel = self._resolve_channel()
            return self._search_history(channel, row)
        except DeliveryError as exc:
            if not any(e in str(exc) for e in self._LOOKUP_IMPOSSIBLE):
                raise
            log.warning("cannot look for an earlier post of %s, posting: %s", row.id, exc)
            return None

    def _search_history(self, channel: str, row: IncidentRow) -> Posted | None:
        oldest = f"{(row.opened_at - _LOOKBACK).timestamp():.6f}"
        cursor = None
        for _ in range(_HISTORY_PAGES):
            page = self._call(
                "conversations_history",
                channel=channel,
                oldest=oldest,
                limit=200,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in page.get("messages") or []:
                if _carries(message, row):
                    return Posted(channel, message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        log.warning("looked through %d pages of history for %s: posting", _HISTORY_PAGES, row.id)
        return None

    def _resolve_channel(self) -> str:
        """conversations.history needs the channel's id; the setting may give its #name."""
        name = self.channel.lstrip("#")
        cursor = None
        while self._channel_id is None:
            page = self._call(
                "conversations_list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            ids = [c["id"] for c in page.get("channels") or [] if c.get("name") == name]
            self._channel_id = ids[0] if ids else None
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if self._channel_id is None and not cursor:
                raise DeliveryError(f"Slack conversations_list: channel_not_found ({name})")
        return self._channel_id

    def _update_parent(self, row: IncidentRow) -> None:
        try:
            self._call(
                "chat_update", channel=row.slack_channel, ts=row.slack_ts, **self._render(row)
            )
        except DeliveryError as exc:
            if not any(e in str(exc) for e in self._PERMANENT_UPDATE_ERRORS):
                raise
            log.warning("cannot update the Slack message of %s: %s", row.id, exc)

    def _reply(self, row: IncidentRow, text: str) -> None:
        self._call(
            "chat_postMessage",
            channel=row.slack_channel,
            thread_ts=row.slack_ts,
            text=self.redact(text),
            unfurl_links=False,
        )

    # The parent update is idempotent and goes first; the reply, which is not, goes last,
    # so a failure in between repeats only the harmless part.
    def post_repeat(self, row: IncidentRow) -> None:
        if row.slack_ts is None:  # posted through a webhook before: nothing to thread onto
            return
        self._update_parent(row)
        self._reply(row, repeat_text(row))

    def post_resolution(self, row: IncidentRow) -> None:
        if row.slack_ts is None:
            self._call("chat_postMessage", channel=self.channel, text=resolution_text(row))
            return
        self._update_parent(row)
        self._reply(row, resolution_text(row))

    def post_note(self, row: IncidentRow, text: str) -> None:
        if row.slack_ts is not None:  # escaped: an Airtable name must not become a mention
            self._reply(row, note_text(_esc(text)))


def _carries(message: dict[str, Any], row: IncidentRow) -> bool:
    """Whether a channel message is this incident's parent (by the metadata it was sent with)."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == INCIDENT_EVENT and (
        payload.get("incident_id"),
        payload.get("incident_key"),
    ) == (row.id, row.key)


class WebhookNotifier:
    """An incoming webhook: it cannot thread or edit, so the incident and its resolution only."""

    def __init__(self, url: str, *, redactor: Redactor | None = None, timeout: int = 10) -> None:
        from slack_sdk.webhook import WebhookClient  # as in SlackBot: only when built

        self.client = WebhookClient(url, timeout=timeout)
        self.redact = redactor or Redactor()

    def _send(self, **payload: Any) -> None:
        from slack_sdk.errors import SlackClientError

        try:
            response = self.client.send(unfurl_links=False, **payload)
        except (SlackClientError, URLError, OSError) as exc:
            raise DeliveryError(f"Slack webhook: {exc}") from None
        if response.status_code != 200 or response.body != "ok":
            raise DeliveryError(f"Slack webhook: HTTP {response.status_code} {response.body[:200]}")

    def post_incident(self, row: IncidentRow) -> Posted:
        self._send(**render(row.incident, row.occurrences, row.resolved_at, self.redact))
        return Posted(None, None)

    def post_repeat(self, row: IncidentRow) -> None:
        """Repeats are not posted: without threads they would flood the channel."""

    def post_resolution(self, row: IncidentRow) -> None:
        text = f"{resolution_text(row)} ({self.redact(row.incident.title)})"
        self._send(text=text)

    def post_note(self, row: IncidentRow, text: str) -> None:
        """Notes are not posted: without a thread they would not say which incident."""


@dataclass
class ConsoleNotifier:
    """The local deployment without a token: print the message; the store keeps the record."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    redactor: Redactor = field(default_factory=Redactor)

    def post_incident(self, row: IncidentRow) -> Posted:
        view = View.of(row.incident, row.occurrences, row.resolved_at, self.redactor)
        lines = [view.headline]
        lines += [
            f"  {label}: {html.unescape(value)}".replace("\n", "\n    ")
            for label, value in view.fields
        ]
        lines += [f"  {i}. {step}" for i, step in enumerate(view.steps, 1)]
        lines += [f"  Run: {view.run_url}"] if view.run_url else []
        lines += [f"  Issue: {view.issue_url}"]
        lines += [f"  | {line}" for line in view.error.splitlines()]
        print("\n".join(lines), file=self.stream, flush=True)
        return Posted(None, None)

    def post_repeat(self, row: IncidentRow) -> None:
        print(f"{row.incident.title}: {repeat_text(row)}", file=self.stream, flush=True)

    def post_resolution(self, row: IncidentRow) -> None:
        print(f"{row.incident.title}: {resolution_text(row)}", file=self.stream, flush=True)

    def post_note(self, row: IncidentRow, text: str) -> None:
        text = self.redactor(note_text(text))
        print(f"{row.incident.title}: {text}", file=self.stream, flush=True)


def make_notifier(
    *,
    channel: str | None = None,
    token: str | None = None,
    webhook_url: str | None = None,
    base_url: str | None = None,
    redactor: Redactor | None = None,
) -> Notifier:
    """The bot when a token (and channel) is set, else the webhook, else the console."""
    if token:
        if not channel:
            raise ValueError("a Slack bot token needs a channel to post to")
        return SlackNotifier(token, channel, base_url=base_url, redactor=redactor)
    if webhook_url:
        return WebhookNotifier(webhook_url, redactor=redactor)
    return ConsoleNotifier(redactor=redactor or Redactor())


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)  # incident ids with a step delivered
    failed: dict[str, str] = field(default_factory=dict)  # incident id -> error


def deliver_pending(
    store: IncidentStore,
    notifier: Notifier,
    *,
    lease: timedelta = timedelta(minutes=2),
) -> DeliveryReport:
    """Send Slack everything it has not seen; what fails stays pending for the next call.

    Each step is recorded as soon as Slack accepts it, and rows are claimed first (for
    `lease`, on the wall clock) so two concurrent callers never send the same step.
    """
    report = DeliveryReport()
    for row in store.claim_pending(datetime.now(UTC), lease):
        try:
            if not row.posted:
                posted = notifier.post_incident(row)
                row = store.mark_delivered(
                    row.key, occurrences=row.occurrences, channel=posted.channel, ts=posted.ts
                )
            elif row.resolved_at is None and row.occurrences > row.delivered_occurrences:
                notifier.post_repeat(row)
                row = store.mark_delivered(row.key, occurrences=row.occurrences)
            for note_id, text in store.undelivered_notes(row.key):
                notifier.post_note(row, text)
                store.mark_note_delivered(note_id)
            if row.resolved_at is not None and not row.resolution_delivered:
                notifier.post_resolution(row)
                store.mark_delivered(row.key, occurrences=row.occurrences, resolution=True)
            report.delivered.append(row.id)
        except DeliveryError as exc:
            log.warning("incident %s not delivered yet: %s", row.id, exc)
            report.failed[row.id] = str(exc)
        finally:
            store.release(row.key)
    return report


def deliver_unstored(
    incident: Incident, notifier: Notifier, problem: str, stream: TextIO | None = None
) -> None:
    """An incident the store could not keep, straight to Slack and the console.

    The store's failure is often the incident's cause (a full disk holds both), so nothing
    here writes anywhere but the console and Slack. A bot looks in the channel first, so a
    later tick reporting it again finds its message rather than posting twice; a failed
    Slack post is said on the console, never raised.
    """
    out = stream or sys.stderr
    print(f"INCIDENT (not stored: {problem})", file=out, flush=True)
    row = IncidentRow(
        key=0,
        incident=incident,
        occurrences=1,
        opened_at=incident.opened_at,
        updated_at=incident.opened_at,
        resolved_at=None,
        delivered_occurrences=0,
        resolution_delivered=False,
        slack_channel=None,
        slack_ts=None,
        delivery_state=DeliveryState.PENDING,
    )
    ConsoleNotifier(out).post_incident(row)
    if isinstance(notifier, ConsoleNotifier):
        return
    try:
        notifier.post_incident(row)
    except DeliveryError as error:
        print(f"Slack did not take it either: {error}", file=out, flush=True)
