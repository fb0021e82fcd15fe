"""Incident triage: severity, affected metrics (lineage), runbooks, issue links, redaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.redact import REDACTED, excerpt, redacted_excerpt
from ddrc_platform.incidents import (
    FailureKind,
    Incident,
    MetricLineage,
    Redactor,
    Router,
    Severity,
    Triage,
    affected_metrics,
    load_oncall,
    severity_of,
)
from ddrc_platform.incidents.runbooks import ROLLBACK_COMMAND
from ddrc_platform.incidents.severity import public_impact

ONCALL = Path(__file__).parents[1] / "config" / "oncall.yaml"
EPA = "raw/epa/public_status_assessment"
USACE = "raw/usace/parcel_debris_removal"
MALIBU = "raw/malibu/fire_rebuild_points"
PASADENA = "raw/pasadena/eaton_fire_rebuild_permits"
AIRTABLE = "raw/airtable/metrics"
FEEDBACK = "raw/feedback/page_feedback"
SUMMARY = "summary/ddrc_metrics_summary"
PUBLISH = "publish/ddrc_metrics_json"

METRIC_SOURCES = {
    "cleanup_phase1_complete": {EPA},
    "phase2_roes_accepted": {USACE},
    "phase2_parcels_in_queue": {USACE},
    "phase2_parcels_completed": {USACE},
    "malibu_rebuild_applications_received": {MALIBU},
    "malibu_rebuild_applications_in_review": {MALIBU},
    "malibu_building_permits_issued": {MALIBU},
    "pasadena_rebuild_applications_received": {PASADENA},
    "pasadena_rebuild_applications_in_review": {PASADENA},
    "pasadena_building_permits_issued": {PASADENA},
    "people_helped_drc": {AIRTABLE},
    "people_helped_fema_funds": {AIRTABLE},
}
ALL_METRICS = list(METRIC_SOURCES)
PHASE2 = ["phase2_roes_accepted", "phase2_parcels_in_queue", "phase2_parcels_completed"]
MANUAL = ["people_helped_drc", "people_helped_fema_funds"]


def _spec(key: str, *deps: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        dg.AssetKey.from_user_string(key), deps=[dg.AssetKey.from_user_string(d) for d in deps]
    )


def ddrc_like_definitions() -> dg.Definitions:
    """The real graph's shape: raw → staging → marts → summary → publish, plus side branches."""
    staging = {
        EPA: "staging/stg_epa",
        USACE: "staging/stg_usace",
        MALIBU: "staging/stg_malibu_points",
        PASADENA: "staging/stg_pasadena",
        AIRTABLE: "staging/stg_airtable_metrics",
        FEEDBACK: "staging/stg_page_feedback",
    }
    specs = [_spec(t.asset_key.to_user_string()) for t in catalog.RAW_TABLES]
    specs += [_spec(stg, raw) for raw, stg in staging.items()]
    specs += [
        _spec(
            "marts/pipeline_metrics",
            "staging/stg_epa",
            "staging/stg_usace",
            "staging/stg_malibu_points",
            "staging/stg_pasadena",
        ),
        _spec("marts/manual_metrics", "staging/stg_airtable_metrics"),
        _spec("seeds/metric_catalog"),
        _spec(SUMMARY, "marts/pipeline_metrics", "marts/manual_metrics", "seeds/metric_catalog"),
        _spec(PUBLISH, SUMMARY),
        _spec("dashboards/metric_history", SUMMARY),  # downstream of the summary, not published
        _spec("dashboards/page_feedback", "staging/stg_page_feedback"),
    ]
    return dg.Definitions(assets=specs)


@pytest.fixture(scope="module")
def lineage() -> MetricLineage:
    return MetricLineage(METRIC_SOURCES, ddrc_like_definitions())


@pytest.fixture
def triage(lineage: MetricLineage) -> Triage:
    at = datetime(2026, 4, 1, 17, 0, tzinfo=UTC)  # Wednesday 10:00 Pacific
    return Triage(
        Router(load_oncall(ONCALL), clock=lambda: at),
        lineage,
        redactor=Redactor(["hunter2-db-password"]),
        deployment="prd",
        webserver_url="https://dagster.example.org/",
    )


# -- lineage ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ([EPA], ["cleanup_phase1_complete"]),
        ([USACE], PHASE2),
        (["staging/stg_usace"], PHASE2),
        ([MALIBU, PASADENA], ALL_METRICS[4:10]),
        ([AIRTABLE], MANUAL),
        (["marts/manual_metrics"], MANUAL),
        (["marts/pipeline_metrics"], ALL_METRICS[:10]),
        ([SUMMARY], ALL_METRICS),
        ([PUBLISH], ALL_METRICS),
        ([FEEDBACK], []),  # feeds a dashboard, no published metric
        (["dashboards/metric_history"], []),  # below the summary but not on the way to publish
        (["seeds/metric_catalog"], []),  # no metric names it as a raw source
        (["raw/unknown/table"], []),
    ],
)
def test_affected_metrics_follow_the_graph(
    lineage: MetricLineage, keys: list[str], expected: list[str]
) -> None:
    assert lineage.affected(keys) == expected


def test_affected_metrics_accepts_definitions_or_graph_and_asset_keys() -> None:
    defs = ddrc_like_definitions()
    key = dg.AssetKey(["staging", "stg_epa"])
    assert affected_metrics([key], defs, METRIC_SOURCES) == ["cleanup_phase1_complete"]
    graph = defs.resolve_asset_graph()
    assert affected_metrics(["staging/stg_epa"], graph, METRIC_SOURCES) == [
        "cleanup_phase1_complete"
    ]


def test_a_raw_table_missing_from_the_graph_still_affects_its_metrics() -> None:
    # e.g. the Fivetran assets are absent from a deployment's graph
    lineage = MetricLineage({"people_helped_drc": {AIRTABLE}}, dg.Definitions(assets=[]))
    assert lineage.affected([AIRTABLE]) == ["people_helped_drc"]
    assert lineage.affected([PUBLISH]) == ["people_helped_drc"]


# -- every kind: severity, metrics, runbook ----------------------------------------------
CASES = [
    # kind, asset keys, check name, severity, affected metrics, words in the first 3 steps
    (FailureKind.SOURCE_LOAD_FAILED, [EPA], None, Severity.LOW, ["cleanup_phase1_complete"],
     [catalog.EPA.source_url, "Rerun the loader", EPA]),
    (FailureKind.SOURCE_LOAD_FAILED, [USACE], None, Severity.LOW, PHASE2,
     [catalog.USACE.source_url, "CA bundle", "Rerun the loader"]),
    (FailureKind.SOURCE_LOAD_FAILED, [MALIBU], None, Severity.LOW, ALL_METRICS[4:7],
     [catalog.MALIBU_BASE_URL, "flaky", "Rerun the loader"]),
    (FailureKind.SOURCE_LOAD_FAILED, [AIRTABLE], None, Severity.LOW, MANUAL,
     ["Re-trigger the Fivetran sync", AIRTABLE]),
    (FailureKind.SCHEMA_DRIFT, [PASADENA], "pasadena_columns_match", Severity.LOW,
     ALL_METRICS[7:10], [catalog.PASADENA.source_url, "catalog.py", "Rerun the loader"]),
    (FailureKind.SCHEMA_DRIFT, [AIRTABLE], "airtable_columns_match", Severity.LOW, MANUAL,
     ["revert that change in Airtable", "Re-trigger the Fivetran sync"]),
    (FailureKind.DBT_MODEL_FAILED, ["staging/stg_usace"], None, Severity.LOW, PHASE2,
     ["dbt build", "revert", "staging/stg_usace+"]),
    (FailureKind.DATA_CHECK_FAILED, [SUMMARY], "people_helped_drc_floor", Severity.LOW,
     ["people_helped_drc"],
     ["Airtable entries for `people_helped_drc`", "Revert the Airtable entry",
      "Re-trigger the Fivetran sync"]),
    (FailureKind.DATA_CHECK_FAILED, [USACE], "usace_objectid_unique", Severity.LOW, PHASE2,
     ["`usace_objectid_unique`", catalog.USACE.source_url, "metric definition"]),
    (FailureKind.PUBLICATION_HELD, [SUMMARY], "metric_value_not_negative", Severity.HIGH,
     ALL_METRICS, ["`metric_value_not_negative`", "revert", "summary/ddrc_metrics_summary+"]),
    (FailureKind.PUBLICATION_HELD, [AIRTABLE], "people_helped_fema_funds_floor", Severity.HIGH,
     ["people_helped_fema_funds"], ["Revert the Airtable entry", "Fivetran sync"]),
    (FailureKind.PUBLICATION_PINNED, [PUBLISH], "blocking_checks_passed", Severity.LOW,
     ALL_METRICS, ["rolled the public file back on purpose", "./ddrc versions",
                   "./ddrc rollback --release"]),
    (FailureKind.PUBLISH_FAILED, [PUBLISH], None, Severity.HIGH, ALL_METRICS,
     ["SAS token", "Rerun the publication", "previous file stays"]),
    (FailureKind.PUBLISH_VERIFICATION_FAILED, [PUBLISH], None, Severity.HIGH, ALL_METRICS,
     ["Roll back the publication", ROLLBACK_COMMAND, "publish history"]),
    (FailureKind.PUBLISHED_FILE_STALE, [PUBLISH], None, Severity.HIGH, ALL_METRICS,
     ["why publishing stopped", "rerun the pipeline", ROLLBACK_COMMAND]),
    (FailureKind.SOURCE_STALE, [PASADENA], None, Severity.LOW, ALL_METRICS[7:10],
     [catalog.PASADENA.source_url, "last edit date", "Rerun the loader"]),
    (FailureKind.SOURCE_STALE, [FEEDBACK], None, Severity.LOW, [],
     ["Re-trigger the Fivetran sync of `raw/feedback/page_feedback`"]),
    (FailureKind.FIVETRAN_SYNC_FAILED, [AIRTABLE], None, Severity.LOW, MANUAL,
     ["Fivetran sync log", "Re-trigger the Fivetran sync", "revert that change in Airtable"]),
    (FailureKind.RUN_FAILED, ["marts/pipeline_metrics"], None, Severity.LOW, ALL_METRICS[:10],
     ["first failed step", "Re-execute", "revert"]),
    (FailureKind.WAREHOUSE_CORRUPT, [EPA, USACE], None, Severity.HIGH, [
        "cleanup_phase1_complete", *PHASE2], ["not a source", "restore the file", "rebuild"]),
    (FailureKind.DISK_FULL, [EPA], None, Severity.HIGH, ["cleanup_phase1_complete"],
     ["Free space", "never written partially", "Rerun the pipeline"]),
    (FailureKind.DELIVERY_REFUSED, [EPA], None, Severity.LOW, ["cleanup_phase1_complete"],
     [catalog.EPA.source_url, "kept snapshot stays", "`deliveries:`"]),
    (FailureKind.BAD_SOURCE_DATA, [PASADENA], None, Severity.LOW, ALL_METRICS[7:10],
     [catalog.PASADENA.source_url, "retrying cannot fix", "Tell the layer's owner"]),
    (FailureKind.BAD_SOURCE_DATA, [AIRTABLE], None, Severity.LOW, MANUAL,
     ["Revert the Airtable entry"]),
    (FailureKind.WAREHOUSE_BUSY, [EPA, USACE], None, Severity.LOW, [
     "cleanup_phase1_complete", *PHASE2], ["run still in progress", "Let it finish", "Rerun"]),
    (FailureKind.RUN_HUNG, [], None, Severity.LOW, [],
     ["still going", "Terminate the run", "Rerun the pipeline"]),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "keys", "check", "severity", "metrics", "words"), CASES)
def test_each_kind_gets_its_severity_metrics_and_runbook(
    triage: Triage,
    kind: FailureKind,
    keys: list[str],
    check: str | None,
    severity: Severity,
    metrics: list[str],
    words: list[str],
) -> None:
    incident = triage.incident(kind, keys, run_id="r-1", check_name=check, error="boom")
    assert severity_of(kind) is severity
    assert incident.severity is severity
    assert list(incident.affected_metrics) == metrics
    first_three = "\n".join(incident.runbook[:3])
    for word in words:
        assert word in first_three, (word, first_three)
    assert incident.run_url == "https://dagster.example.org/runs/r-1"
    assert incident.act_now  # business hours


def test_every_kind_is_covered_and_high_only_for_the_public_file() -> None:
    assert {case[0] for case in CASES} == set(FailureKind)
    high = {k for k in FailureKind if severity_of(k) is Severity.HIGH}
    # and where nothing can publish any more: the platform's own warehouse file or disk,
    # the publish step failing or the gate holding every publish
    assert high == {
        FailureKind.PUBLISH_VERIFICATION_FAILED,
        FailureKind.PUBLISHED_FILE_STALE,
        FailureKind.WAREHOUSE_CORRUPT,
        FailureKind.DISK_FULL,
        FailureKind.PUBLISH_FAILED,
        FailureKind.PUBLICATION_HELD,
    }


def test_high_runbooks_end_with_the_front_end_team(triage: Triage) -> None:
    incident = triage.incident(FailureKind.PUBLISH_VERIFICATION_FAILED, [PUBLISH])
    assert "front-end team" in incident.runbook[-1]
    assert "front-end" not in "".join(incident.runbook[:3])
    low = triage.incident(FailureKind.SOURCE_LOAD_FAILED, [EPA])
    assert not any("front-end" in step for step in low.runbook)


def test_incident_identity_title_and_dedup_key(triage: Triage) -> None:
    one = triage.incident(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id="a", error="x")
    two = triage.incident(
        FailureKind.SOURCE_LOAD_FAILED, [dg.AssetKey.from_user_string(EPA)], run_id="b"
    )
    other_check = triage.incident(FailureKind.DATA_CHECK_FAILED, [EPA], check_name="a")
    assert one.id == two.id == f"source_load_failed:{EPA}"
    assert other_check.id == f"data_check_failed:{EPA}#a"
    assert one.title == f"Source load failed: EPA hazardous-material (Phase 1) assessment ({EPA})"
    assert one.deployment == "prd"


def test_incident_round_trips_through_json(triage: Triage) -> None:
    incident = triage.incident(FailureKind.PUBLISH_FAILED, [PUBLISH], run_id="r", error="e")
    assert Incident.from_json(incident.to_json()) == incident


def test_explicit_metrics_override_lineage(triage: Triage) -> None:
    incident = triage.incident(
        FailureKind.DATA_CHECK_FAILED, [SUMMARY], check_name="dq", metrics=["people_helped_drc"]
    )
    assert incident.affected_metrics == ("people_helped_drc",)
    assert "Revert the Airtable entry" in incident.runbook[1]


# -- the GitHub issue --------------------------------------------------------------------
def test_github_issue_link_is_prefilled_with_findings_and_sections(triage: Triage) -> None:
    incident = triage.incident(
        FailureKind.SOURCE_LOAD_FAILED, [USACE], run_id="r-9", error="SSLError: bad chain"
    )
    url = urlsplit(incident.github_issue_url)
    assert (url.netloc, url.path) == ("github.com", "/cagov/ddrc-platform/issues/new")
    query = parse_qs(url.query)
    assert query["labels"] == ["incident,severity-low"]
    assert query["title"] == [f"[LOW] {incident.title}"]
    body = query["body"][0]
    for part in (
        "Source load failed",
        USACE,
        "phase2_roes_accepted",
        "https://dagster.example.org/runs/r-9",
        "SSLError: bad chain",
        "## Findings",
        "## Fix",
        "## Retro",
    ):
        assert part in body
    assert " " not in incident.github_issue_url  # URL-encoded


def test_github_issue_link_fits_in_a_slack_button(triage: Triage) -> None:
    incident = triage.incident(FailureKind.RUN_FAILED, [EPA], error="x" * 50_000)
    assert len(incident.github_issue_url) <= 2900
    assert len(incident.error_excerpt) <= 1500
    custom = Triage(triage.router, triage.lineage, repo="example/fork")
    issue = custom.incident(FailureKind.PUBLISH_VERIFICATION_FAILED, [PUBLISH]).github_issue_url
    assert issue.startswith("https://github.com/example/fork/issues/new?")
    assert "severity-high" in issue


# -- redaction ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("slack said invalid_auth for xoxb-1234-5678-abcdEFGH", "xoxb-1234-5678-abcdEFGH"),
        ("user token xoxp-99-abc", "xoxp-99-abc"),
        ("Authorization: Bearer eyJhbGciOi.J9.abc-def", "eyJhbGciOi.J9.abc-def"),
        (
            "DefaultEndpointsProtocol=https;AccountName=ddrc;AccountKey=Zm9vYmFy+/==;Endpoint",
            "Zm9vYmFy+/==",
        ),
        ("GET https://x.blob.core.windows.net/c/f.json?sv=2024&sig=AbC%2Bdef%3D&se=1", "AbC%2Bdef"),
        ("snowflake://u:p@h/?password=hunter3&role=x", "hunter3"),
        ("{'user': 'u', 'password': 'pa ss'}", "pa ss"),
        ("client_secret=abc.def-123 rejected", "abc.def-123"),
        (
            "key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0B\n"
            "-----END PRIVATE KEY-----",
            "MIIEvQIBADANBg",
        ),
        ("truncated -----BEGIN RSA PRIVATE KEY-----\nMIIEow", "MIIEow"),
        (
            "POST https://hooks.slack.com/services/T0001/B0002/abcdefSECRET failed",
            "T0001/B0002/abcdefSECRET",
        ),
        (
            "401 for patAbCdEf012345678.0123456789abcdef0123456789abcdef",
            "patAbCdEf012345678.0123456789abcdef0123456789abcdef",
        ),
    ],
)
def test_patterns_redact_credentials(text: str, secret: str) -> None:
    redacted = Redactor()(text)
    assert secret not in redacted
    assert REDACTED in redacted


def test_explicit_secrets_are_redacted_in_every_form() -> None:
    secret = "s3cr3t value/with+chars"
    redact = Redactor([secret, "ab"])  # too short values are ignored, not redacted everywhere
    text = f"raw {secret}; url {quote(secret, safe='')}; repr {secret!r}; about"
    out = redact(text)
    assert secret not in out and quote(secret, safe="") not in out
    assert out.count(REDACTED) == 3
    assert "about" in out


def test_ordinary_error_text_survives() -> None:
    text = "ArcGIS error 500: Error performing query operation (token: expected ':' at 3)"
    assert Redactor()(text) == text


def test_redaction_happens_before_truncation(triage: Triage) -> None:
    secret = "hunter2-db-password"
    error = "x" * 495 + secret + "y" * 3000  # the cut would fall inside the secret
    incident = triage.incident(FailureKind.RUN_FAILED, [EPA], error=error)
    assert "hunter2" not in incident.error_excerpt
    assert "hunter2" not in incident.github_issue_url


def test_excerpt_keeps_head_and_tail() -> None:
    text = "HEAD " + "." * 5000 + " ValueError: the real cause"
    short = excerpt(text, 300)
    assert len(short) <= 300
    assert short.startswith("HEAD") and short.endswith("the real cause")


def test_huge_logs_keep_no_half_secret_at_the_cut_edges() -> None:
    secret = "hunter2-db-password"
    redact = Redactor([secret])
    head_edge = tail_edge = 1500 + 8192  # the windows redacted_excerpt keeps
    text = secret + "." * (head_edge - len(secret) - 7) + secret + "," * 200_000
    text += secret + ";" * (tail_edge - 7) + secret
    short = redacted_excerpt(text, redact)
    assert len(short) <= 1500
    assert "hunter" not in short and "password" not in short
    assert short.startswith(REDACTED) and short.endswith(REDACTED)


def test_airtable_runbook_says_fivetran_only_where_fivetran_syncs_it():
    from ddrc_platform.incidents.runbooks import runbook

    keys = ["raw/airtable/metrics"]
    local = " ".join(runbook(FailureKind.SOURCE_LOAD_FAILED, keys, fivetran=False))
    prd = " ".join(runbook(FailureKind.SOURCE_LOAD_FAILED, keys, fivetran=True))
    assert "Fivetran" not in local and "Reload `raw/airtable/metrics`" in local
    assert "Re-trigger the Fivetran sync of `raw/airtable/metrics`" in prd


def test_a_failed_source_incident_says_its_number_is_aging_and_when_it_breaches():

    epa = catalog.EPA.asset_key.to_user_string()
    loaded = datetime(2025, 6, 2, 13, 5, tzinfo=UTC)  # 06:05 PDT
    told = public_impact(
        FailureKind.SOURCE_LOAD_FAILED, Severity.LOW, [epa], ["cleanup_phase1_complete"], loaded
    )
    assert told.startswith("The site still shows the last good data.")
    assert "cleanup_phase1_complete: the last good value, aging" in told
    assert "the other sources keep publishing" in told
    # EPA's fail window is 50 h (the catalog): Wed 4 Jun, 08:05 PDT
    assert "breaches its freshness window at Wed 4 Jun 2025, 08:05 PDT, 50 h after" in told
    assert "(Mon 2 Jun 2025, 06:05 PDT)" in told
    unknown = public_impact(FailureKind.SOURCE_LOAD_FAILED, Severity.LOW, [epa], [], None)
    assert "50 h after its last good load" in unknown and " at " not in unknown
    held = public_impact(FailureKind.PUBLICATION_HELD, Severity.HIGH, [epa], ["x"], loaded)
    assert held.startswith("The site still shows the last published file, but no new numbers")


def test_a_pin_says_who_pinned_which_version_and_pages_nobody(triage: Triage) -> None:
    """Issue 18: a deliberate rollback paged on-call at night as a HIGH held publication."""
    note = (
        "Rolled back: pinned by rollback at 2026-04-04 03:00:00 UTC to version v1.json "
        "(run r-9); publishing holds (release with `./ddrc rollback --release`)."
    )
    pinned = triage.incident(FailureKind.PUBLICATION_PINNED, [PUBLISH], error=note)
    assert pinned.severity is Severity.LOW and severity_of(FailureKind.PUBLICATION_HELD) is (
        Severity.HIGH
    )
    assert pinned.title.endswith("Publication pinned by a rollback: publish/ddrc_metrics_json")
    assert pinned.public_impact == (
        "The site shows the version pinned by rollback at 2026-04-04 03:00:00 UTC to version "
        "v1.json (run r-9); no new numbers reach it until the pin is released."
    )
    unnamed = public_impact(FailureKind.PUBLICATION_PINNED, Severity.LOW, [PUBLISH], [])
    assert unnamed.startswith("The site shows the version a rollback pinned; no new numbers")


def test_runbooks_link_the_configured_endpoint_and_errors_lead_with_their_own_message() -> None:
    """A deployment reading a mirror (or a stand-in) must not send responders to the public
    URL; a long Dagster error must not push the real message out of the excerpt."""
    mirror = "https://reader:mirror-password-123@mirror.example/epa/FeatureServer/0?token=t0k3n-123"
    triage = Triage(
        Router(load_oncall(ONCALL), clock=lambda: datetime(2026, 4, 1, 17, 0, tzinfo=UTC)),
        redactor=Redactor(["mirror-password-123", "t0k3n-123"]),
        source_urls={EPA: Redactor()(mirror)},
    )
    noise = "\n".join(f"  File dagster/_core/step_{i}.py, line {i}" for i in range(300))
    error = f"SourceError: EPA: HTTP 503 (GET {mirror})\n\n{noise}"
    incident = triage.incident(FailureKind.SOURCE_LOAD_FAILED, [EPA], error=error)
    assert "mirror.example/epa/FeatureServer/0?token=[REDACTED]&f=json" in incident.runbook[0]
    assert catalog.EPA.source_url not in incident.runbook[0]
    assert incident.error_excerpt.startswith("SourceError: EPA: HTTP 503 (GET https://[REDACTED]@")
    assert len(incident.error_excerpt) <= 1500
    everything = json.dumps(incident.to_json())
    assert "mirror-password-123" not in everything and "t0k3n-123" not in everything
