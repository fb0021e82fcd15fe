"""The schema contract of a raw table: its documented columns and their kinds.

A missing documented column or one whose kind changed (text served as numbers, numbers
as text) fails the load before anything is written: the metrics would silently change
meaning, so a person decides, and the kept snapshot stays until then. A new, undocumented
column is kept and reported, because sources add fields far more often than they break;
but a documented column gone while a new one appeared in the same delivery is a rename,
and is told as one ("X is gone, Y appeared").

Where the declared kinds come from: the catalog (`RawTable.kinds`), not the raw table's
column types in the warehouse. The catalog is the declaration every deployment shares
(DuckDB and Snowflake name their types differently, Fivetran creates its own tables),
it is reviewed with the code, and it already holds the documented names; types read
back from a warehouse would only repeat whatever the first delivery happened to bring,
bad or good, and differ between warehouses.

Names are decided here too (`column_names`): a source's field name becomes an upper-case
column name that every warehouse can hold, or the delivery is refused when that name
would be ambiguous for a documented column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ddrc_platform.core.catalog import Kind, RawTable

if TYPE_CHECKING:
    import pyarrow as pa

# Snowflake's longest identifier; longer names are shortened, the same in every warehouse.
MAX_COLUMN_NAME = 255


class SchemaContractError(ValueError):
    """A source stopped delivering documented columns, or changed their kind."""


def kind_of(data_type: pa.DataType) -> Kind | None:
    """The kind of an arrow type; None for a type that holds no value (all null)."""
    import pyarrow as pa  # only when data is checked: the definitions load without it

    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    checks: list[tuple[Callable[[pa.DataType], bool], Kind]] = [
        (pa.types.is_boolean, Kind.BOOLEAN),
        (lambda t: pa.types.is_integer(t) or pa.types.is_floating(t), Kind.NUMBER),
        (pa.types.is_decimal, Kind.NUMBER),
        (pa.types.is_timestamp, Kind.TIMESTAMP),
        (pa.types.is_date, Kind.DATE),
    ]
    if pa.types.is_null(data_type):
        return None
    return next((kind for check, kind in checks if check(data_type)), Kind.TEXT)


def delivered_kinds(data: pa.Table, typed: bool = False) -> dict[str, frozenset[Kind]]:
    """Column -> the kinds its values have. A column with no value says nothing (an empty
    set), unless the source typed it (`typed`: an ArcGIS layer's field list does)."""
    kinds: dict[str, frozenset[Kind]] = {}
    for name, column in zip(data.column_names, data.columns, strict=True):
        kind = kind_of(column.type)
        empty = column.null_count == len(column) and not typed
        kinds[name] = frozenset() if kind is None or empty else frozenset({kind})
    return kinds


def _digest(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:8].upper()


def column_names(
    delivered: Sequence[str],
    documented: Iterable[str],
    normalize: Callable[[str], str] = str.upper,
) -> dict[str, str]:
    """Delivered field name -> its column name: `normalize`d (upper case by default).

    Names that become one column (they differ only by case) would merge two fields into
    one: for a documented column that is ambiguous, and refused naming them; undocumented
    ones each keep a column of their own, suffixed with a digest of the delivered name.
    A name longer than any warehouse takes is shortened the same way.
    """
    proposed = {name: normalize(name) for name in delivered}
    groups: dict[str, list[str]] = {}
    for name, column in proposed.items():
        groups.setdefault(column, []).append(name)
    documented = set(documented)
    ambiguous = {c: names for c, names in groups.items() if len(names) > 1 and c in documented}
    if ambiguous:
        told = "; ".join(f"{', '.join(map(repr, n))} all mean {c}" for c, n in ambiguous.items())
        raise SchemaContractError(
            f"fields differ only by case, so which one is the documented column is "
            f"ambiguous: {told}"
        )
    keep = MAX_COLUMN_NAME - 9
    return {
        name: column
        if len(groups[column]) == 1 and len(column) <= MAX_COLUMN_NAME
        else f"{column[:keep]}_{_digest(name)}"
        for name, column in proposed.items()
    }


@dataclass(frozen=True)
class TypeChange:
    column: str
    declared: Kind
    delivered: frozenset[Kind]
    source_type: str | None = None  # the source's own name for it (an ArcGIS field type)

    def __str__(self) -> str:
        now = " and ".join(sorted(self.delivered))
        said = f" ({self.source_type})" if self.source_type else ""
        return f"{self.column} was {self.declared}, now {now}{said}"


@dataclass(frozen=True)
class ContractReport:
    table: RawTable
    missing: tuple[str, ...]
    undocumented: tuple[str, ...]
    changed: tuple[TypeChange, ...] = ()

    @property
    def refused(self) -> bool:
        """A documented column gone or of another kind: the delivery may not be kept."""
        return bool(self.missing or self.changed)

    @property
    def summary(self) -> str:
        parts = []
        if self.missing and self.undocumented:
            gone, new = ", ".join(self.missing), ", ".join(self.undocumented)
            parts.append(f"{gone} {'is' if len(self.missing) == 1 else 'are'} gone, {new} appeared")
        if self.missing:
            parts.append(f"missing documented columns: {', '.join(self.missing)}")
        if self.undocumented:
            parts.append(f"new undocumented columns: {', '.join(self.undocumented)}")
        if self.changed:
            parts.append(f"changed type: {'; '.join(map(str, self.changed))}")
        return f"{self.table.title} ({self.table.path}): " + (
            "; ".join(parts) or "columns match the documentation"
        )


def check_columns(
    table: RawTable,
    delivered: Mapping[str, frozenset[Kind]],
    source_system: Iterable[str] = (),
    *,
    omitted: Iterable[str] = (),
    source_types: Mapping[str, str] | None = None,
) -> ContractReport:
    """Compare delivered columns (any case, with their kinds) with the declaration.

    `source_system` are the source's own bookkeeping fields (an ArcGIS layer's object id
    field, its global id, geometry measures): never reported as new columns. `omitted`
    are documented columns that a source leaving out empty fields (Airtable) sent no value
    of: only empty while nothing new appeared, gone (renamed) when something did.
    """
    kinds = {name.upper(): found for name, found in delivered.items()}
    system = set(table.system_columns) | {name.upper() for name in source_system}
    undocumented = tuple(c for c in kinds if c not in table.columns and c not in system)
    absent = set(omitted) if undocumented else set()
    types = {k.upper(): v for k, v in (source_types or {}).items()}
    changed = tuple(
        TypeChange(c, table.column_kind(c), kinds[c], types.get(c))
        for c in table.columns
        if c in kinds and kinds[c] - {table.column_kind(c)}
    )
    return ContractReport(
        table=table,
        missing=tuple(c for c in table.columns if c not in kinds or c in absent),
        undocumented=undocumented,
        changed=changed,
    )


def enforce(report: ContractReport) -> None:
    if report.refused:
        raise SchemaContractError(
            f"{report.summary}. Refused: the kept data stays. If the source really changed, "
            "change the declaration (ddrc_platform/core/catalog.py, docs/sources.md) and the "
            "models that read the column, in one reviewed change."
        )
