"""The DDRC metrics dashboard: what the public sees, where it comes from, and what is wrong.

    uv run streamlit run dashboards/app.py

One page per question a viewer brings, in views/ (not pages/: Streamlit would serve a
`pages/` folder as pages of their own, without this navigation, when a page's URL is the
first one opened). The same app reads the local DuckDB deployment and, in dev/prd,
Snowflake (REPORTER role) and the published blob: which one is data.py's business.
"""

from __future__ import annotations

import data
import streamlit as st
import ui

st.set_page_config(
    page_title="DDRC recovery metrics", page_icon=":material/monitoring:", layout="wide"
)
settings = ui.settings()

navigation = st.navigation(
    {
        "What the public sees": [
            st.Page("views/metrics.py", title="Metrics", icon=":material/dashboard:", default=True),
            st.Page("views/trends.py", title="Trends", icon=":material/show_chart:"),
            st.Page("views/feedback.py", title="Page feedback", icon=":material/thumb_up:"),
        ],
        "Behind the numbers": [
            st.Page("views/sources.py", title="Sources", icon=":material/database:"),
            st.Page("views/incidents.py", title="Incidents", icon=":material/emergency:"),
        ],
    }
)
with st.sidebar:
    ui.incident_status(settings)
    st.caption(f"Deployment `{data.deployment(settings)}` · {data.location(settings)}")
navigation.run()
