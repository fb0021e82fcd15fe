"""Documentation coverage, judged once from the manifest and a built warehouse, not per run."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ddrc_platform.transform.documentation import column_drift, documentation_gaps
from ddrc_platform.transform.manifests import TARGETS
from ddrc_platform.transform.project import dbt_project


def _manifest(target: str = "local") -> dict:
    return json.loads(Path(dbt_project(target).manifest_path).read_text())


def _node(kind: str, name: str, columns: dict[str, str], description: str = "d") -> dict:
    return {
        "unique_id": f"{kind}.ddrc_dbt.{name}",
        "resource_type": kind,
        "description": description,
        "schema": "staging",
        "alias": name,
        "identifier": name.upper(),
        "columns": {c: {"name": c, "description": text} for c, text in columns.items()},
    }


@pytest.mark.parametrize("target", TARGETS)
def test_every_model_seed_source_and_column_is_documented(target: str) -> None:
    assert documentation_gaps(_manifest(target)) == []


def test_gaps_name_the_node_and_the_column() -> None:
    manifest = {
        "nodes": {
            "model.ddrc_dbt.a": _node("model", "a", {"x": "", "y": "why"}),
            "model.ddrc_dbt.b": _node("model", "b", {}, description=" "),
            "test.ddrc_dbt.t": {**_node("test", "t", {}), "description": ""},
        },
        "sources": {"source.ddrc_dbt.s.t": _node("source", "s", {"C": "c"})},
    }
    assert documentation_gaps(manifest) == [
        "model.ddrc_dbt.a: column x has no description",
        "model.ddrc_dbt.b: no description",
        "model.ddrc_dbt.b: no documented columns",
    ]


def test_drift_names_a_renamed_column_both_ways_and_an_unbuilt_model() -> None:
    manifest = {
        "nodes": {
            "model.ddrc_dbt.a": _node("model", "a", {"council_district": "d", "id": "i"}),
            "model.ddrc_dbt.b": _node("model", "b", {"x": "x"}),
        },
        "sources": {},
    }
    actual = {"staging.a": ["ID", "COUNCIL_WARD"]}
    assert column_drift(manifest, actual) == [
        "model.ddrc_dbt.a: documented but not built: council_district",
        "model.ddrc_dbt.a: built but not documented: council_ward",
        "model.ddrc_dbt.b: staging.b was not built",
    ]
    assert column_drift(manifest, {**actual, "staging.a": ["id", "Council_District"],
                                   "staging.b": ["X"]}) == []  # fmt: skip


def test_every_built_model_and_seed_has_exactly_its_documented_columns(built_home: Path) -> None:
    with duckdb.connect(str(built_home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name, column_name "
            "from information_schema.columns order by ordinal_position"
        ).fetchall()
    actual: dict[str, list[str]] = {}
    for relation, column in rows:
        actual.setdefault(relation.lower(), []).append(column)
    assert column_drift(_manifest(), actual) == []
