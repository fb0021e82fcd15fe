"""What the incident sensor saw, decided as reports: a finished run, the freshness of the
assets, the runs past their maximum runtime.

Plain records in, reports out, so every rule here is tested without running Dagster; the
sensor (`ddrc_platform/defs/incidents/`) only translates Dagster's events into these
records. Classifying a run as a whole (rather than reacting to single events) is what lets
one failure produce one incident: a dbt step that failed only because a blocking test
failed is reported as the held publication, not a second time as a dbt failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg

from ddrc_platform.core.names import GATE_CHECK, PUBLISH_KEY, SCHEMA_CONTRACT_CHECK, VERIFY_CHECK
from ddrc_platform.incidents.asset_page import INCIDENT_CHECK
from ddrc_platform.incidents.model import FailureKind

# kinds a failing check reports with its own result (the columns, the gate, the verification):
# a step that raised the matching exception adds nothing to it
REPORTED_BY_THEIR_CHECK = frozenset(
    {
        FailureKind.SCHEMA_DRIFT,
        FailureKind.PUBLICATION_HELD,
        FailureKind.PUBLISH_VERIFICATION_FAILED,
    }
)
# what stops a run, by whether its step failures explain it
_STOPPED = frozenset({dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED})

ExceptionKinds = Mapping[type[BaseException], FailureKind]

# The platform's own faults, by what DuckDB, SQLite and the OS say (any exception class: a
# dbt step reports DuckDB's words inside dbt's error). They explain every step they fail,
# so a source at fault is never blamed for them.
_CORRUPT = re.compile(
    r"not a valid DuckDB database file|Could not read enough bytes from file|"
    r"Corrupt database file|checksum .{0,80}does not match|database disk image is malformed",
    re.IGNORECASE,
)
_DISK_FULL = re.compile(
    r"No space left on device|\[Errno 28\]|ENOSPC|database or disk is full", re.IGNORECASE
)
_QUOTED_FILE = re.compile(r"""file ["']([^"']+)["']""")
_OS_PATH = re.compile(r"""No space left on device: ["']([^"']+)["']""")
# a relation a model reads that is not in the warehouse, in DuckDB's and Snowflake's words
_ABSENT_RELATION = re.compile(
    r"Table with name (?P<duckdb>[\w.]+) does not exist|"
    r"Object '(?P<snowflake>[^']+)' does not exist"
)
# kinds every failing step shares: reported once, for all their assets
SHARED_CAUSES = (FailureKind.WAREHOUSE_BUSY, FailureKind.WAREHOUSE_CORRUPT, FailureKind.DISK_FULL)


# -- the events of a run, as plain records ---------------------------------------------------
@dataclass(frozen=True)
class StepFailure:
    step: str
    exceptions: tuple[str, ...]  # class names of the error, its causes and contexts
    error: str  # the error's own message first, then the full text


@dataclass(frozen=True)
class CheckEvaluation:
    key: dg.AssetCheckKey
    passed: bool
    is_error: bool  # severity ERROR: a blocking check holds what follows it
    description: str | None  # names the columns, the metrics and values
    pinned: bool = False  # the gate held for a rollback's pin, not for a failed check


@dataclass(frozen=True)
class Materialization:
    key: dg.AssetKey


@dataclass(frozen=True)
class StoppedPastMaxRuntime:
    """Run monitoring stopped the run past its maximum runtime."""

    message: str


RunEvent = StepFailure | CheckEvaluation | Materialization | StoppedPastMaxRuntime


@dataclass(frozen=True)
class GraphFacts:
    """What the classifier needs to know of the graph: which step computes which assets."""

    assets_by_step: Mapping[str, frozenset[dg.AssetKey]]
    fivetran_keys: frozenset[dg.AssetKey]
    dbt_step: str
    blocking_checks: frozenset[dg.AssetCheckKey]
    # every other step that runs dbt (the history's own, for a backfill or a missed day):
    # its failure is a model's, never a source's
    other_dbt_steps: frozenset[str] = frozenset()

    def runs_dbt(self, step: str) -> bool:
        return step == self.dbt_step or step in self.other_dbt_steps


@dataclass
class Report:
    kind: FailureKind
    keys: list[dg.AssetKey]
    error: str | None = None
    check_name: str | None = None


@dataclass
class RunFindings:
    """What one finished run says: failures to report, successes that end incidents."""

    reports: list[Report] = field(default_factory=list)
    materialized: set[dg.AssetKey] = field(default_factory=set)
    passed_checks: list[dg.AssetCheckKey] = field(default_factory=list)


# -- a finished run ------------------------------------------------------------------------
def platform_fault(error: str) -> tuple[FailureKind, str] | None:
    """(kind, the cause in one sentence) when the error is the platform's own, else None.

    The sentence comes first in the incident: a responder sent to the sources by "source
    load failed" loses the hours a corrupt warehouse or a full disk do not have.
    """
    if _CORRUPT.search(error):
        found = _QUOTED_FILE.search(error)
        where = f" {found.group(1)}" if found else ""
        return FailureKind.WAREHOUSE_CORRUPT, (
            f"the warehouse file{where} is corrupt (DuckDB cannot read it): nothing can load "
            "or publish until it is restored from a backup or rebuilt"
        )
    if _DISK_FULL.search(error):
        found = _OS_PATH.search(error)
        where = f"the disk holding {found.group(1)}" if found else "the platform's disk"
        return FailureKind.DISK_FULL, (
            f"no space left on {where}: nothing can load or publish until space is freed"
        )
    return None


def not_loaded_yet(error: str) -> str | None:
    """The cause in one sentence when a model read a relation that does not exist yet.

    On a fresh deployment that is a seed or raw table never loaded: the responder needs
    its name, not a hunt through the sources ("source load failed" sent them there).
    """
    found = _ABSENT_RELATION.search(error)
    if found is None:
        return None
    relation = found.group("duckdb") or found.group("snowflake")
    return (
        f"{relation} has not been loaded yet: the models that read it cannot build until it "
        "is (an empty deployment loads it by itself once its own inputs exist)"
    )


def kinds_by_name(table: ExceptionKinds) -> dict[str, FailureKind]:
    """The table as a step failure names its exceptions (by class name), in table order.

    Two classes of one name would make the name ambiguous: refused here, not guessed at.
    """
    names = [cls.__name__ for cls in table]
    if len(set(names)) != len(names):
        raise ValueError(f"exception classes of the same name: {sorted(names)}")
    return {cls.__name__: kind for cls, kind in table.items()}


def check_kind(evaluation: CheckEvaluation, facts: GraphFacts) -> FailureKind:
    """The kind of a failed check: its own kind, a pinned or held publication, or a data
    check. A gate that held for a pin is a person's choice, not a broken check."""
    key = evaluation.key
    if key.name == SCHEMA_CONTRACT_CHECK:
        return FailureKind.SCHEMA_DRIFT
    if key.name == VERIFY_CHECK:
        return FailureKind.PUBLISH_VERIFICATION_FAILED
    if key.name == GATE_CHECK and evaluation.pinned:
        return FailureKind.PUBLICATION_PINNED
    if evaluation.is_error and (key in facts.blocking_checks or key.name == GATE_CHECK):
        return FailureKind.PUBLICATION_HELD
    return FailureKind.DATA_CHECK_FAILED


def step_report(
    failure: StepFailure,
    facts: GraphFacts,
    kinds: Mapping[str, FailureKind],
    *,
    planned: set[dg.AssetKey] | None,
    materialized: set[dg.AssetKey],
    checked: set[dg.AssetKey],
) -> Report | None:
    """The report of one failed step, or None where a failed check already says it.

    `kinds`: exception class name -> kind (`kinds_by_name`); an exception it does not name
    is classified by the step that raised it. `checked`: assets with a failed check.
    """
    keys = sorted(facts.assets_by_step.get(failure.step, frozenset()), key=str)
    error = failure.error
    if fault := platform_fault(error):
        kind, cause = fault
        return Report(kind, keys, f"{cause}\n\n{error}")
    found = [kinds[name] for name in kinds if name in failure.exceptions]
    direct = next((kind for kind in found if kind not in REPORTED_BY_THEIR_CHECK), None)
    reported_by_check = any(kind in REPORTED_BY_THEIR_CHECK for kind in found)
    if direct is not None:
        return Report(direct, keys, error)
    if facts.runs_dbt(failure.step):
        # models that did not build; none missing means only tests failed (reported already)
        expected = set(keys) & planned if planned else set(keys)
        missing = sorted(expected - materialized - checked, key=str)
        cause = not_loaded_yet(error)
        error = f"{cause}\n\n{error}" if cause else error
        return Report(FailureKind.DBT_MODEL_FAILED, missing, error) if missing else None
    if PUBLISH_KEY in keys:  # a failed verification or a held gate: its check says it
        return None if reported_by_check else Report(FailureKind.PUBLISH_FAILED, keys, error)
    if set(keys) & facts.fivetran_keys:
        return Report(FailureKind.FIVETRAN_SYNC_FAILED, keys, error)
    if reported_by_check and set(keys) & checked:
        return None  # the schema_contract check failure says it, with the columns
    return Report(FailureKind.SOURCE_LOAD_FAILED, keys, error) if keys else None


def merge_shared(reports: list[Report]) -> list[Report]:
    """Every step failed for the same reason (another run, the warehouse file, the disk):
    one incident says it, for all their assets."""
    merged = [r for r in reports if r.kind not in SHARED_CAUSES]
    for kind in SHARED_CAUSES:
        same = [r for r in reports if r.kind is kind]
        if same:
            keys = sorted({key for r in same for key in r.keys}, key=str)
            merged.append(Report(kind, keys, same[0].error))
    return merged


def run_report(
    status: dg.DagsterRunStatus,
    past_max_runtime: str | None,
    planned: set[dg.AssetKey] | None,
    explained: bool,
) -> Report | None:
    """The run's own report: hung past its maximum runtime, or failed with nothing more
    specific to say (`explained`: its steps and checks already reported something)."""
    keys = sorted(planned or [], key=str)
    if status in _STOPPED and past_max_runtime:
        return Report(FailureKind.RUN_HUNG, keys, past_max_runtime)
    if status == dg.DagsterRunStatus.FAILURE and not explained:
        return Report(FailureKind.RUN_FAILED, keys)
    return None


def classify(
    status: dg.DagsterRunStatus,
    events: Iterable[RunEvent],
    facts: GraphFacts,
    planned: set[dg.AssetKey] | None,
    exception_kinds: ExceptionKinds,
) -> RunFindings:
    """Everything a finished run says; `planned`: the assets it set out to materialize."""
    findings = RunFindings()
    failures: dict[str, StepFailure] = {}  # the last failure of each step
    failed_checks: list[CheckEvaluation] = []
    past_max_runtime: str | None = None
    for event in events:
        match event:
            case StoppedPastMaxRuntime(message):
                past_max_runtime = message
            case StepFailure():
                failures[event.step] = event
            case Materialization(key):
                findings.materialized.add(key)
            case CheckEvaluation(key=key) if key.name == INCIDENT_CHECK:
                pass  # the incidents' own mirror on an asset's page: never one itself
            case CheckEvaluation(passed=True):
                findings.passed_checks.append(event.key)
            case CheckEvaluation():
                failed_checks.append(event)
    reports = [
        Report(check_kind(c, facts), [c.key.asset_key], c.description, c.key.name)
        for c in failed_checks
    ]
    kinds = kinds_by_name(exception_kinds)
    checked = {c.key.asset_key for c in failed_checks}
    for failure in failures.values():
        report = step_report(
            failure,
            facts,
            kinds,
            planned=planned,
            materialized=findings.materialized,
            checked=checked,
        )
        reports += [report] if report else []
    findings.reports = merge_shared(reports)
    last = run_report(status, past_max_runtime, planned, explained=bool(findings.reports))
    findings.reports += [last] if last else []
    return findings


# -- freshness and hung runs ----------------------------------------------------------------
def stale_and_fresh(states: Mapping[str, str]) -> tuple[list[dg.AssetKey], list[dg.AssetKey]]:
    """(beyond their fail window, within it), as Dagster's freshness daemon judged them
    against the catalog's policies (`states`: "PASS", "WARN", "FAIL", "UNKNOWN" by asset);
    one evaluation, Dagster's, read by the incidents and so by the dashboard. Never judged,
    never loaded (UNKNOWN) or not applicable is neither."""
    stale = [dg.AssetKey.from_user_string(k) for k, s in sorted(states.items()) if s == "FAIL"]
    fresh = [
        dg.AssetKey.from_user_string(k) for k, s in sorted(states.items()) if s in ("PASS", "WARN")
    ]
    return stale, fresh


def staleness_kind(key: dg.AssetKey) -> FailureKind:
    return FailureKind.PUBLISHED_FILE_STALE if key == PUBLISH_KEY else FailureKind.SOURCE_STALE


class Ongoing:
    """The ids of an ongoing condition already reported (a hung run): one report each.

    Only what is ongoing now is remembered, so the set is bounded by the runs hung at once,
    however long the process lives; a condition that ended and comes back is new again.
    """

    def __init__(self) -> None:
        self._reported: frozenset[str] = frozenset()

    def new(self, ongoing: Sequence[str]) -> list[str]:
        """Of the ids ongoing now, those not reported yet, in their order."""
        fresh = [i for i in ongoing if i not in self._reported]
        self._reported = frozenset(ongoing)
        return fresh

    def __len__(self) -> int:
        return len(self._reported)
