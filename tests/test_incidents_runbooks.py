"""The runbook is a table keyed by failure kind: every kind has steps, and the texts are the
ones responders have been reading (captured before the table replaced a `match`)."""

from __future__ import annotations

import pytest

from ddrc_platform.incidents import FailureKind
from ddrc_platform.incidents.runbooks import FRONT_END, RUNBOOKS, Case, runbook

EPA = "raw/epa/public_status_assessment"
AIRTABLE = "raw/airtable/metrics"
FEEDBACK = "raw/feedback/page_feedback"
PUBLISH = "publish/ddrc_metrics_json"
RELOAD = "`./ddrc reload {}`"  # a source: today's snapshot and everything below it
RUN = "`./ddrc run --select '{}+'`"  # anything else: it and everything below it
EPA_LAYER = (
    "https://services.arcgis.com/cJ9YHowT8TU7DUyn/ArcGIS/rest/services/"
    "SoCalFires2025_PublicStatusNightly/FeatureServer/0"
)


def test_every_kind_has_a_runbook_that_renders():
    assert set(RUNBOOKS) == set(FailureKind)
    for kind, entry in RUNBOOKS.items():
        for steps in (entry.steps, *entry.cases.values()):
            assert len(steps) == 3, kind  # the three the Slack message shows
        for keys in ([EPA], [AIRTABLE], [FEEDBACK], [PUBLISH]):
            rendered = runbook(kind, keys, check_name="a_check", fivetran=False)
            assert all("{" not in step for step in rendered), (kind, rendered)
            assert (rendered[-1] == FRONT_END) is entry.front_end


def test_a_case_replaces_the_steps_where_it_holds():
    assert set(RUNBOOKS[FailureKind.SCHEMA_DRIFT].cases) == {Case.FIVETRAN_TABLE}
    for kind in (FailureKind.DATA_CHECK_FAILED, FailureKind.PUBLICATION_HELD):
        assert set(RUNBOOKS[kind].cases) == {Case.AIRTABLE}
    manual = ["people_helped_drc"]
    on_manual = runbook(
        FailureKind.DATA_CHECK_FAILED, [EPA], affected_metrics=manual, manual_metrics=manual
    )
    assert on_manual[1].startswith("Revert the Airtable entry")
    mixed = runbook(
        FailureKind.DATA_CHECK_FAILED,
        [EPA],
        affected_metrics=["cleanup_phase1_complete", *manual],
        manual_metrics=manual,
    )
    assert mixed[0].startswith("Read the failed check on")


@pytest.mark.parametrize(
    ("kind", "keys", "options", "expected"),
    [
        (
            FailureKind.SOURCE_LOAD_FAILED,
            [EPA],
            {},
            [
                "Check that the source answers: EPA hazardous-material (Phase 1) assessment at "
                f"{EPA_LAYER}?f=json.",
                f"Rerun the loader of `{EPA}`: {RELOAD.format('epa/public_status_assessment')}.",
                "If the source is down, leave it: the site keeps the last good data. Rerun once "
                "it answers and note the outage in the issue.",
            ],
        ),
        (
            FailureKind.PUBLISH_VERIFICATION_FAILED,
            [PUBLISH],
            {},
            [
                "Roll back the publication now: `./ddrc rollback` restores the previous version "
                "from the publish history.",
                "Compare the published file with `summary/ddrc_metrics_summary` in the run to "
                "find what differs (encoding, partial upload, a concurrent writer).",
                f"Once fixed, publish again: {RUN.format(PUBLISH)}.",
                "Last resort: ask the front-end team to hide or annotate the affected numbers on "
                "the site until the file is right.",
            ],
        ),
        (
            FailureKind.PUBLICATION_HELD,
            [AIRTABLE],
            {
                "check_name": "people_helped_drc_floor",
                "affected_metrics": ["people_helped_drc"],
                "manual_metrics": ["people_helped_drc"],
                "fivetran": False,
            },
            [
                'Open the latest Airtable entries for `people_helped_drc` (base "LA recovery '
                'metrics"): who changed them, when, and what the value was before.',
                "Revert the Airtable entry to its last good value (or correct it with its metric "
                "contact), rather than loosening the check.",
                f"Reload `{AIRTABLE}` from its source and rerun what it feeds: "
                f"{RELOAD.format('airtable/metrics')}.",
            ],
        ),
        (
            FailureKind.SCHEMA_DRIFT,
            [FEEDBACK],
            {},
            [
                f"Compare the columns Fivetran lands for `{FEEDBACK}` with the documented ones "
                "(`ddrc_platform/core/catalog.py`).",
                "If someone renamed or removed a field in Airtable, revert that change in "
                "Airtable; otherwise update the catalog and staging model in a reviewed PR.",
                f"Re-trigger the Fivetran sync of `{FEEDBACK}` (Fivetran UI: Sync now, or "
                f"{RELOAD.format('feedback/page_feedback')}) and watch its sync log.",
            ],
        ),
        (
            FailureKind.DELIVERY_REFUSED,
            [EPA],
            {"source_urls": {EPA: "https://mirror.example/x?token=1"}},
            [
                "Check that the source answers: EPA hazardous-material (Phase 1) assessment at "
                "https://mirror.example/x?token=1&f=json. How many rows does it deliver now, and "
                "did the agency announce a rebuild or a cut?",
                "If it is an outage or a botched rebuild, leave it: the kept snapshot stays and "
                "the site shows the last good data. Rerun once it is whole: "
                f"{RELOAD.format('epa/public_status_assessment')}.",
                "If the source really shrank (or was emptied), acknowledge that row count under "
                "`deliveries:` in config/acknowledgements.yaml in a reviewed PR, then rerun.",
            ],
        ),
    ],
)
def test_rendered_runbooks_are_unchanged(kind, keys, options, expected):
    assert runbook(kind, keys, **options) == expected
