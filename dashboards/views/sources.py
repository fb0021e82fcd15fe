"""Sources: is every raw table loading, and what is wrong with the ones that are not."""

from __future__ import annotations

import data
import pandas as pd
import streamlit as st
import ui

COLORS = {  # the badge colors, as text colors of the table's freshness column
    data.Freshness.FRESH: "#177245",
    data.Freshness.LATE: "#b45309",
    data.Freshness.STALE: "#b91c1c",
    data.Freshness.NEVER: "#6b7280",
}


def emphasis(states: pd.Series) -> list[str]:
    return [f"color: {COLORS[data.Freshness(state)]}; font-weight: 600" for state in states]


settings = ui.settings()
st.title("Sources")
st.caption(
    "Every raw table the pipeline loads: its last successful load, what tells us the source "
    "changed (its last edit, or what the change sensor watches instead), the rows of its "
    "latest snapshot, and whether it is recent enough for its freshness policy."
)
table = ui.read(data.sources, settings)
try:
    incidents = data.incidents(settings)
except data.UnavailableError as problem:
    st.warning(f"Open incidents cannot be shown: {ui.plain(problem)}")
    incidents = pd.DataFrame(columns=list(data.INCIDENT_COLUMNS))
table = data.with_open_incidents(table, incidents)

counts = st.columns(len(data.Freshness))
for column, state in zip(counts, data.Freshness, strict=True):
    label, color, icon = ui.FRESHNESS_BADGES[state]
    column.metric(
        f":{color}[{icon}] {label}", int((table["freshness"] == state).sum()), border=True
    )

shown = pd.DataFrame(
    {
        "source": table["title"],
        "freshness": [
            ui.FRESHNESS_BADGES[data.Freshness(state)][0]
            + (f" · {ui.age(at)}" if pd.notna(at) else "")
            for state, at in zip(table["freshness"], table["last_load"], strict=True)
        ],
        "rows": table["row_count"],
        "incidents": table["open_incidents"],
        "last_load": table["last_load"].dt.tz_convert(data.PACIFIC),
        "change_signal": table["change_signal"],
        "policy": [
            f"late after {ui.hours(late)}, stale after {ui.hours(stale)}"
            for late, stale in zip(table["late_after"], table["stale_after"], strict=True)
        ],
        "table": table["table"],
        "url": table["source_url"],
    }
)
moment = "MMM D YYYY, h:mm A"
st.dataframe(
    shown.style.apply(lambda _: emphasis(table["freshness"]), subset=["freshness"]),
    hide_index=True,
    width="stretch",
    column_config={
        "source": st.column_config.TextColumn("Source", pinned=True),
        "freshness": "Freshness · last load",
        "rows": st.column_config.NumberColumn("Rows, latest snapshot", format="localized"),
        "incidents": st.column_config.ListColumn("Open incidents"),
        "last_load": st.column_config.DatetimeColumn("Last successful load (PT)", format=moment),
        "change_signal": st.column_config.TextColumn("Change signal at the source"),
        "policy": "Freshness policy",
        "table": "Warehouse table",
        "url": st.column_config.LinkColumn("Link", display_text="open source"),
    },
)
st.caption(
    "Snapshot tables: when the latest snapshot was loaded (a same-day reload of unchanged "
    "data keeps the earlier time) and its rows. Fivetran tables (Airtable, page feedback): "
    "the last sync that changed a row (`_FIVETRAN_SYNCED`) and the rows not deleted. A time "
    "ahead of ours is flagged ⚠: it cannot be true. Stale is what the incidents say (they "
    "judge each source's last successful run); without an incident a source is at most late."
)

troubled = table[table["open_incidents"].map(len) > 0]
if not troubled.empty:
    st.subheader("Open incidents by source")
    for source in troubled.itertuples():
        with st.container(border=True):
            label, color, icon = ui.FRESHNESS_BADGES[data.Freshness(source.freshness)]
            st.markdown(f"**{ui.plain(source.title)}** · :{color}[{icon} {label}]")
            st.markdown("\n".join(f"- {ui.plain(title)}" for title in source.open_incidents))
    st.page_link("views/incidents.py", label="What to do: Incidents", icon=":material/emergency:")
