"""What every page shares: settings, reading without tracebacks, and how things are worded.

Pages call `read()` for data rather than the readers directly, so that an empty
DDRC_HOME, a warehouse the pipeline is writing, or a read the role may not make all end
in a sentence a viewer understands, the same way on every page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import data
import pandas as pd
import streamlit as st

T = TypeVar("T")

INCIDENT_REFRESH_SECONDS = 15  # a new incident shows within this, on every page
NO_DATA = "No data yet — run `./ddrc run`"
BUSY_KEPT = (
    "The pipeline is writing to the warehouse right now, so these are the numbers read at "
    "{at}. Retry shortly for newer ones."
)
BUSY_EMPTY = (
    "The pipeline is writing to the warehouse right now; the numbers show again when it "
    "finishes. Retry shortly."
)

FRESHNESS_BADGES = {  # label, color, icon
    data.Freshness.FRESH: ("Fresh", "green", ":material/check_circle:"),
    data.Freshness.LATE: ("Late", "orange", ":material/schedule:"),
    data.Freshness.STALE: ("Stale", "red", ":material/history:"),
    data.Freshness.NEVER: ("Never loaded", "gray", ":material/block:"),
}
SEVERITY_BADGES = {
    "high": ("High severity", "red", ":material/priority_high:"),
    "low": ("Low severity", "orange", ":material/low_priority:"),
}


def settings() -> data.Settings:
    """The deployment's settings, or a message naming what is missing (and a stop)."""
    try:
        return data.settings()
    except data.Misconfigured as problem:
        st.warning(f"The dashboard cannot start with these settings.\n\n```\n{problem}\n```")
        st.stop()


@st.cache_resource(show_spinner=False)
def _last_reads() -> dict[tuple, tuple[datetime, Any]]:
    """The last successful read of each reader, for every session of this server."""
    return {}


def no_data(settings: data.Settings, what: str = "") -> None:
    if data.is_local(settings):
        st.info(f"{NO_DATA}{f' ({what})' if what else ''}.", icon=":material/hourglass_empty:")
    else:
        st.info(
            f"No data yet: the `{data.deployment(settings)}` pipeline has not built "
            f"{what or 'this'} yet.",
            icon=":material/hourglass_empty:",
        )


def read(reader: Callable[..., T], settings: data.Settings, *args: Any) -> T:
    """`reader(settings, *args)`, or a sentence and a stop instead of a traceback.

    While the pipeline writes, DuckDB refuses readers: the page shows what this server
    last read, with a notice, or asks to retry shortly when it has read nothing yet.
    """
    key = (reader.__name__, data.location(settings), args)
    try:
        value = reader(settings, *args)
    except data.NotBuiltError:
        no_data(settings)
        st.stop()
    except data.WarehouseBusyError:
        kept = _last_reads().get(key)
        if kept is None:
            st.info(BUSY_EMPTY, icon=":material/sync:")
            st.button("Retry", icon=":material/refresh:")
            st.stop()
        read_at, value = kept
        st.warning(BUSY_KEPT.format(at=moment(read_at)), icon=":material/sync:")
        return value
    except data.UnavailableError as problem:
        st.warning(f"This page's data cannot be read right now: {plain(problem)}")
        st.stop()
    _last_reads()[key] = (datetime.now(UTC), value)
    return value


# -- wording -------------------------------------------------------------------------


# what can start markup anywhere in a line: code, emphasis, links and images, HTML and
# entities, strikethrough, LaTeX; and a backslash, which would escape what follows it
_ALWAYS = re.compile(r"([\\`*\[\]<>&~$])")
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # intraword `_` emphasises nothing
_BLOCK_START = re.compile(r"^(\d*)([#>+=.)-])")  # a heading, quote, list or rule
_SHORTCODE = re.compile(r":(?=\w)")  # `:smile:`, `:material/x:`, `:red[x]`
_WORD_JOINER = "\u2060"  # invisible: keeps a shortcode from turning into an emoji or icon


def plain(text: object) -> str:
    """`text` as typed, for a Streamlit element that renders Markdown (a label, a caption,
    a help text, a badge): text from a source or a person must never become a link, a
    mention, emphasis, a heading or HTML. Only what could start markup is escaped, so
    ordinary text reads (and is searched) unchanged; line breaks become spaces, so no
    line of it can start a block of its own."""
    flat = " ".join(str(text).split())
    escaped = _UNDERSCORE.sub(r"\\_", _ALWAYS.sub(r"\\\1", flat))
    escaped = _BLOCK_START.sub(r"\1\\\2", escaped)
    return _SHORTCODE.sub(":" + _WORD_JOINER, escaped)


def moment(value: Any) -> str:
    """A time as Californians read it: `Dec 1, 2026, 11:29 AM PST`."""
    if value is None or pd.isna(value):
        return "—"
    local = pd.Timestamp(value).tz_convert(data.PACIFIC)
    return f"{local:%b} {local.day}, {local.year}, {local:%-I:%M %p %Z}"


def calendar_day(value: date) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def age(value: Any, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: `40 min ago`, `3 h ago`, `12 days ago`."""
    if value is None or pd.isna(value):
        return "never"
    seconds = ((now or datetime.now(UTC)) - pd.Timestamp(value)).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3_600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3_600)} h ago"
    days = int(seconds // 86_400)
    return f"{days} day{'s' if days != 1 else ''} ago"


def hours(window: timedelta) -> str:
    return f"{window.total_seconds() / 3600:g} h"


def number(value: float, metric_type: str) -> str:
    """A value as the site writes it: whole counts, dollars in millions with 2 decimals."""
    if value is None or math.isnan(value):
        return "—"
    if metric_type == "dollars - millions":
        return f"${value:,.2f}M"
    if metric_type == "count" or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def signed(change: float, metric_type: str) -> str:
    sign = "+" if change > 0 else "-" if change < 0 else "±"
    return f"{sign}{number(abs(change), metric_type)}"


def is_set(flag: Any) -> bool:
    """A nullable flag (pandas' NA where unknown) that is known to be true."""
    return bool(pd.notna(flag) and flag)


def badge(spec: tuple[str, str, str], help: str | None = None) -> None:
    label, color, icon = spec
    st.badge(label, color=color, icon=icon, help=help)


@st.fragment(run_every=INCIDENT_REFRESH_SECONDS)
def incident_status(settings: data.Settings) -> None:
    """The open-incident count in the sidebar: read afresh every few seconds."""
    try:
        table = data.incidents(settings)
    except data.UnavailableError as problem:
        st.caption(f"Incidents cannot be read: {plain(problem)}")
        return
    ongoing = table[table["open"].astype(bool)]
    if ongoing.empty:
        st.success("No open incidents", icon=":material/check_circle:")
        return
    high = int((ongoing["severity"] == "high").sum())
    words = f"{len(ongoing)} open incident{'s' if len(ongoing) != 1 else ''}"
    if high:
        st.error(f"{words}, {high} high severity", icon=":material/emergency:")
    else:
        st.warning(words, icon=":material/report:")
    st.page_link("views/incidents.py", label="See incidents", icon=":material/arrow_forward:")
