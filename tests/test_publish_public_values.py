"""Values the public must never see: markup typed into Airtable, an edit date in the future.

The rule is a plain function (`ddrc_platform/publish/public_values.py`), tested on the real
labels (the metric catalog and the Airtable sample) and on hostile ones. Then the check
on the graph: it is blocking, the publish gate asks it (a publish step run alone holds and
names it), and the incident it raises gives its description as the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from ddrc_platform.core.names import PUBLISH_KEY, SUMMARY_KEY
from ddrc_platform.definitions import build_definitions
from ddrc_platform.incidents import FailureKind, SqliteIncidentStore
from ddrc_platform.ingest.sample import airtable as airtable_sample
from ddrc_platform.publish.checks import PublicationHeldError
from ddrc_platform.publish.document import FILE_NAME, Metric, render
from ddrc_platform.publish.public_values import (
    MAX_CLOCK_SKEW,
    PUBLIC_VALUES_CHECK,
    find_unsafe_values,
    text_problem,
    timestamp_problem,
    unsafe_summary,
)
from ddrc_platform.publish.targets.local import LocalPublisher
from ddrc_platform.settings import load_settings
from tests.support import tick

NOW = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)
CATALOG = Path(__file__).parents[1] / "ddrc_dbt" / "seeds" / "metric_catalog.csv"
HOSTILE = [
    "<!channel>",
    "<http://x|people helped>",
    "<b>people</b>",
    "**people** helped",
    "people_helped",
    "[people](http://evil.example)",
    "![x](http://evil.example/pixel.png)",
    "`people`",
    "# people",
    "- people",
    "people\nhelped",
    "$x$ people",
    "people :red[helped]",
    "people | helped",
    "see www.evil.example",
    " people",
    "people  helped",
    "x" * 61,
]


def metric(label: str = "people helped", at: dt.datetime = NOW, **fields: str) -> Metric:
    return Metric(
        fields.get("name", "people_helped_drc"),
        Decimal("61000"),
        fields.get("type", "count"),
        label,
        "daily",
        at,
    )


def real_labels() -> list[str]:
    with CATALOG.open() as rows:
        catalog = [(r["metric_type"], r["metric_unit_label"]) for r in csv.DictReader(rows)]
    sample = [(d.metric_type, d.unit_label) for d in airtable_sample._DEFINITIONS]
    return sorted({text for pair in catalog + sample for text in pair})


def test_every_real_label_and_type_is_plain_text():
    labels = real_labels()
    assert "dollars - millions" in labels and "cleanups completed" in labels
    assert [(label, text_problem(label, 60)) for label in labels] == [
        (label, None) for label in labels
    ]
    assert text_problem("people's homes (est.), 5% / 10%", 60) is None
    assert text_problem("niños atendidos", 60) is None  # any alphabet


@pytest.mark.parametrize("label", HOSTILE)
def test_markup_and_overlong_labels_are_refused(label: str):
    (violation,) = find_unsafe_values([metric(label)], NOW)
    assert (violation.metric, violation.field) == ("people_helped_drc", "METRIC_UNIT_LABEL")
    assert violation.reason
    # the reason names the characters, never repeats the markup itself
    assert "<!" not in violation.describe and "](" not in violation.describe


def test_the_type_and_the_name_are_checked_too():
    found = find_unsafe_values([metric(type="<i>count</i>", name="People<b>")], NOW)
    assert [v.field for v in found] == ["METRIC_NAME", "METRIC_TYPE"]


def test_last_updated_in_the_future_beyond_the_skew_or_before_the_fires_is_refused():
    assert timestamp_problem(NOW + MAX_CLOCK_SKEW, NOW) is None
    assert timestamp_problem((NOW + MAX_CLOCK_SKEW).replace(tzinfo=None), NOW) is None  # naive UTC
    future = timestamp_problem(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), NOW)
    assert future and "2030-01-01T00:00:00.000+00:00 is in the future" in future
    assert "in the future" in (timestamp_problem(NOW + dt.timedelta(minutes=11), NOW) or "")
    assert "before the fires" in (timestamp_problem(dt.datetime(1970, 1, 1), NOW) or "")
    (violation,) = find_unsafe_values([metric(at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))], NOW)
    assert violation.field == "LAST_UPDATED"


def test_the_summary_names_each_value_and_where_to_fix_it():
    assert "plain" in unsafe_summary([])
    text = unsafe_summary(find_unsafe_values([metric("<!channel>")], NOW))
    assert text.startswith("1 published value(s) the public must not see")
    assert "people_helped_drc METRIC_UNIT_LABEL: not plain text ('!', '<', '>')" in text
    assert "Airtable" in text


class SummaryWarehouse:
    """The analytics warehouse as the check reads it: the summary rows, whatever the SQL."""

    kind = "duckdb"

    def __init__(self, metrics: list[Metric]) -> None:
        self.rows = [
            {
                "metric_name": m.name,
                "metric_value": m.value,
                "metric_type": m.type,
                "metric_unit_label": m.unit_label,
                "update_frequency": m.update_frequency,
                "last_updated": m.last_updated,
            }
            for m in metrics
        ]

    def query(self, sql: str, params: list | None = None) -> pa.Table:
        return pa.Table.from_pylist(self.rows)


def test_the_check_blocks_the_gate_and_the_incident_names_it(tmp_path: Path):
    settings = load_settings({"DDRC_HOME": str(tmp_path), "DDRC_DEPLOYMENT": "local"})
    defs = build_definitions(settings, clock=lambda: NOW)
    good = render([metric()])
    LocalPublisher(directory=str(settings.publish_dir)).publish(good, NOW)
    future = dt.datetime(2030, 1, 1)  # the warehouse keeps naive UTC
    summary = SummaryWarehouse([metric("<!channel> people"), metric(name="b", at=future)])
    instance = dg.DagsterInstance.ephemeral()
    key = dg.AssetCheckKey(SUMMARY_KEY, PUBLIC_VALUES_CHECK)
    everything = [*defs.assets, *defs.asset_checks]
    resources = {**defs.resources, "analytics": summary}

    checked = dg.materialize(
        everything,
        resources=resources,
        instance=instance,
        selection=dg.AssetSelection.checks(key),
        raise_on_error=False,
    )
    (evaluation,) = checked.get_asset_check_evaluations()
    assert evaluation.asset_check_key == key and not evaluation.passed
    assert "b LAST_UPDATED: 2030-01-01T00:00:00.000+00:00 is in the future" in (
        evaluation.description or ""
    )

    published = dg.materialize(
        everything,
        resources=resources,
        instance=instance,
        selection=[PUBLISH_KEY],
        raise_on_error=False,
    )
    assert not published.success
    failure = next(e for e in published.all_events if e.is_step_failure)
    error = failure.step_failure_data.error.to_string()
    assert PublicationHeldError.__name__ in error and PUBLIC_VALUES_CHECK in error
    assert (settings.publish_dir / FILE_NAME).read_bytes() == good

    tick(defs, instance, None)
    store = SqliteIncidentStore(settings.incident_store_path)
    held = [
        r.incident
        for r in store.list_incidents(open_only=True)
        if r.incident.check_name == PUBLIC_VALUES_CHECK
    ]
    assert [i.kind for i in held] == [FailureKind.PUBLICATION_HELD]
    assert "people_helped_drc METRIC_UNIT_LABEL: not plain text" in held[0].error_excerpt
    assert "in the future" in held[0].error_excerpt
