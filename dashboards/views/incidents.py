"""Incidents: what is broken now, how bad, who acts, and the first steps to fix it.

The board is a fragment that rereads the incident store every few seconds, so an
incident the sensor opens shows here without a reload and without waiting on a cache.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import data
import pandas as pd
import streamlit as st
import ui

RECENT = timedelta(days=14)
AFFECTED_NAMED = 6


def who_acts(row: Any) -> str:
    if row.act_now:
        return f"**{row.responder}**, now"
    deferred = ui.moment(row.deferred_until) if pd.notna(row.deferred_until) else None
    return f"**{row.responder}**, in business hours" + (f" (from {deferred})" if deferred else "")


def affected(metrics: list[str]) -> str:
    """Name a few; a failure upstream of the summary touches every metric."""
    if len(metrics) > AFFECTED_NAMED:
        return f"{len(metrics)} published metrics (hover to list them)"
    return ", ".join(f"`{m}`" for m in metrics) or "none of the published ones"


def incident_card(row: Any) -> None:
    with st.container(border=True):
        with st.container(horizontal=True, gap="small"):
            ui.badge(ui.SEVERITY_BADGES[row.severity], help=f"The team's rule: {row.public_view}.")
            st.badge(row.kind, color="gray")
        st.markdown(f"#### {row.title}")
        times = "once" if row.occurrences == 1 else f"{row.occurrences} times"
        st.caption(
            f"Opened {ui.moment(row.opened_at)} ({ui.age(row.opened_at)}) · seen {times} · "
            f"{row.public_view}"
        )
        left, right = st.columns(2)
        left.markdown(
            f"Who acts: {who_acts(row)}  \nAffected metrics: {affected(row.affected_metrics)}",
            help=", ".join(row.affected_metrics) or None,
        )
        right.markdown("Escalation, in order: " + (" → ".join(row.escalation) or "none listed"))
        st.markdown(
            "**Runbook**\n\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(row.runbook, 1))
        )
        with st.container(horizontal=True, gap="small"):
            if row.run_url:
                st.link_button("Open the run", row.run_url, icon=":material/open_in_new:")
            if row.github_issue_url:
                st.link_button(
                    "Write the GitHub issue", row.github_issue_url, icon=":material/edit_note:"
                )
        if row.error_excerpt:
            with st.expander("What the failing step said"):
                st.code(row.error_excerpt, language=None)


settings = ui.settings()
st.title("Incidents")
st.caption(
    "Failures the pipeline's incident sensor recorded, open ones first: what broke, what "
    "the public sees, who acts and how soon, and what to do."
)


@st.fragment(run_every=ui.INCIDENT_REFRESH_SECONDS)
def board() -> None:
    now = datetime.now(UTC)
    try:
        table = data.incidents(settings)
    except data.UnavailableError as problem:
        st.warning(f"The incident store cannot be read right now: {problem}")
        return
    st.caption(f"Checked {ui.moment(now)}; rechecked every {ui.INCIDENT_REFRESH_SECONDS} seconds.")
    ongoing = table[table["open"].astype(bool)]
    if ongoing.empty:
        st.success("No open incidents.", icon=":material/check_circle:")
    for row in ongoing.itertuples():
        incident_card(row)

    resolved = table[~table["open"].astype(bool)]
    recent = resolved[pd.to_datetime(resolved["resolved_at"], utc=True) >= now - RECENT]
    st.subheader("Resolved in the last 14 days")
    if recent.empty:
        st.caption("None.")
        return
    st.dataframe(
        recent.assign(
            opened_at=pd.to_datetime(recent["opened_at"], utc=True).dt.tz_convert(data.PACIFIC),
            resolved_at=pd.to_datetime(recent["resolved_at"], utc=True).dt.tz_convert(data.PACIFIC),
        ),
        hide_index=True,
        width="stretch",
        column_order=["title", "severity", "kind", "opened_at", "resolved_at", "occurrences"],
        column_config={
            "title": "Incident",
            "severity": "Severity",
            "kind": "Kind",
            "opened_at": st.column_config.DatetimeColumn(
                "Opened (Pacific)", format="MMM D, YYYY, h:mm A"
            ),
            "resolved_at": st.column_config.DatetimeColumn(
                "Resolved (Pacific)", format="MMM D, YYYY, h:mm A"
            ),
            "occurrences": st.column_config.NumberColumn("Seen"),
        },
    )


board()
