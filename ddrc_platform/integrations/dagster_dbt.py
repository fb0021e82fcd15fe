"""dagster-dbt internals: a CLI resource without two start-up costs, and the manifest
the dbt assets were built from.

`cli()` also takes variables for the dbt child's environment (dagster-dbt has no such
parameter): the history's load dates travel there, not in `--vars` (`transform/assets.py`).

Each `cli()` call ran `dbt --version` in a subprocess (2.9 s) and built an in-process
dbt adapter (2.8 s) that only `fetch_row_counts()` uses, which we replace with our own
row counts (`defs/transform/dbt_assets.py`), since that adapter holds the DuckDB file.
dbt-core is installed in this very environment, so its version is known without a
subprocess. Both override private members; tests/test_integrations.py fails loudly when
an upgrade moves them.

dagster-dbt keeps each dbt asset's manifest and node id under metadata keys it does not
export (`dbt_manifest`, `dbt_unique_id`); tests/test_integrations_dbt.py fails when an
upgrade moves them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_MANIFEST_METADATA_KEY,
    DAGSTER_DBT_UNIQUE_ID_METADATA_KEY,
)
from dbt import version as dbt_version
from packaging import version


class DdrcDbtCliResource(DbtCliResource):
    def cli(  # type: ignore[override]
        self, args: Sequence[str], *, environment: Mapping[str, str] | None = None, **kwargs: Any
    ) -> DbtCliInvocation:
        """`cli()` with variables for this dbt child's environment only.

        dagster-dbt builds the child's environment from `os.environ` inside `cli()` and takes
        no variables of its own; the process's environment is extended for the duration of
        the call (the child is started before it returns) and restored after. Steps of one
        process run one at a time, so no other step sees the extension.
        """
        with _extended_environment(environment or {}):
            return super().cli(args, **kwargs)

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(dbt_version.__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


@contextmanager
def _extended_environment(extra: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_manifest(dbt_assets_def: dg.AssetsDefinition, key: dg.AssetKey) -> Mapping[str, Any]:
    """The parsed manifest `@dbt_assets` attached to `key`: no public accessor exists."""
    return dbt_assets_def.metadata_by_key[key][DAGSTER_DBT_MANIFEST_METADATA_KEY].manifest


def dbt_unique_id(dbt_assets_def: dg.AssetsDefinition, key: dg.AssetKey) -> str:
    """The dbt node behind an asset of `@dbt_assets`: kept under an unexported metadata key."""
    return dbt_assets_def.get_asset_spec(key).metadata[DAGSTER_DBT_UNIQUE_ID_METADATA_KEY]
