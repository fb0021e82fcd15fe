"""Which published metrics a failure touches, from the asset graph.

A responder's first question is "what does the public see?". Each published metric names
the raw tables it is computed from (the dbt metric catalog knows; the lead builds the
mapping from it); the asset graph knows everything between those tables and the published
file. A failed asset affects metric M when it is one of M's raw tables, or lies downstream
of one of them and upstream of (or is) the published file.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol

import dagster as dg

from ddrc_platform.core.names import PUBLISH_KEY, SUMMARY_KEY

AssetRef = dg.AssetKey | str  # "raw/epa/public_status_assessment" or its AssetKey

# metric name -> the raw asset keys that feed it
MetricSources = Mapping[str, Collection[AssetRef]]


class _Node(Protocol):
    @property
    def parent_keys(self) -> Collection[dg.AssetKey]: ...

    @property
    def child_keys(self) -> Collection[dg.AssetKey]: ...


class AssetGraphLike(Protocol):
    """What lineage needs of a graph: `Definitions.resolve_asset_graph()` provides it."""

    def has(self, key: dg.AssetKey) -> bool: ...

    def get(self, key: dg.AssetKey) -> _Node: ...


def as_key(ref: AssetRef) -> dg.AssetKey:
    return ref if isinstance(ref, dg.AssetKey) else dg.AssetKey.from_user_string(ref)


def _walk(graph: AssetGraphLike, starts: Iterable[dg.AssetKey], down: bool) -> set[dg.AssetKey]:
    """The start keys and everything reachable from them (down- or upstream)."""
    seen: set[dg.AssetKey] = set()
    todo = [key for key in starts if graph.has(key)]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        node = graph.get(key)
        todo.extend(node.child_keys if down else node.parent_keys)
    return seen


class MetricLineage:
    """The asset → published metrics map, computed once per definitions load.

    Sensors build it when the definitions load and ask it per failure; the graph walk
    happens here, not on every tick.
    """

    def __init__(
        self,
        metric_sources: MetricSources,
        graph: dg.Definitions | AssetGraphLike,
        publish_key: AssetRef = PUBLISH_KEY,
        summary_key: AssetRef = SUMMARY_KEY,
    ) -> None:
        if isinstance(graph, dg.Definitions):
            graph = graph.resolve_asset_graph()
        self.metrics = tuple(metric_sources)
        self.sources = {m: frozenset(as_key(s) for s in srcs) for m, srcs in metric_sources.items()}
        publish, summary = as_key(publish_key), as_key(summary_key)
        feeding_publish = _walk(graph, [publish], down=False)
        self._by_asset: dict[dg.AssetKey, set[str]] = {}
        for metric, raw in self.sources.items():
            for key in raw | (_walk(graph, raw, down=True) & feeding_publish):
                self._by_asset.setdefault(key, set()).add(metric)
        # the file and the table it is built from carry every metric, whatever the graph says
        for key in (publish, summary):
            self._by_asset[key] = set(self.metrics)

    def affected(self, asset_keys: Iterable[AssetRef]) -> list[str]:
        """The published metrics the failed assets feed, in the metric catalog's order."""
        hit: set[str] = set()
        for ref in asset_keys:
            hit |= self._by_asset.get(as_key(ref), set())
        return [m for m in self.metrics if m in hit]

    def fed_by(self, raw_key: AssetRef) -> list[str]:
        """The metrics computed from this raw table (e.g. every Airtable metric)."""
        key = as_key(raw_key)
        return [m for m, raw in self.sources.items() if key in raw]


def affected_metrics(
    asset_keys: Iterable[AssetRef],
    graph: dg.Definitions | AssetGraphLike,
    metric_sources: MetricSources,
) -> list[str]:
    """One-off form of `MetricLineage(...).affected(...)`."""
    return MetricLineage(metric_sources, graph).affected(asset_keys)
