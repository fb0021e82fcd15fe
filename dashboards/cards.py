"""The cards the pages are made of: a metric, an incident.

Every text in them that comes from a source or a person (a title or unit label typed into
Airtable, a responder's name, an incident's title) goes through `ui.plain`, so
it is shown as typed: Streamlit renders labels, captions and help as Markdown, and markup
typed upstream must not become a link, a mention, emphasis or HTML here.
"""

from __future__ import annotations

import math
from typing import Any

import data
import pandas as pd
import streamlit as st
import ui

AFFECTED_NAMED = 6


def held_back_note(row: Any) -> str:
    built = ui.number(row.summary_value, row.metric_type)
    if math.isnan(row.metric_value):
        return f"The pipeline computed {built}; it has not been published yet."
    shown = ui.number(row.metric_value, row.metric_type)
    return (
        f"The pipeline's latest summary says {built}, but the site still shows {shown}: "
        "a blocking check held publication back."
    )


def badges(row: Any) -> None:
    """Only what needs attention: a stale or late source, a value held back."""
    if row.freshness in (data.Freshness.STALE, data.Freshness.LATE):
        ui.badge(
            ui.FRESHNESS_BADGES[data.Freshness(row.freshness)],
            help=f"{ui.plain(row.source_title)} last loaded {ui.age(row.last_load)} "
            f"({ui.moment(row.last_load)}); it counts as stale after {ui.hours(row.stale_after)}.",
        )
    if ui.is_set(row.held_back):
        st.badge(
            "Held back", color="violet", icon=":material/pause_circle:", help=held_back_note(row)
        )


def change(value: float, metric_type: str, days: int) -> str | None:
    if math.isnan(value):
        return None
    return f"{ui.signed(value, metric_type)} in {days} days"


def weekly_delta(row: Any) -> int | str | None:
    """The number 0 shows as a plain zero; a signed text shows its direction by an arrow."""
    if math.isnan(row.change_7d):
        return None
    return 0 if row.change_7d == 0 else ui.signed(row.change_7d, row.metric_type)


def metric_card(row: Any) -> None:
    delta = weekly_delta(row)
    with st.container(border=True):
        st.metric(
            ui.plain(row.title),
            ui.number(row.metric_value, row.metric_type),
            delta=delta,
            delta_color="off",
            delta_description=None if delta is None else "in 7 days",
            chart_data=row.trend if isinstance(row.trend, list) and len(row.trend) > 1 else None,
            help=ui.plain(row.description) if isinstance(row.description, str) else None,
        )
        month = change(row.change_30d, row.metric_type, 30)
        st.caption(
            " · ".join(
                part
                for part in (
                    ui.plain(row.metric_unit_label),
                    f"updated {ui.plain(row.update_frequency)}",
                    month,
                )
                if part
            )
        )
        with st.container(horizontal=True, gap="small"):
            badges(row)
        st.caption(f"Source data changed {ui.moment(row.last_updated)}")


def who_acts(row: Any) -> str:
    if row.act_now:
        return f"**{ui.plain(row.responder)}**, now"
    deferred = ui.moment(row.deferred_until) if pd.notna(row.deferred_until) else None
    later = f"**{ui.plain(row.responder)}**, in business hours"
    return later + (f" (from {deferred})" if deferred else "")


def affected(metrics: list[str]) -> str:
    """Name a few; a failure upstream of the summary touches every metric."""
    if len(metrics) > AFFECTED_NAMED:
        return f"{len(metrics)} published metrics (hover to list them)"
    return ", ".join(ui.plain(m) for m in metrics) or "none of the published ones"


def incident_card(row: Any) -> None:
    with st.container(border=True):
        with st.container(horizontal=True, gap="small"):
            ui.badge(
                ui.SEVERITY_BADGES[row.severity],
                help=f"The team's rule: {ui.plain(row.public_view)}.",
            )
            st.badge(row.kind, color="gray")  # a FailureKind label: the platform's text
        st.markdown(f"#### {ui.plain(row.title)}")
        times = "once" if row.occurrences == 1 else f"{row.occurrences} times"
        st.caption(
            f"Opened {ui.moment(row.opened_at)} ({ui.age(row.opened_at)}) · seen {times} · "
            f"{ui.plain(row.public_view)}"
        )
        left, right = st.columns(2)
        left.markdown(
            f"Who acts: {who_acts(row)}  \nAffected metrics: {affected(row.affected_metrics)}",
            help=ui.plain(", ".join(row.affected_metrics)) or None,
        )
        escalation = " → ".join(ui.plain(name) for name in row.escalation) or "none listed"
        right.markdown(f"Escalation, in order: {escalation}")
        # the runbooks are the platform's own Markdown (commands in code spans)
        steps = "\n".join(f"{i}. {step}" for i, step in enumerate(row.runbook, 1))
        st.markdown(f"**Runbook**\n\n{steps}")
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
