"""The DDRC metrics dashboard: what the public sees, how it got there, and what is wrong.

    uv run streamlit run dashboards/app.py

Reads the deployment's warehouse and publish target through the platform's own
settings, so the same app serves the local DuckDB and Snowflake/Azure in dev and prd.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from ddrc_platform.incidents import IncidentStore
from ddrc_platform.resources import build_publisher, build_warehouse
from ddrc_platform.settings import load_settings
from ddrc_platform.transform.assets import model_relation, prepare_manifest
from ddrc_platform.transform.project import dbt_project

REFRESH_SECONDS = 300

st.set_page_config(page_title="DDRC recovery metrics", layout="wide")
settings = load_settings()


@st.cache_data(ttl=REFRESH_SECONDS)
def published() -> pd.DataFrame:
    content = build_publisher(settings).current()
    return pd.DataFrame(json.loads(content) if content else [])


@st.cache_data(ttl=REFRESH_SECONDS)
def mart(name: str) -> pd.DataFrame:
    manifest = json.loads(prepare_manifest(dbt_project(settings.deployment.value)).read_text())
    relation = model_relation(manifest, name)
    table = (
        build_warehouse(settings, layer="transformer")
        .query(f"select * from {relation}")
        .to_pandas()
    )
    return table.rename(columns=str.lower)


@st.cache_data(ttl=REFRESH_SECONDS)
def incidents() -> pd.DataFrame:
    if not settings.incident_store_path.exists():
        return pd.DataFrame()
    rows = IncidentStore(settings.incident_store_path).list_incidents()
    return pd.DataFrame(
        [
            {
                "title": r.incident.title,
                "severity": r.incident.severity.value,
                "affected metrics": ", ".join(r.incident.affected_metrics),
                "opened": r.opened_at,
                "resolved": r.resolved_at,
                "occurrences": r.occurrences,
                "run": r.incident.run_url,
            }
            for r in rows
        ]
    )


st.title("DDRC recovery metrics")
st.caption(f"Deployment `{settings.deployment.value}` · refreshed every {REFRESH_SECONDS} s")
public, trends, feedback, problems = st.tabs(
    ["Published now", "Trends", "Page feedback", "Incidents"]
)

with public:
    metrics = published()
    if metrics.empty:
        st.info("Nothing published yet: run `./ddrc run`.")
    else:
        st.metric("metrics on the public site", len(metrics))
        st.dataframe(metrics, hide_index=True, use_container_width=True)


def series_tab(frame: pd.DataFrame, pick: str, x: str, y: str, empty: str) -> None:
    """Pick one `pick` value, chart `y` over `x`, and show the rows behind the chart."""
    if frame.empty:
        st.info(empty)
        return
    chosen = st.selectbox(pick.replace("_", " "), sorted(frame[pick].unique()), index=0)
    rows = frame[frame[pick] == chosen].sort_values(x)
    rows[y] = rows[y].astype(float)
    st.line_chart(rows, x=x, y=y)
    st.dataframe(rows, hide_index=True, use_container_width=True)


with trends:
    series_tab(
        mart("metric_history"), "metric_name", "load_date", "metric_value", "No metric history yet."
    )

with feedback:
    series_tab(
        mart("page_feedback_weekly"), "page", "week_start", "helpful_rate", "No page feedback yet."
    )

with problems:
    table = incidents()
    if table.empty:
        st.success("No incidents recorded.")
    else:
        open_count = int(table["resolved"].isna().sum())
        st.metric("open incidents", open_count)
        st.dataframe(table, hide_index=True, use_container_width=True)
