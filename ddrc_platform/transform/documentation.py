"""Documentation coverage of the dbt project, judged from its manifest and its relations.

What a model, seed or source documents can only change when the code changes, so it is
checked where the code is built (`prepare_manifest`, hence the image build and every test
session) and by the tests against a built warehouse, never in a pipeline run: as dbt tests
these checks were half of every build's tests and a third of its events. A source's
columns are the ingest contract's concern (`ingest/contract.py`), which refuses a load
before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTED_TYPES = ("model", "seed", "snapshot")


def _documented_nodes(manifest: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from (n for n in manifest["nodes"].values() if n["resource_type"] in DOCUMENTED_TYPES)
    yield from manifest["sources"].values()


def documentation_gaps(manifest: Mapping[str, Any]) -> list[str]:
    """Every node and every column it declares without a description, one line each.

    A node that declares no columns at all is a gap too: nothing would tell a reader (or
    `column_drift`) what it holds.
    """
    gaps: list[str] = []
    for node in _documented_nodes(manifest):
        name = node["unique_id"]
        if not (node.get("description") or "").strip():
            gaps.append(f"{name}: no description")
        if not node["columns"]:
            gaps.append(f"{name}: no documented columns")
        gaps += [
            f"{name}: column {column} has no description"
            for column, spec in node["columns"].items()
            if not (spec.get("description") or "").strip()
        ]
    return gaps


def relation_name(node: Mapping[str, Any]) -> str:
    """`schema.identifier`, lower case: how the warehouse's information schema names it."""
    identifier = node.get("identifier") if node["resource_type"] == "source" else node["alias"]
    return f"{node['schema']}.{identifier}".lower()


def column_drift(manifest: Mapping[str, Any], actual: Mapping[str, Iterable[str]]) -> list[str]:
    """Models and seeds whose built columns differ from their documented ones (any case).

    `actual` maps `relation_name` to the columns the warehouse reports; a node whose
    relation is absent from it was not built and is reported as such.
    """
    drift: list[str] = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in DOCUMENTED_TYPES:
            continue
        relation = relation_name(node)
        if relation not in actual:
            drift.append(f"{node['unique_id']}: {relation} was not built")
            continue
        built = [column.lower() for column in actual[relation]]
        documented = [column.lower() for column in node["columns"]]
        missing = [c for c in documented if c not in built]
        extra = [c for c in built if c not in documented]
        if missing:
            drift.append(f"{node['unique_id']}: documented but not built: {', '.join(missing)}")
        if extra:
            drift.append(f"{node['unique_id']}: built but not documented: {', '.join(extra)}")
    return drift
