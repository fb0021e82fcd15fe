"""The schema contract of a raw table: its documented columns, matched case-insensitively.

A missing documented column fails the load before anything is written (the metrics
would silently change); a new, undocumented column is kept and reported, because
sources add fields far more often than they break.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ddrc_platform.core.catalog import RawTable


class SchemaContractError(ValueError):
    """A source stopped delivering documented columns."""


@dataclass(frozen=True)
class ContractReport:
    table: RawTable
    missing: tuple[str, ...]
    undocumented: tuple[str, ...]

    @property
    def summary(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"missing documented columns: {', '.join(self.missing)}")
        if self.undocumented:
            parts.append(f"new undocumented columns: {', '.join(self.undocumented)}")
        return f"{self.table.title} ({self.table.path}): " + (
            "; ".join(parts) or "columns match the documentation"
        )


def check_columns(
    table: RawTable, delivered: Iterable[str], source_system: Iterable[str] = ()
) -> ContractReport:
    """Compare delivered source columns (any case) with the documentation (upper case).

    `source_system` are the source's own bookkeeping fields (an ArcGIS layer's object id
    field, its global id, geometry measures): never reported as new columns.
    """
    delivered_upper = [name.upper() for name in delivered]
    system = set(table.system_columns) | {name.upper() for name in source_system}
    return ContractReport(
        table=table,
        missing=tuple(c for c in table.columns if c not in delivered_upper),
        undocumented=tuple(
            c for c in delivered_upper if c not in table.columns and c not in system
        ),
    )


def enforce(report: ContractReport) -> None:
    if report.missing:
        raise SchemaContractError(report.summary)
