"""One declaration per source: every fact present, every fact used where it is needed."""

from __future__ import annotations

import csv
import dataclasses
import re
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
import yaml

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Family, RawTable
from ddrc_platform.ingest.sources.arcgis import LayerData
from ddrc_platform.settings import load_settings
from ddrc_platform.transform.manifests import DBT_PROJECT_DIR
from tests.raw_tables import RAW_DDL

DAY = date(2025, 6, 2)
OPTIONAL = {"record_key", "metric_family", "runbook_note", "docs_url", "endpoint", "edit_field"}
SHAPES = {
    Family.ARCGIS: LayerData,
    Family.MALIBU: list,
    Family.AIRTABLE: list,
    Family.FEEDBACK: pa.Table,
}


@pytest.mark.parametrize("table", catalog.RAW_TABLES, ids=lambda t: t.name)
def test_every_declared_source_has_every_fact(table: RawTable):
    for field in dataclasses.fields(RawTable):
        value = getattr(table, field.name)
        if field.name not in OPTIONAL and field.name != "synced_by_fivetran":
            assert value not in (None, "", ()), f"{table.name} lacks {field.name}"
    assert isinstance(table.freshness, dg.FreshnessPolicy)
    assert table.endpoint is not None or table.docs_url, f"{table.name}: where does it come from?"
    assert table.source_url.startswith("https://")
    if table.keeping is catalog.Keeping.CURRENT_STATE:
        assert table.record_key in table.columns
    if table.edit_field:
        assert table.edit_field in table.columns
    data = catalog.sample_data(table, scale=0.05, day=DAY)
    assert isinstance(data, SHAPES[table.family]), f"{table.name}: sample of the wrong shape"
    assert len(data.table if isinstance(data, LayerData) else data) > 0


def test_keys_names_and_warehouse_tables_are_unique():
    for attribute in ("name", "asset_key", "path"):
        values = [getattr(t, attribute) for t in catalog.RAW_TABLES]
        assert len(values) == len(set(values)), attribute


def test_every_metric_family_of_the_metric_catalog_is_declared_by_one_table():
    with (DBT_PROJECT_DIR / "seeds" / "metric_catalog.csv").open() as handle:
        families = {row["source"] for row in csv.DictReader(handle)}
    declared = catalog.by_metric_family()
    assert families <= declared.keys(), families - declared.keys()
    assert len(declared) == sum(1 for t in catalog.RAW_TABLES if t.metric_family)


def test_endpoints_become_settings_with_their_variables_and_public_defaults(tmp_path):
    env = {t.endpoint.variable: f"https://mirror.example/{t.name}" for t in catalog.ARCGIS_TABLES}
    settings = load_settings({"DDRC_HOME": str(tmp_path), **env})
    for table in catalog.RAW_TABLES:
        if table.endpoint is None:
            continue
        configured = settings.endpoint(table.endpoint.setting).url
        if table.family is Family.ARCGIS:
            assert configured == f"https://mirror.example/{table.name}"
        else:
            assert configured == table.endpoint.default
        assert table.endpoint.public_url.endswith(table.endpoint.stand_in_path)
    # the four Malibu endpoints share one server and one variable
    malibu = {t.endpoint.variable for t in catalog.MALIBU_TABLES if t.endpoint}
    assert malibu == {"DDRC_MALIBU_BASE_URL"}


# -- the documented columns: declared in the catalog, checked everywhere else --------------
SOURCES_DOC = Path(__file__).parents[1] / "docs" / "sources.md"


def _dbt_source_columns() -> dict[tuple[str, ...], list[str]]:
    """asset key path -> the columns its dbt source declares, in order."""
    declared = {}
    for path in sorted((DBT_PROJECT_DIR / "models" / "staging").rglob("_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                key = tuple(table["config"]["meta"]["dagster"]["asset_key"])
                declared[key] = [column["name"] for column in table["columns"]]
    return declared


def test_dbt_sources_declare_exactly_the_catalog_columns():
    declared = _dbt_source_columns()
    assert set(declared) == {tuple(t.asset_key.path) for t in catalog.RAW_TABLES}
    for table in catalog.RAW_TABLES:
        assert declared[tuple(table.asset_key.path)] == list(table.all_columns), table.name


def test_docs_list_the_catalog_columns_of_every_source():
    """Each bullet names its table (`SCHEMA.TABLE`) and lists its columns in backticks, in
    the case the source delivers them; our own bookkeeping columns may be left out."""
    lines = SOURCES_DOC.read_text().splitlines()
    for table in catalog.RAW_TABLES:
        (line,) = [line for line in lines if line.startswith("- ") and f"(`{table.path}`)" in line]
        lists = [span for span in line.split("`")[1::2] if "," in span]
        documented = {name.strip().upper() for names in lists for name in names.split(",")}
        assert set(table.columns) <= documented <= set(table.all_columns), table.name


def test_the_dbt_rule_tests_build_raw_tables_of_the_catalog_columns():
    created = re.findall(r"create table (\w+\.\w+) \((.*?)\);", RAW_DDL, re.DOTALL)
    by_path = {t.path: t for t in catalog.RAW_TABLES}
    assert {path for path, _ in created} == set(by_path)
    for path, body in created:
        lines = [line for line in body.splitlines() if not line.strip().startswith("--")]
        columns = [c.split()[0] for c in " ".join(lines).split(",") if c.strip()]
        assert columns == list(by_path[path].all_columns), path
