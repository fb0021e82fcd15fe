"""What the public may see in each published field, decided before anything is published.

The website shows the text fields as they are and may render them as Markdown or HTML, and
Airtable is typed into by hand: a Slack mention (`<!channel>`), a link (`<http://x|y>`,
`[y](http://x)`), emphasis or a tag typed there would reach the public verbatim. So a text
field holds plain words only: letters, digits, single spaces and the few punctuation marks
real labels use (`dollars - millions`, `people's`, `(est.)`, `5%`), starting with a letter
or digit, within a length a label fits in; `METRIC_NAME` is a machine name. `LAST_UPDATED`
says when the source data last changed, so it cannot lie in the future (beyond a small
clock skew) nor before the fires the site reports on. `METRIC_VALUE` and
`UPDATE_FREQUENCY` are fixed by the JSON Schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ddrc_platform.publish.document import Metric, format_timestamp

PUBLIC_VALUES_CHECK = "published_values_are_plain"
MAX_CLOCK_SKEW = timedelta(minutes=10)  # a source's clock a little ahead of ours
FIRES_BEGAN = datetime(2025, 1, 7, 8, tzinfo=UTC)  # midnight Pacific, January 7 2025
_MARKS = " ,.'\u2019()%/-"  # the punctuation real labels use (\u2019: a typographic ')
_PLAIN = re.compile(rf"[^\W_](?:[^\W_]|[{re.escape(_MARKS)}])*")
_MACHINE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LINK = re.compile(r"www\.", re.IGNORECASE)  # autolinked by Markdown renderers


@dataclass(frozen=True)
class Violation:
    """One published field the public must not see; `reason` never repeats the value's
    markup, so the incident and Slack message naming it cannot be turned into markup."""

    metric: str
    field: str  # a key of the published file
    reason: str

    @property
    def describe(self) -> str:
        return f"{self.metric} {self.field}: {self.reason}"


def text_problem(text: str, limit: int, pattern: re.Pattern[str] = _PLAIN) -> str | None:
    """Why `text` is not plain enough for the public, or None."""
    if len(text) > limit:
        return f"{len(text)} characters, more than {limit}"
    if not pattern.fullmatch(text) or "  " in text or text.endswith(" "):
        odd = sorted({c for c in text if not (c.isalnum() or c in _MARKS)})
        shown = ", ".join(repr(c) for c in odd) or "a space, case or mark out of place"
        return f"not plain text ({shown})"
    if _LINK.search(text):
        return "holds a web address"
    return None


def timestamp_problem(moment: datetime, now: datetime) -> str | None:
    """Why `moment` cannot be when the source data last changed, as of `now`, or None."""
    if moment.tzinfo is None:  # the warehouse keeps naive UTC
        moment = moment.replace(tzinfo=UTC)
    if moment > now + MAX_CLOCK_SKEW:
        return (
            f"{format_timestamp(moment)} is in the future "
            f"(now {format_timestamp(now)}, {MAX_CLOCK_SKEW} of skew allowed)"
        )
    if moment < FIRES_BEGAN:
        return f"{format_timestamp(moment)} is before the fires began"
    return None


# field -> (its value, the pattern it must match, its length limit); the longest real unit
# label is "in unemployment assistance" (26): room for a longer one, not for a paragraph
_TEXT_FIELDS: dict[str, tuple[Callable[[Metric], str], re.Pattern[str], int]] = {
    "METRIC_NAME": (lambda m: m.name, _MACHINE_NAME, 64),
    "METRIC_TYPE": (lambda m: m.type, _PLAIN, 40),
    "METRIC_UNIT_LABEL": (lambda m: m.unit_label, _PLAIN, 60),
}


def find_unsafe_values(metrics: list[Metric], now: datetime) -> list[Violation]:
    """Every published field of `metrics` the public must not see, as of the run's `now`."""
    found = []
    for m in sorted(metrics, key=lambda m: m.name):
        for field, (value, pattern, limit) in _TEXT_FIELDS.items():
            problem = text_problem(value(m), limit, pattern)
            if problem:
                found.append(Violation(m.name, field, problem))
        problem = timestamp_problem(m.last_updated, now)
        if problem:
            found.append(Violation(m.name, "LAST_UPDATED", problem))
    return found


def unsafe_summary(violations: list[Violation]) -> str:
    """What the check tells a responder: which field of which metric, why, and where to fix."""
    if not violations:
        return "Every published text is plain and every LAST_UPDATED is a possible time."
    return (
        f"{len(violations)} published value(s) the public must not see; fix them at the "
        "source (an Airtable entry or definition, or the source's edit date): "
        + "; ".join(v.describe for v in violations)
    )
