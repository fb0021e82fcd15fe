"""Metrics: the numbers on the DDRC website right now, and whether to trust each one."""

from __future__ import annotations

import cards
import data
import pandas as pd
import streamlit as st
import ui

COLUMNS = 3
SECTIONS = (
    (
        "pipeline",
        "Computed from the source data",
        "Recomputed on every run from the latest snapshot of the EPA, USACE, Pasadena and "
        "Malibu sources.",
    ),
    (
        "airtable",
        "Entered by hand in Airtable",
        "The latest entry of each metric in the Airtable base; no history is kept for "
        "these, so they show no change.",
    ),
)


def status(row: pd.Series) -> str:
    words = []
    if row["freshness"] in (data.Freshness.STALE, data.Freshness.LATE):
        words.append(str(row["freshness"]).capitalize())
    if ui.is_set(row["held_back"]):
        words.append("Held back")
    return " · ".join(words) or "OK"


settings = ui.settings()
st.title("Recovery metrics")
st.caption("The numbers on the DDRC website right now, as `ddrc-metrics.json` publishes them.")
frame = ui.read(data.metrics, settings)
versions = ui.read(data.publications, settings)

last_published = versions["published_at"].max() if not versions.empty else None
summary = st.columns(4)
summary[0].metric("Numbers on the site", int(frame["metric_value"].notna().sum()), border=True)
summary[1].metric(
    "Stale",
    int((frame["freshness"] == data.Freshness.STALE).sum()),
    help="Their source has not loaded within its freshness window.",
    border=True,
)
summary[2].metric(
    "Held back",
    int(frame["held_back"].sum()),  # NA (unknown) counts as not held back
    help="The pipeline computed another value, but a blocking check kept it off the site.",
    border=True,
)
summary[3].metric(
    "Last published",
    ui.age(last_published),
    help=f"{ui.moment(last_published)}; {len(versions)} published versions kept.",
    border=True,
)
if frame["held_back"].isna().all():
    st.caption(
        "Changes and held-back checks need the warehouse's marts: they appear after the "
        "next full run (`./ddrc run`)."
    )

for source, heading, note in SECTIONS:
    rows = frame[frame["metric_source"] == source]
    if rows.empty:
        continue
    st.subheader(heading)
    st.caption(note)
    for start in range(0, len(rows), COLUMNS):
        for column, row in zip(
            st.columns(COLUMNS), rows.iloc[start : start + COLUMNS].itertuples(), strict=False
        ):
            with column:
                cards.metric_card(row)

with st.expander("All numbers as a table"):
    st.dataframe(
        frame.assign(
            status=frame.apply(status, axis=1),
            last_updated=frame["last_updated"].dt.tz_convert(data.PACIFIC),
        ),
        hide_index=True,
        width="stretch",
        column_order=[
            "title",
            "metric_value",
            "metric_unit_label",
            "change_7d",
            "change_30d",
            "status",
            "last_updated",
            "trend",
            "metric_name",
            "update_frequency",
        ],
        column_config={
            "title": "Metric",
            "metric_value": st.column_config.NumberColumn("Value", format="localized"),
            "metric_unit_label": "Unit",
            "change_7d": st.column_config.NumberColumn("7 days", format="%+.0f"),
            "change_30d": st.column_config.NumberColumn("30 days", format="%+.0f"),
            "status": "Status",
            "last_updated": st.column_config.DatetimeColumn(
                "Source data changed (Pacific)", format="MMM D, YYYY, h:mm A"
            ),
            "trend": st.column_config.LineChartColumn("History"),
            "metric_name": "Machine name",
            "update_frequency": "Updated",
        },
    )
