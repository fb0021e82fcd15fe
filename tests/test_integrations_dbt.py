"""dagster-dbt's manifest metadata, read privately by `integrations/dagster_dbt.py`.

The publish stage finds the summary's relation in the manifest the dbt assets were built
from; dagster-dbt keeps it under a metadata key it does not export. When an upgrade moves
it, this test says so, not a publish run.
"""

from __future__ import annotations

import json

from dagster_dbt import dbt_assets
from dagster_dbt.asset_utils import DAGSTER_DBT_MANIFEST_METADATA_KEY

from ddrc_platform.core.names import SUMMARY_KEY
from ddrc_platform.integrations.dagster_dbt import dbt_manifest, dbt_unique_id
from ddrc_platform.transform.assets import summary_relation
from ddrc_platform.transform.project import dbt_project, prepare_manifest
from ddrc_platform.transform.translator import DdrcDbtTranslator


def test_dbt_assets_carry_their_manifest_under_the_key_we_read():
    path = prepare_manifest(dbt_project("local"))

    @dbt_assets(manifest=path, dagster_dbt_translator=DdrcDbtTranslator("duckdb"))
    def ddrc_dbt(): ...

    assert DAGSTER_DBT_MANIFEST_METADATA_KEY == "dagster_dbt/manifest"
    manifest = dbt_manifest(ddrc_dbt, SUMMARY_KEY)
    assert manifest["nodes"].keys() == json.loads(path.read_text())["nodes"].keys()
    assert summary_relation(ddrc_dbt) == '"warehouse"."marts"."ddrc_metrics_summary"'
    assert dbt_unique_id(ddrc_dbt, SUMMARY_KEY) == "model.ddrc_dbt.ddrc_metrics_summary"
