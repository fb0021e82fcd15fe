"""The dbt manifest: prepared once at an entry, only read when the definitions are built."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from ddrc_platform.integrations.dagster_dbt import DdrcDbtCliResource
from ddrc_platform.transform import project
from ddrc_platform.transform.assets import load_dates
from ddrc_platform.transform.children import guarded_command
from ddrc_platform.transform.manifests import (
    FINGERPRINT_FILE,
    dbt_vars,
    manifest_problem,
    parse_args,
    project_fingerprint,
    stale_targets,
    vars_args,
)
from ddrc_platform.transform.project import ManifestNotPrepared

RULE = "models/intermediate/int_malibu__metrics_by_load_date.sql"
PARSE = ["parse", "--quiet"]


@pytest.fixture
def dbt_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project (no target/), which the module then points at."""
    copy = tmp_path / "ddrc_dbt"
    shutil.copytree(project.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(project, "DBT_PROJECT_DIR", copy)
    return copy


def test_the_fingerprint_follows_what_dbt_parses_not_file_times(dbt_copy: Path):
    before = project_fingerprint(dbt_copy, PARSE)
    os.utime(dbt_copy / RULE, (0, 0))  # a checkout or a copy into an image moves times
    (dbt_copy / "target").mkdir()
    (dbt_copy / "target" / "run_results.json").write_text("{}")  # what dbt writes
    assert project_fingerprint(dbt_copy, PARSE) == before
    assert project_fingerprint(dbt_copy, [*PARSE, "--vars", "{}"]) != before
    rule = dbt_copy / RULE
    rule.write_text(rule.read_text() + "\n-- reviewed\n")
    assert project_fingerprint(dbt_copy, PARSE) != before


def test_a_manifest_is_usable_only_with_the_fingerprint_it_was_parsed_from(tmp_path: Path):
    manifest = tmp_path / "manifest.json"
    assert manifest_problem(manifest, "abc") == "is missing"
    manifest.write_text("{}")
    assert manifest_problem(manifest, "abc") == "was parsed from other project files"
    (tmp_path / FINGERPRINT_FILE).write_text("abc\n")
    assert manifest_problem(manifest, "abc") is None
    assert manifest_problem(manifest, "def") == "was parsed from other project files"


def test_one_project_per_inputs_in_a_process(dbt_copy: Path):
    """A load asks for the same project several times; another home or copy is another one."""
    local = project.dbt_project("local")
    assert project.dbt_project("local") is local
    assert Path(local.project_dir) == dbt_copy  # the module's project directory is a key
    home = project.dbt_project("local", Path("/h/target"), {"snowflake_role": "R"})
    assert home is not local and home.target_path == Path("/h/target")
    assert project.dbt_project("local", Path("/h/target"), {"snowflake_role": "R"}) is home


def test_the_quick_check_names_the_targets_a_prepare_would_parse(tmp_path: Path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1")
    for target in ("local", "dev"):
        parsed = tmp_path / "target" / target
        parsed.mkdir(parents=True)
        (parsed / "manifest.json").write_text("{}")
        fingerprint = project_fingerprint(tmp_path, parse_args(target))
        (parsed / FINGERPRINT_FILE).write_text(fingerprint + "\n")
    assert stale_targets(tmp_path) == ["prd"]  # never parsed
    (tmp_path / "models" / "a.sql").write_text("select 2")
    assert stale_targets(tmp_path) == ["local", "dev", "prd"]


@pytest.mark.slow
def test_loading_reads_a_prepared_manifest_and_says_what_to_run_otherwise(dbt_copy: Path):
    local = project.dbt_project("local")
    with pytest.raises(
        ManifestNotPrepared, match=r"is missing: run `./ddrc prepare --target local`"
    ):
        project.require_manifest(local)

    manifest = project.prepare_manifest(local)
    assert project.require_manifest(local) == manifest
    parsed_at = manifest.stat().st_mtime_ns
    assert project.prepare_manifest(local) == manifest  # a second entry parses nothing
    assert manifest.stat().st_mtime_ns == parsed_at

    rule = dbt_copy / RULE
    rule.write_text(rule.read_text() + "\n-- reviewed\n")
    with pytest.raises(ManifestNotPrepared, match="parsed from other project files: run") as error:
        project.require_manifest(local)
    assert "\n" not in str(error.value)


@pytest.mark.slow
def test_a_home_parsed_at_entry_is_only_parsed_partially_by_its_runs(tmp_path: Path):
    """A new home starts from the shared parse (copied, not parsed again), then a run's
    invocation with other load dates, in the home as runs start it: no full parse."""
    home = tmp_path / "home"
    variables = dbt_vars("local")
    target_path = home / "dbt"
    manifest = project.prepare_home("local", variables, home, target_path)
    assert manifest.read_bytes() == Path(project.dbt_project("local").manifest_path).read_bytes()
    assert not (target_path / "dbt.log").exists()  # copied: no dbt started
    assert project.prepare_home("local", variables, home, target_path) == manifest  # once
    executable, flags = guarded_command(home)
    dbt = DdrcDbtCliResource(
        project_dir=project.dbt_project("local", target_path, variables),
        dbt_executable=executable,
        global_config_flags=flags,
    )
    listed = dbt.cli(
        ["ls", "--select", "metric_history", *vars_args(variables)],
        target_path=target_path,
        environment=load_dates(date(2025, 6, 1), date(2025, 6, 3)),
    ).wait()
    assert listed.is_successful()
    log = (target_path / "dbt.log").read_text()
    assert "metric_history" in log and "Unable to do partial parsing" not in log
