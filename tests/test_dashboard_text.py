"""Text from sources and people is shown as typed on the dashboard, never as markup.

Streamlit renders labels, captions, help texts, badges and `st.markdown` as Markdown. A
metric card and an incident card (`dashboards/cards.py`) are rendered with Streamlit's
AppTest on values full of markup (a Slack mention and link, HTML, Markdown emphasis,
links, images, code, a heading, Streamlit's colour directive and emoji shortcodes,
LaTeX); every element's Markdown is then rendered by a CommonMark renderer, which must
produce no markup and show the typed text literally.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"
MARKUP = (
    "<!channel> <http://evil.example|click> <b>bold</b> **strong** _em_ "
    "[link](http://evil.example) ![pixel](http://evil.example/p.png) `code` "
    ":red[red] :material/warning: :smile: $x^2$ ~~gone~~ &lt;i&gt;"
)
# the cards' own markup around the source text: a paragraph, a heading, bold, a line break
OWN_TAGS = re.compile(r"</?(?:p|h4|strong)>|<br />")
# anything else in a rendering came from the source text
MARKUP_TAGS = re.compile(r"<[a-z/!]", re.IGNORECASE)
WORD_JOINER = "\u2060"


def metric_card_page(markup: str) -> None:
    """The metric card, on a row whose every source text is `markup`."""
    import math
    from types import SimpleNamespace

    import cards
    import pandas as pd

    now = pd.Timestamp("2025-06-02T19:30Z")
    cards.metric_card(
        SimpleNamespace(
            title=markup,
            description=markup,
            metric_unit_label=f"# {markup}",  # first in its caption: a heading, were it Markdown
            update_frequency=markup,
            source_title=markup,
            freshness="stale",
            held_back=True,
            metric_value=61000.0,
            summary_value=62000.0,
            metric_type="count",
            change_7d=5.0,
            change_30d=math.nan,
            trend=[1.0, 2.0],
            last_load=now,
            last_updated=now,
            stale_after=pd.Timedelta(hours=30),
        )
    )


def incident_card_page(markup: str) -> None:
    """The incident card, on an incident whose titles and names are `markup`."""
    from types import SimpleNamespace

    import cards
    import pandas as pd

    cards.incident_card(
        SimpleNamespace(
            severity="low",
            public_view=markup,
            kind="Publication held back",
            title=markup,
            occurrences=2,
            opened_at=pd.Timestamp("2025-06-02T19:30Z"),
            act_now=True,
            responder=markup,
            deferred_until=None,
            affected_metrics=[markup],
            escalation=[markup],
            runbook=["Open the run."],
            run_url=None,
            github_issue_url=None,
            error_excerpt=markup,
        )
    )


@pytest.fixture
def render(monkeypatch: pytest.MonkeyPatch):
    """A card page in AppTest, as `streamlit run` imports the dashboard's modules."""
    monkeypatch.syspath_prepend(str(DASHBOARDS))
    monkeypatch.delitem(sys.modules, "cards", raising=False)

    def run(page) -> AppTest:
        app = AppTest.from_function(page, kwargs={"markup": MARKUP}, default_timeout=60).run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return run


def markdown_bodies(app: AppTest) -> list[str]:
    """Every text the page hands Streamlit's Markdown renderer."""
    bodies = [e.value for e in (*app.markdown, *app.caption)]
    bodies += [m.label for m in app.metric] + [m.proto.help for m in app.metric]
    bodies += [e.proto.help for e in (*app.markdown, *app.caption) if e.proto.help]
    return [b for b in bodies if b]


def shown(body: str) -> tuple[str, str]:
    """(the HTML a CommonMark renderer makes of `body`, the text a reader sees)."""
    rendered = MarkdownIt("commonmark").enable("strikethrough").render(body)
    text = html.unescape(OWN_TAGS.sub("", rendered)).replace(WORD_JOINER, "")
    return OWN_TAGS.sub("", rendered), text.strip()


def assert_literal(app: AppTest) -> None:
    carrying = [b for b in markdown_bodies(app) if "channel" in b]
    assert carrying, "no element shows the source text"
    for body in carrying:
        rendered, text = shown(body)
        assert not MARKUP_TAGS.search(rendered), (body, rendered)
        assert MARKUP in text, (body, text)
        # Streamlit's own shortcodes and directives (`:red[...]`, `:smile:`) cannot form
        assert ":red[" not in body and ":smile:" not in body and ":material/" not in body


def test_the_metric_card_shows_source_text_as_typed(render):
    app = render(metric_card_page)
    assert_literal(app)
    (caption,) = [c.value for c in app.caption if "updated" in c.value]
    rendered, text = shown(caption)
    assert text.startswith(f"# {MARKUP} · updated {MARKUP}") and "<h" not in rendered


def test_the_incident_card_shows_source_text_as_typed(render):
    app = render(incident_card_page)
    assert_literal(app)
    (code,) = app.code  # the error excerpt: a code block, literal by construction
    assert code.value == MARKUP
    assert any(b.startswith("#### ") for b in markdown_bodies(app))  # the card's own heading


def test_plain_leaves_ordinary_text_as_it_is(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(DASHBOARDS))
    import ui

    for text in (
        "people helped",
        "dollars - millions",
        "Source load failed: EPA, check schema_contract",
        "raw/epa/public_status_assessment",
    ):
        assert ui.plain(text) == text
    assert ui.plain("line one\n# line two") == "line one # line two"
    assert ui.plain("1. first") == "1\\. first"
