"""dagster-dbt's CLI resource without two start-up costs we measured and do not need.

Each `cli()` call ran `dbt --version` in a subprocess (2.9 s) and built an in-process
dbt adapter (2.8 s) that only `fetch_row_counts()` uses, which we replace with our own
row counts (`transform/assets.py`), since that adapter holds the DuckDB file. dbt-core is
installed in this very environment, so its version is known without a subprocess. Both
override private members; tests/test_integrations.py fails loudly when an upgrade moves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from dagster_dbt import DbtCliResource
from dbt import version as dbt_version
from packaging import version


class DdrcDbtCliResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(dbt_version.__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None
