"""The dbt project as Dagster assets: keys, groups, owners and kinds from one translator."""

import fcntl
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtCliRuntimeError,
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dbt import version as dbt_version
from packaging import version

from ddrc_platform.deployment import Settings
from ddrc_platform.project import dbt_project
from ddrc_platform.raw_assets import OWNERS
from ddrc_platform.warehouse import Warehouse

SUMMARY_KEY = dg.AssetKey(["summary", "ddrc_metrics_summary"])
TRANSFORM_GROUP = "transform"


def _project_files_newer_than(project: DbtProject, moment: float) -> bool:
    for folder in ("models", "macros", "seeds", "tests", "snapshots"):
        for path in (Path(project.project_dir) / folder).rglob("*"):
            if path.is_file() and path.stat().st_mtime > moment:
                return True
    return any(
        (Path(project.project_dir) / name).stat().st_mtime > moment
        for name in ("dbt_project.yml", "profiles.yml")
    )


def prepare_manifest(project: DbtProject) -> Path:
    """Parse the project once, when there is no manifest or a project file is newer.

    Not `prepare_if_dev()`: that re-parses in every process that loads the code
    (each step of a multiprocess run), which multiplied a tiny run's time by four.
    """
    manifest = Path(project.manifest_path)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # one parser at a time: test workers and code servers may start together
    with (manifest.parent / ".prepare.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or _project_files_newer_than(project, manifest.stat().st_mtime):
            project.preparer.prepare(project)
    return manifest


class DdrcDbtTranslator(DagsterDbtTranslator):
    """Keys by layer (`staging/…`, `marts/…`, `summary/ddrc_metrics_summary`), groups by domain."""

    def __init__(self, warehouse_kind: str) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.warehouse_kind = warehouse_kind

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key: the loader
        name = dbt_resource_props["name"]
        if name == SUMMARY_KEY.path[-1]:
            return SUMMARY_KEY
        fqn = dbt_resource_props.get("fqn") or []
        layer = (
            fqn[1]
            if dbt_resource_props["resource_type"] == "model" and len(fqn) > 2
            else (dbt_resource_props["resource_type"] + "s")
        )
        return dg.AssetKey([layer, name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        domain = (dbt_resource_props.get("meta") or {}).get("domain") or (
            dbt_resource_props.get("config", {}).get("meta") or {}
        ).get("domain")
        return domain or TRANSFORM_GROUP

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        description = dbt_resource_props.get("description") or ""
        path = dbt_resource_props.get("original_file_path", "")
        return f"{description}\n\nDefined in `ddrc_dbt/{path}`.".strip()

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        # the manifest names the adapter it was parsed for; the deployment decides
        spec = super().get_asset_spec(manifest, unique_id, project)
        return spec.replace_attributes(kinds={"dbt", self.warehouse_kind})


def with_row_counts(
    events: Iterable[Any], manifest: Mapping[str, Any], warehouse: Warehouse
) -> Iterator[Any]:
    """Add `dagster/row_count` to each built model, counted through our own warehouse.

    Not dagster-dbt's `fetch_row_counts()`: it opens the dbt adapter in this process, and
    dbt-duckdb keeps that DuckDB file open process-wide, locking out the next dbt run.
    """
    nodes = manifest["nodes"]
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            unique_id = event.metadata.get("unique_id")
            node = nodes.get(unique_id.value) if unique_id else None
            if node and node["resource_type"] in ("model", "seed"):
                counted = warehouse.query(f"select count(*) as n from {node['relation_name']}")
                metadata = {**event.metadata, "dagster/row_count": counted.column("n")[0].as_py()}
                event = event.with_metadata(metadata)
        yield event


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """dbt runs as a subprocess and reads DDRC_HOME from its environment (profiles.yml)."""
    previous = os.environ.get("DDRC_HOME")
    os.environ["DDRC_HOME"] = str(settings.home)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DDRC_HOME", None)
        else:
            os.environ["DDRC_HOME"] = previous


def build_dbt_assets(settings: Settings, warehouse_kind: str) -> dg.AssetsDefinition:
    project = dbt_project(settings.deployment.value)
    manifest = prepare_manifest(project)

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=DdrcDbtTranslator(warehouse_kind),
        name="ddrc_dbt",
    )
    def ddrc_dbt(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        analytics: dg.ResourceParam[Warehouse],
    ) -> Iterator[Any]:
        with dbt_environment(settings):
            # one stable target path per DDRC_HOME lets dbt parse partially (runs are serial)
            invocation = dbt.cli(["build"], context=context, target_path=settings.home / "dbt")
        # dbt holds the DuckDB file while it runs: count rows once it has finished, and
        # report what did build even when a test failed (its check result included)
        events: list[Any] = []
        try:
            events.extend(invocation.stream())
        except DagsterDbtCliRuntimeError:
            yield from with_row_counts(events, invocation.manifest, analytics)
            raise
        yield from with_row_counts(events, invocation.manifest, analytics)

    return ddrc_dbt


class DdrcDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without two start-up costs we measured and do not need.

    Each `cli()` call ran `dbt --version` in a subprocess (2.9 s) and built an in-process
    dbt adapter (2.8 s) that only `fetch_row_counts()` uses — which we replace with
    `with_row_counts`, since that adapter holds the DuckDB file. dbt-core is installed in
    this very environment, so its version is known without a subprocess.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(dbt_version.__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def build_dbt_resource(settings: Settings) -> DbtCliResource:
    return DdrcDbtCliResource(
        project_dir=dbt_project(settings.deployment.value),
        target=settings.deployment.value,
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )


def model_relation(manifest: Mapping[str, Any], name: str) -> str:
    """A model's relation as dbt names it for the target the manifest was parsed for."""
    return next(
        n["relation_name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["name"] == name
    )


def summary_relation(dbt_assets_def: dg.AssetsDefinition) -> str:
    manifest = dbt_assets_def.metadata_by_key[SUMMARY_KEY]["dagster_dbt/manifest"].manifest
    return model_relation(manifest, SUMMARY_KEY.path[-1])


def blocking_check_keys(
    dbt_assets_def: dg.AssetsDefinition, key: dg.AssetKey
) -> list[dg.AssetCheckKey]:
    """The dbt tests on `key` that hold publication back (error severity)."""
    return [
        spec.key for spec in dbt_assets_def.check_specs if spec.asset_key == key and spec.blocking
    ]
