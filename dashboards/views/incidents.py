"""Incidents: what is broken now, how bad, who acts, and the first steps to fix it.

The board is a fragment that rereads the incident store every few seconds, so an
incident the sensor opens shows here without a reload and without waiting on a cache.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cards
import data
import pandas as pd
import streamlit as st
import ui

RECENT = timedelta(days=14)


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
        st.warning(f"The incident store cannot be read right now: {ui.plain(problem)}")
        return
    st.caption(f"Checked {ui.moment(now)}; rechecked every {ui.INCIDENT_REFRESH_SECONDS} seconds.")
    ongoing = table[table["open"].astype(bool)]
    if ongoing.empty:
        st.success("No open incidents.", icon=":material/check_circle:")
    for row in ongoing.itertuples():
        cards.incident_card(row)

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
