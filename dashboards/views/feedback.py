"""Page feedback: how helpful the public finds each page, one website at a time.

The two sites share page paths (`/`, `/housing/`, ...), so a view never mixes them: the
site is picked first and every table and line is that site's alone.
"""

from __future__ import annotations

from datetime import date

import altair as alt
import data
import pandas as pd
import streamlit as st
import ui

CHARTED_PAGES = 4
SITE_COLOR, PAGE_COLOR = "#1f6feb", "#8250df"


def by_page(rows: pd.DataFrame) -> pd.DataFrame:
    pages = rows.groupby("page", as_index=False).agg(
        responses=("response_count", "sum"),
        helpful=("helpful_count", "sum"),
        not_helpful=("not_helpful_count", "sum"),
        weeks=("week_start", "nunique"),
    )
    pages["helpful_percent"] = 100 * pages["helpful"] / pages["responses"]
    return pages.sort_values(["responses", "page"], ascending=[False, True], ignore_index=True)


def weekly_rate(rows: pd.DataFrame) -> pd.DataFrame:
    """The site's answers per week, all pages together: helpful rate and counts."""
    weeks = rows.groupby("week_start", as_index=False)[
        ["helpful_count", "not_helpful_count", "response_count"]
    ].sum()
    return weeks.assign(helpful_rate=weeks["helpful_count"] / weeks["response_count"])


def weeks_axis(start: date, end: date) -> alt.X:
    """The picked weeks on every chart, so the site's and each page's line up."""
    domain = [alt.DateTime(year=d.year, month=d.month, date=d.day) for d in (start, end)]
    return alt.X(
        "week_start:T",
        title=None,
        scale=alt.Scale(domain=domain),
        axis=alt.Axis(format="%b %-d, %Y", grid=False, labelOverlap=True),
    )


def rate_chart(rows: pd.DataFrame, title: str, color: str, x: alt.X) -> alt.LayerChart:
    """Helpful rate per week; a dot's size is how many answered that week."""
    base = alt.Chart(rows).encode(
        x=x,
        y=alt.Y(
            "helpful_rate:Q",
            title="Helpful",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%", tickCount=5),
        ),
        tooltip=[
            alt.Tooltip("week_start:T", title="Week starting", format="%b %-d, %Y"),
            alt.Tooltip("helpful_rate:Q", title="Helpful", format=".0%"),
            alt.Tooltip("helpful_count:Q", title="Helpful answers"),
            alt.Tooltip("not_helpful_count:Q", title="Not helpful answers"),
            alt.Tooltip("response_count:Q", title="All answers"),
        ],
    )
    line = base.mark_line(color=color, strokeWidth=1.5, opacity=0.5)
    dots = base.mark_circle(color=color, opacity=0.9).encode(
        size=alt.Size(
            "response_count:Q", title="Answers", scale=alt.Scale(range=[15, 250]), legend=None
        )
    )
    return (line + dots).properties(title=alt.TitleParams(title, anchor="start"), height=200)


def answers_chart(weeks: pd.DataFrame, x: alt.X) -> alt.Chart:
    return (
        alt.Chart(weeks)
        .mark_bar(color=SITE_COLOR, opacity=0.7)
        .encode(
            x=x,
            y=alt.Y("response_count:Q", title="Answers", axis=alt.Axis(tickMinStep=1)),
            tooltip=[
                alt.Tooltip("week_start:T", title="Week starting", format="%b %-d, %Y"),
                alt.Tooltip("response_count:Q", title="Answers"),
            ],
        )
        .properties(height=110)
    )


settings = ui.settings()
st.title("Page feedback")
st.caption(
    '"Was this page helpful?" on the public websites, per page and week (weeks start on '
    "Monday, Pacific time). The public's comments are never shown here."
)
weekly = ui.read(data.page_feedback, settings)
if weekly.empty:
    ui.no_data(settings, "no page feedback has been synced")
    st.stop()

answers = weekly.groupby("site_domain")["response_count"].sum().sort_values(ascending=False)
site = st.segmented_control(
    "Website",
    list(answers.index),
    default=answers.index[0],
    required=True,
    format_func=lambda name: f"{ui.plain(name)} · {answers[name]:,} answers",
)
of_site = weekly[weekly["site_domain"] == site]
# one range for both sites: switching sites keeps the weeks picked
first_week, last_week = weekly["week_start"].min().date(), weekly["week_start"].max().date()
picked = st.date_input(
    "Weeks starting", value=(first_week, last_week), min_value=first_week, max_value=last_week
)
start, end = (picked[0], picked[-1]) if picked else (first_week, last_week)
rows = of_site[of_site["week_start"].between(pd.Timestamp(start), pd.Timestamp(end))]
if rows.empty:
    st.info("No answers on this site in these weeks.")
    st.stop()

pages = by_page(rows)
total, helpful = int(pages["responses"].sum()), int(pages["helpful"].sum())
figures = st.columns(3)
figures[0].metric("Answers", f"{total:,}", border=True)
figures[1].metric("Found it helpful", f"{helpful / total:.0%}", border=True)
figures[2].metric("Pages with answers", len(pages), border=True)

st.dataframe(
    pages,
    hide_index=True,
    width="stretch",
    column_config={
        "page": "Page",
        "responses": st.column_config.NumberColumn("Answers"),
        "helpful": st.column_config.NumberColumn("Helpful"),
        "not_helpful": st.column_config.NumberColumn("Not helpful"),
        "weeks": st.column_config.NumberColumn("Weeks with answers"),
        "helpful_percent": st.column_config.ProgressColumn(
            "Helpful rate", format="%.0f%%", min_value=0, max_value=100
        ),
    },
)

weeks, x = weekly_rate(rows), weeks_axis(start, end)
with st.container(border=True):
    st.altair_chart(rate_chart(weeks, f"{site}: all pages", SITE_COLOR, x), width="stretch")
    st.altair_chart(answers_chart(weeks, x), width="stretch")

st.subheader("By page")
charted = st.multiselect(
    "Pages to chart", list(pages["page"]), default=list(pages["page"][:CHARTED_PAGES])
)
for offset in range(0, len(charted), 2):
    for column, page in zip(st.columns(2), charted[offset : offset + 2], strict=False):
        with column, st.container(border=True):
            st.altair_chart(
                rate_chart(rows[rows["page"] == page], f"{site}{page}", PAGE_COLOR, x),
                width="stretch",
            )
