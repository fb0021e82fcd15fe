"""Trends: each pipeline metric over its load dates, from the history mart."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import data
import pandas as pd
import streamlit as st
import ui

COLUMNS = 2
COLOR = "#1f6feb"
SINGLE_DAY_MARGIN = timedelta(days=3)  # one load date still gets an axis to sit on


def day(value: date) -> alt.DateTime:
    return alt.DateTime(year=value.year, month=value.month, date=value.day)


def trend_chart(rows: pd.DataFrame, start: date, end: date) -> alt.LayerChart:
    """Points for every load, joined by steps: a value holds until the next load changes it.

    Points, not only a line, so that a metric with a single load date still shows.
    """
    first = rows.iloc[0]
    if start == end:
        start, end = start - SINGLE_DAY_MARGIN, end + SINGLE_DAY_MARGIN
    points = rows.assign(
        shown=rows["metric_value"].map(lambda v: ui.number(v, "count")),
        source_changed=rows["last_updated"].map(ui.moment),
    )
    base = alt.Chart(points).encode(
        x=alt.X(
            "load_date:T",
            title=None,
            scale=alt.Scale(domain=[day(start), day(end)]),
            axis=alt.Axis(format="%b %-d, %Y", labelOverlap=True, grid=False),
        ),
        y=alt.Y(
            "metric_value:Q",
            title=first["unit"],
            # a flat series gets a zero baseline, or its one value would fill the axis
            scale=alt.Scale(zero=bool(points["metric_value"].nunique() == 1), nice=True),
            axis=alt.Axis(format="~s", tickCount=5),
        ),
        tooltip=[
            alt.Tooltip("load_date:T", title="Load date", format="%b %-d, %Y"),
            alt.Tooltip("shown:N", title=str(first["unit"]).capitalize()),
            alt.Tooltip("source_changed:N", title="Source data changed"),
        ],
    )
    line = base.mark_line(color=COLOR, strokeWidth=2, interpolate="step-after")
    dots = base.mark_circle(color=COLOR, size=64, opacity=1, stroke="white", strokeWidth=1.5)
    return (line + dots).properties(
        title=alt.TitleParams(first["title"], subtitle=first["metric_name"], anchor="start"),
        height=220,
    )


settings = ui.settings()
st.title("Trends")
st.caption(
    "Every pipeline metric at every load date: one point per Pacific day's snapshot, "
    "recomputed under today's rules. Hand-entered Airtable numbers keep no history."
)
history = ui.read(data.metric_history, settings)
if history.empty:
    ui.no_data(settings, "the metric history is empty")
    st.stop()

titles = history.drop_duplicates("metric_name").set_index("metric_name")["title"]
first_day, last_day = history["load_date"].min().date(), history["load_date"].max().date()
pick, span = st.columns([3, 2])
chosen = pick.multiselect(
    "Metrics",
    list(titles.index),
    default=list(titles.index),
    format_func=lambda name: titles[name],
    placeholder="Pick the metrics to chart",
)
picked = span.date_input(
    "Load dates", value=(first_day, last_day), min_value=first_day, max_value=last_day
)
start, end = (picked[0], picked[-1]) if picked else (first_day, last_day)  # mid-pick: 1 date
rows = history[
    history["metric_name"].isin(chosen)
    & history["load_date"].between(pd.Timestamp(start), pd.Timestamp(end))
]
if rows.empty:
    st.info("No loads of these metrics between these dates: widen the range or pick more.")
    st.stop()

loads = rows["load_date"].nunique()
st.caption(
    f"{loads} load date{'s' if loads != 1 else ''} between {ui.calendar_day(start)} "
    f"and {ui.calendar_day(end)}."
)
names = [name for name in chosen if name in set(rows["metric_name"])]
for offset in range(0, len(names), COLUMNS):
    for column, name in zip(st.columns(COLUMNS), names[offset : offset + COLUMNS], strict=False):
        with column, st.container(border=True):
            st.altair_chart(
                trend_chart(rows[rows["metric_name"] == name], start, end), width="stretch"
            )

with st.expander("The numbers behind the charts"):
    table = rows[["title", "metric_name", "load_date", "metric_value", "last_updated"]]
    st.dataframe(
        table.assign(last_updated=table["last_updated"].dt.tz_convert(data.PACIFIC)),
        hide_index=True,
        width="stretch",
        column_config={
            "title": "Metric",
            "metric_name": "Machine name",
            "load_date": st.column_config.DateColumn("Load date", format="MMM D, YYYY"),
            "metric_value": st.column_config.NumberColumn("Value", format="localized"),
            "last_updated": st.column_config.DatetimeColumn(
                "Source data changed (Pacific)", format="MMM D, YYYY, h:mm A"
            ),
        },
    )
    st.download_button(
        "Download CSV",
        table.to_csv(index=False),
        file_name="ddrc-metric-history.csv",
        mime="text/csv",
        icon=":material/download:",
    )
