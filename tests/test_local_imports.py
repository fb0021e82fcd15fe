"""The local deployment loads no cloud SDK: it must start fast and without them."""

from __future__ import annotations

import json
import subprocess
import sys

CLOUD_SDKS = (
    "snowflake.connector",
    "snowflake.core",
    "snowflake.snowpark",
    "dagster_snowflake",
    "azure.storage",
    "azure.identity",
    "dagster_azure",
    "dagster_fivetran",
)
# used only when a live Airtable is read, a responder is routed, or data is read or written
# (arrow tables, the DuckDB file), never to load the graph; nor is pyproject.toml read (tomlkit)
NOT_AT_LOAD = ("pyairtable", "holidays", "slack_sdk", "pyarrow", "numpy", "duckdb", "tomlkit")

# what `defs()` builds, without its entry's one-off dbt parse of this new home
PROBE = """
import gc, json, sys
import ddrc_platform.definitions as d
d.enter = lambda settings: None
d.defs()
print(json.dumps({"modules": sorted(sys.modules), "frozen": gc.get_freeze_count()}))
"""


def test_local_definitions_import_no_cloud_sdk_and_stay_out_of_the_collectors_sight(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"DDRC_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    probed = json.loads(done.stdout.splitlines()[-1])
    modules = probed["modules"]
    loaded = [m for m in modules if m.startswith(CLOUD_SDKS)]
    assert not loaded, f"the local definitions imported cloud SDKs: {loaded[:10]}"
    eager = [m for m in modules if m.startswith(NOT_AT_LOAD)]
    assert not eager, f"the definitions imported what they never call at load: {eager[:10]}"
    assert "ddrc_platform.definitions" in modules  # the probe really loaded them
    # the process keeps them for its life: out of the collector's sight (definitions.py)
    assert probed["frozen"] > 100_000, probed["frozen"]
