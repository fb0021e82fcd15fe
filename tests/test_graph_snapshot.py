"""The graph's structure, per deployment, against a committed snapshot.

Any change to keys, deps, groups, kinds, owners, tags, freshness, automation, partitions,
checks, jobs, schedules or sensors shows up here as a readable diff. An intended change
updates the snapshot in the same commit:

    uv run pytest tests/test_graph_snapshot.py --update-snapshots
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ddrc_platform.definitions import build_definitions
from ddrc_platform.settings import load_settings
from tests.support import PLACEHOLDERS

SNAPSHOT_DIR = Path(__file__).parent / "snapshots"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def describe(defs: dg.Definitions) -> dict[str, Any]:
    """Everything structural about a Definitions, in a stable, diffable shape."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "tags": dict(sorted(node.tags.items())),
            "freshness": _text(node.freshness_policy),
            "automation": _text(node.automation_condition),
            "partitions": _text(partitions),
            "backfill_policy": _text(node.backfill_policy),
            "pools": sorted(node.pools or []),
            "executable": node.is_executable,
        }
    checks = {
        f"{check.asset_key.to_user_string()}:{check.name}": {
            "blocking": graph.get_check_spec(check).blocking,
            "automation": _text(graph.get_check_spec(check).automation_condition),
        }
        for check in sorted(graph.asset_check_keys, key=str)
    }
    repository = defs.get_repository_def()
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in repository.get_all_jobs() if not j.name.startswith("__")),
        "schedules": {
            s.name: {
                "cron": s.cron_schedule,
                "timezone": s.execution_timezone,
                "status": s.default_status.value,
                "target": s.job_name,
            }
            for s in sorted(repository.schedule_defs, key=lambda s: s.name)
        },
        "sensors": {
            s.name: {
                "status": s.default_status.value,
                "interval": s.minimum_interval_seconds,
                "type": s.sensor_type.value,
            }
            for s in sorted(repository.sensor_defs, key=lambda s: s.name)
        },
    }


@pytest.mark.parametrize("deployment", ["local", "dev", "prd"])
def test_graph_matches_its_snapshot(deployment, tmp_path, monkeypatch, request):
    env = {"DDRC_DEPLOYMENT": deployment, "DDRC_HOME": str(tmp_path)}
    if deployment != "local":
        env |= PLACEHOLDERS
    for name, value in env.items():  # EnvVar-backed secrets resolve from the process
        monkeypatch.setenv(name, value)
    actual = json.dumps(describe(build_definitions(load_settings(env))), indent=2) + "\n"
    path = SNAPSHOT_DIR / f"graph-{deployment}.json"
    if request.config.getoption("--update-snapshots"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"no snapshot {path}: run with --update-snapshots and commit it"
    expected = path.read_text()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"{path.name} (committed)",
                f"{path.name} (this code)",
                n=2,
            )
        )
        pytest.fail(
            f"the {deployment} graph differs from its snapshot; if intended, run "
            f"`uv run pytest tests/test_graph_snapshot.py --update-snapshots` and commit:\n{diff}"
        )
