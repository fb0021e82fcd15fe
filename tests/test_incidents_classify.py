"""How a finished run, the freshness of the assets and the hung runs become reports: plain
records in, reports out, no Dagster run. The exception table is checked by the classes
themselves, so renaming an exception cannot silently turn its incidents into another kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.freshness import Freshness, freshness
from ddrc_platform.core.locks import ResourceBusyError
from ddrc_platform.core.names import (
    GATE_CHECK,
    PUBLISH_KEY,
    SCHEMA_CONTRACT_CHECK,
    SUMMARY_KEY,
    VERIFY_CHECK,
)
from ddrc_platform.definitions import build_definitions
from ddrc_platform.defs.incidents.runs import (
    KIND_BY_EXCEPTION,
    classify_run,
    exception_types,
    graph_facts,
    own_message,
)
from ddrc_platform.incidents import FailureKind
from ddrc_platform.incidents.asset_page import INCIDENT_CHECK
from ddrc_platform.incidents.classify import (
    CheckEvaluation,
    GraphFacts,
    Materialization,
    Ongoing,
    RunEvent,
    StepFailure,
    StoppedPastMaxRuntime,
    classify,
    kinds_by_name,
    not_loaded_yet,
    platform_fault,
    stale_and_fresh,
    staleness_kind,
)
from ddrc_platform.ingest.contract import SchemaContractError
from ddrc_platform.ingest.delivery import DeliveryRefusedError
from ddrc_platform.ingest.sources.http import SourceDataError
from ddrc_platform.integrations.dagster import SerializableErrorInfo
from ddrc_platform.publish.checks import PublicationHeldError, PublishVerificationError
from ddrc_platform.warehouse.base import WarehouseBusyError

EPA = dg.AssetKey(["raw", "epa", "public_status_assessment"])
USACE = dg.AssetKey(["raw", "usace", "parcel_debris_removal"])
AIRTABLE = dg.AssetKey(["raw", "airtable", "metrics"])
STAGING = dg.AssetKey(["staging", "stg_epa"])
FACTS = GraphFacts(
    assets_by_step={
        "load_epa": frozenset({EPA}),
        "load_usace": frozenset({USACE}),
        "sync_airtable": frozenset({AIRTABLE}),
        "ddrc_dbt": frozenset({STAGING, SUMMARY_KEY}),
        "publish": frozenset({PUBLISH_KEY}),
        "housekeeping": frozenset(),
    },
    fivetran_keys=frozenset({AIRTABLE}),
    dbt_step="ddrc_dbt",
    blocking_checks=frozenset({dg.AssetCheckKey(SUMMARY_KEY, "metric_name_unique")}),
)
FAILURE, SUCCESS = dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS


def kinds(status: dg.DagsterRunStatus, *events: RunEvent, planned=None) -> list[FailureKind]:
    findings = classify(status, events, FACTS, planned, KIND_BY_EXCEPTION)
    return [r.kind for r in findings.reports]


def failed(step: str, *exceptions: type[BaseException] | str) -> StepFailure:
    names = tuple(e if isinstance(e, str) else e.__name__ for e in exceptions)
    return StepFailure(step, ("DagsterExecutionStepExecutionError", *names), f"{step} failed")


def check(asset: dg.AssetKey, name: str, *, passed=False, is_error=True) -> CheckEvaluation:
    return CheckEvaluation(dg.AssetCheckKey(asset, name), passed, is_error, f"{name} says why")


def pinned_gate() -> CheckEvaluation:
    """The gate that held for a rollback's pin: a person's choice, low, not a failed check."""
    return CheckEvaluation(
        dg.AssetCheckKey(PUBLISH_KEY, GATE_CHECK), False, True, "held: pinned", pinned=True
    )


# -- the exception table ------------------------------------------------------------------
INTENDED = [
    (WarehouseBusyError, FailureKind.WAREHOUSE_BUSY),
    (ResourceBusyError, FailureKind.WAREHOUSE_BUSY),
    (DeliveryRefusedError, FailureKind.DELIVERY_REFUSED),
    (SourceDataError, FailureKind.BAD_SOURCE_DATA),
    (SchemaContractError, FailureKind.SCHEMA_DRIFT),
    (PublicationHeldError, FailureKind.PUBLICATION_HELD),
    (PublishVerificationError, FailureKind.PUBLISH_VERIFICATION_FAILED),
]


@pytest.mark.parametrize(("exception", "kind"), INTENDED)
def test_every_exception_in_the_table_maps_to_its_intended_kind(exception, kind):
    assert KIND_BY_EXCEPTION[exception] is kind
    assert kinds_by_name(KIND_BY_EXCEPTION)[exception.__name__] is kind


def test_the_table_holds_these_classes_only_and_their_names_are_unique():
    assert set(KIND_BY_EXCEPTION) == {exception for exception, _ in INTENDED}
    assert len(kinds_by_name(KIND_BY_EXCEPTION)) == len(KIND_BY_EXCEPTION)  # or it refuses


def test_two_exception_classes_of_one_name_are_refused():
    clash = type(WarehouseBusyError.__name__, (RuntimeError,), {})
    with pytest.raises(ValueError, match="same name"):
        kinds_by_name(
            {WarehouseBusyError: FailureKind.WAREHOUSE_BUSY, clash: FailureKind.RUN_FAILED}
        )


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        (WarehouseBusyError, FailureKind.WAREHOUSE_BUSY),
        (ResourceBusyError, FailureKind.WAREHOUSE_BUSY),
        (DeliveryRefusedError, FailureKind.DELIVERY_REFUSED),
        (SourceDataError, FailureKind.BAD_SOURCE_DATA),
        (ValueError, FailureKind.SOURCE_LOAD_FAILED),  # unknown: the step's generic kind
        ("RenamedAwayError", FailureKind.SOURCE_LOAD_FAILED),
    ],
)
def test_a_loader_failure_is_classified_by_its_exception(exception, expected):
    assert kinds(FAILURE, failed("load_epa", exception)) == [expected]


def test_an_unknown_exception_in_a_step_that_computes_nothing_is_a_failed_run():
    assert kinds(FAILURE, failed("housekeeping", KeyError)) == [FailureKind.RUN_FAILED]


def test_the_exception_is_found_through_causes_and_contexts():
    cause = SerializableErrorInfo("shrunk to 0 rows", [], DeliveryRefusedError.__name__)
    context = SerializableErrorInfo("while loading", [], "OSError")
    wrapper = SerializableErrorInfo(
        "Error occurred while executing op",
        [],
        "DagsterExecutionStepExecutionError",
        cause,
        context,
    )
    assert exception_types(wrapper) == {
        "DagsterExecutionStepExecutionError",
        DeliveryRefusedError.__name__,
        "OSError",
    }
    assert own_message(wrapper) == "shrunk to 0 rows"  # ours, not Dagster's wrapper


# -- checks and steps together: one failure, one incident ----------------------------------
@pytest.mark.parametrize(
    ("evaluation", "expected"),
    [
        (check(EPA, SCHEMA_CONTRACT_CHECK), FailureKind.SCHEMA_DRIFT),
        (check(PUBLISH_KEY, VERIFY_CHECK), FailureKind.PUBLISH_VERIFICATION_FAILED),
        (check(SUMMARY_KEY, "metric_name_unique"), FailureKind.PUBLICATION_HELD),
        (check(PUBLISH_KEY, GATE_CHECK), FailureKind.PUBLICATION_HELD),
        (pinned_gate(), FailureKind.PUBLICATION_PINNED),
        (check(SUMMARY_KEY, "metric_name_unique", is_error=False), FailureKind.DATA_CHECK_FAILED),
        (check(SUMMARY_KEY, "counts_whole"), FailureKind.DATA_CHECK_FAILED),
    ],
)
def test_a_failed_check_is_reported_by_its_kind(evaluation, expected):
    findings = classify(SUCCESS, [evaluation], FACTS, None, KIND_BY_EXCEPTION)
    (report,) = findings.reports
    assert (report.kind, report.keys, report.check_name) == (
        expected,
        [evaluation.key.asset_key],
        evaluation.key.name,
    )
    assert report.error == evaluation.description


def test_the_incident_check_on_an_asset_page_is_never_an_incident_itself():
    """Run with its asset (a selected run, by hand), it fails while an incident is open."""
    mirror = [check(PUBLISH_KEY, INCIDENT_CHECK), check(EPA, INCIDENT_CHECK, passed=True)]
    findings = classify(SUCCESS, mirror, FACTS, None, KIND_BY_EXCEPTION)
    assert findings.reports == [] and findings.passed_checks == []


def test_a_failure_its_check_reports_is_not_reported_twice():
    drift = [check(EPA, SCHEMA_CONTRACT_CHECK), failed("load_epa", SchemaContractError)]
    assert kinds(FAILURE, *drift) == [FailureKind.SCHEMA_DRIFT]
    held = [check(PUBLISH_KEY, GATE_CHECK), failed("publish", PublicationHeldError)]
    assert kinds(FAILURE, *held) == [FailureKind.PUBLICATION_HELD]
    assert kinds(FAILURE, failed("publish", OSError)) == [FailureKind.PUBLISH_FAILED]


def test_a_dbt_step_reports_only_the_models_that_did_not_build():
    only_tests = [
        Materialization(STAGING),
        check(SUMMARY_KEY, "metric_name_unique"),
        failed("ddrc_dbt", "DbtCliError"),
    ]
    assert kinds(FAILURE, *only_tests) == [FailureKind.PUBLICATION_HELD]
    findings = classify(
        FAILURE, [failed("ddrc_dbt", "DbtCliError")], FACTS, {STAGING}, KIND_BY_EXCEPTION
    )
    ((kind, keys),) = [(r.kind, r.keys) for r in findings.reports]
    assert (kind, keys) == (FailureKind.DBT_MODEL_FAILED, [STAGING])  # only what was planned


HISTORY = dg.AssetKey(["marts", "metric_history"])
# what the history's own dbt step said on a fresh deployment (issue 18): the seed was never built
ABSENT_SEED = (
    "Runtime Error in model metric_history (models/marts/metric_history.sql)\n"
    "  Catalog Error: Table with name metric_catalog does not exist!\n"
    '  Did you mean "information_schema.constraint_column_usage"?'
)


def test_a_model_that_reads_what_was_never_loaded_says_what_is_missing():
    assert not_loaded_yet(ABSENT_SEED).startswith("metric_catalog has not been loaded yet")
    snowflake = (
        "002003 (42S02): SQL compilation error:\n"
        "Object 'TRANSFORM_DDRC_DEV.SEEDS.METRIC_CATALOG' does not exist or not authorized."
    )
    assert not_loaded_yet(snowflake).startswith(
        "TRANSFORM_DDRC_DEV.SEEDS.METRIC_CATALOG has not been loaded yet"
    )
    assert not_loaded_yet("Runtime Error: Division by zero!") is None


def test_a_failed_dbt_step_of_its_own_is_a_model_failure_never_a_source_load():
    facts = GraphFacts(
        assets_by_step={**FACTS.assets_by_step, "ddrc_dbt_history": frozenset({HISTORY})},
        fivetran_keys=FACTS.fivetran_keys,
        dbt_step=FACTS.dbt_step,
        blocking_checks=FACTS.blocking_checks,
        other_dbt_steps=frozenset({"ddrc_dbt_history"}),
    )
    failure = StepFailure(
        "ddrc_dbt_history", ("DagsterDbtCliRuntimeError",), f"dbt build failed\n{ABSENT_SEED}"
    )
    findings = classify(FAILURE, [failure], facts, {HISTORY}, KIND_BY_EXCEPTION)
    ((report,),) = [findings.reports]
    assert (report.kind, report.keys) == (FailureKind.DBT_MODEL_FAILED, [HISTORY])
    assert report.error.startswith("metric_catalog has not been loaded yet")
    assert ABSENT_SEED in report.error  # the real error follows the sentence


def test_every_step_that_runs_dbt_is_known_to_the_classifier(make_settings):
    settings = make_settings()
    facts, _ = graph_facts(build_definitions(settings).get_repository_def(), settings)
    dbt_steps = {s for s in facts.assets_by_step if facts.runs_dbt(s)}
    dbt_keys = set().union(*(facts.assets_by_step[s] for s in dbt_steps))
    assert {HISTORY, SUMMARY_KEY} <= dbt_keys  # the history's own step among them
    assert not dbt_keys & {t.asset_key for t in catalog.RAW_TABLES}


def test_fivetran_and_busy_steps():
    assert kinds(FAILURE, failed("sync_airtable", RuntimeError)) == [
        FailureKind.FIVETRAN_SYNC_FAILED
    ]
    busy = [failed("load_epa", WarehouseBusyError), failed("load_usace", ResourceBusyError)]
    findings = classify(FAILURE, busy, FACTS, None, KIND_BY_EXCEPTION)
    ((kind, keys),) = [(r.kind, r.keys) for r in findings.reports]
    assert (kind, keys) == (FailureKind.WAREHOUSE_BUSY, [EPA, USACE])  # one incident for both


CORRUPT = (
    'IO Error: Could not read enough bytes from file "/srv/ddrc/warehouse.duckdb": '
    "attempted to read 3996 bytes from location 100"
)
INVALID = (
    'IO Error: The file "/srv/ddrc/warehouse.duckdb" exists, but it is not a valid DuckDB '
    "database file!"
)
FULL = "[Errno 28] No space left on device: '/srv/ddrc/logs/run.log'"


@pytest.mark.parametrize(
    ("error", "kind", "says"),
    [
        (
            CORRUPT,
            FailureKind.WAREHOUSE_CORRUPT,
            "the warehouse file /srv/ddrc/warehouse.duckdb is corrupt",
        ),
        (
            INVALID,
            FailureKind.WAREHOUSE_CORRUPT,
            "the warehouse file /srv/ddrc/warehouse.duckdb is corrupt",
        ),
        (FULL, FailureKind.DISK_FULL, "no space left on the disk holding /srv/ddrc/logs/run.log"),
        (
            "sqlite3.OperationalError: database or disk is full",
            FailureKind.DISK_FULL,
            "no space left on the platform's disk",
        ),
        ("HTTP 503 from https://services.arcgis.com/x", None, None),
    ],
)
def test_the_platforms_own_faults_are_named_by_their_cause(error, kind, says):
    found = platform_fault(f"Execution of step failed.\n{error}")
    if kind is None:
        assert found is None
    else:
        assert found[0] is kind and says in found[1], found


def test_a_corrupt_warehouse_is_one_high_incident_for_every_step_it_failed():
    """Seven loaders failing on one truncated file are one incident naming the file, not
    seven "source load failed" incidents sending responders to the sources."""
    from ddrc_platform.incidents.severity import severity_of

    findings = classify(
        FAILURE,
        [
            StepFailure("load_epa", ("IOException",), f"epa: {CORRUPT}"),
            StepFailure("load_usace", ("SomeLoaderError",), f"usace: {CORRUPT}"),
            StepFailure("sync_airtable", ("OSError",), FULL),
        ],
        FACTS,
        None,
        KIND_BY_EXCEPTION,
    )
    corrupt, full = findings.reports
    assert (corrupt.kind, corrupt.keys) == (FailureKind.WAREHOUSE_CORRUPT, [EPA, USACE])
    assert corrupt.error.startswith("the warehouse file /srv/ddrc/warehouse.duckdb is corrupt")
    assert (full.kind, full.keys) == (FailureKind.DISK_FULL, [AIRTABLE])
    assert severity_of(FailureKind.WAREHOUSE_CORRUPT) is severity_of(FailureKind.DISK_FULL)
    assert severity_of(FailureKind.DISK_FULL).value == "high"


def test_the_run_itself_hung_failed_or_succeeded():
    stopped = StoppedPastMaxRuntime("Exceeded maximum runtime of 3000 seconds.")
    findings = classify(FAILURE, [stopped], FACTS, {EPA}, KIND_BY_EXCEPTION)
    ((kind, keys, error),) = [(r.kind, r.keys, r.error) for r in findings.reports]
    assert (kind, keys, error) == (FailureKind.RUN_HUNG, [EPA], stopped.message)
    assert kinds(dg.DagsterRunStatus.CANCELED, stopped) == [FailureKind.RUN_HUNG]
    assert kinds(FAILURE) == [FailureKind.RUN_FAILED]
    assert kinds(dg.DagsterRunStatus.CANCELED) == []
    assert kinds(SUCCESS) == []


def test_successes_are_collected_to_end_incidents():
    passed = check(EPA, SCHEMA_CONTRACT_CHECK, passed=True)
    findings = classify(SUCCESS, [Materialization(EPA), passed], FACTS, None, KIND_BY_EXCEPTION)
    assert findings.materialized == {EPA}
    assert findings.passed_checks == [passed.key]
    assert findings.reports == []


# -- freshness and hung runs ---------------------------------------------------------------
def test_stale_and_fresh_are_what_the_freshness_daemon_judged():
    """Past the warn window (WARN) is late, not yet an incident; never judged is neither."""
    states = {
        EPA.to_user_string(): "PASS",
        USACE.to_user_string(): "WARN",
        AIRTABLE.to_user_string(): "FAIL",
        PUBLISH_KEY.to_user_string(): "UNKNOWN",  # never loaded
    }
    assert stale_and_fresh(states) == ([AIRTABLE], [EPA, USACE])
    assert stale_and_fresh({}) == ([], [])


def test_the_dashboard_windows_are_the_policies_the_daemon_judges():
    policy = dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=50), warn_window=timedelta(hours=26)
    )
    now = datetime(2025, 6, 2, 12, tzinfo=UTC)
    assert freshness(now - timedelta(hours=1), policy, now) is Freshness.FRESH
    assert freshness(now - timedelta(hours=30), policy, now) is Freshness.LATE
    assert freshness(now - timedelta(hours=51), policy, now) is Freshness.STALE
    assert staleness_kind(PUBLISH_KEY) is FailureKind.PUBLISHED_FILE_STALE
    assert staleness_kind(EPA) is FailureKind.SOURCE_STALE


def test_a_hung_run_is_reported_once_and_forgotten_when_it_ends():
    hung = Ongoing()
    assert hung.new(["a", "b"]) == ["a", "b"]
    assert hung.new(["a", "b"]) == []  # every later tick: no repeat
    assert hung.new(["b", "c"]) == ["c"]  # a ended
    assert len(hung) == 2
    for tick in range(1000):  # a long-lived code location: the memory stays what is hung now
        hung.new([f"run-{tick}"])
    assert len(hung) == 1
    assert hung.new([]) == [] and len(hung) == 0


# -- the adapter: Dagster's event log into these records -------------------------------------
def test_a_real_runs_event_log_is_classified_by_the_exception_our_code_raised():
    @dg.asset(key=EPA)
    def load_epa() -> None:
        raise DeliveryRefusedError("raw/epa: 0 rows, 20,000 kept")

    @dg.asset(key=USACE)
    def load_usace() -> None:
        pass

    assets = (load_epa, load_usace)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(assets, instance=instance, raise_on_error=False)
    facts = GraphFacts(
        {a.node_def.name: frozenset(a.keys) for a in assets}, frozenset(), "", frozenset()
    )
    findings = classify_run(FAILURE, instance.all_logs(result.run_id), facts, None)
    ((kind, keys, error),) = [(r.kind, r.keys, r.error) for r in findings.reports]
    assert (kind, keys) == (FailureKind.DELIVERY_REFUSED, [EPA])
    assert error is not None  # our message first, then Dagster's text
    assert error.split("\n\n")[0].endswith("DeliveryRefusedError: raw/epa: 0 rows, 20,000 kept")
    assert findings.materialized == {USACE}
