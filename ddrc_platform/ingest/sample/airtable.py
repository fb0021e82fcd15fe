"""Sample Airtable metric entries, with the duplicates and blanks the real base has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from ddrc_platform.core import catalog
from ddrc_platform.core.names import PACIFIC
from ddrc_platform.ingest.sample.common import (
    WORK_HOURS,
    _day_index,
    _pacific_ms,
    _rng,
    _size,
)


# -- Airtable -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Definition:
    machine_name: str
    name: str
    title: str
    metric_type: str
    unit_label: str
    frequency: str  # as typed in Airtable: mixed case on purpose
    topic: str
    start: float
    growth: float
    first_day: int
    contact: int
    as_of_offset: int | None = None
    duplicated: bool = False  # every entry double-posted (identical fields)
    blank_followups: bool = False  # every entry followed by an empty one the same day


_DEFINITIONS = (
    _Definition("people_helped_drc", "People helped at Disaster Recovery Centers",
                "People helped at recovery centers", "count", "people helped", "Daily",
                "Assistance", 52_000, 70_000, 6, 0, as_of_offset=1),
    _Definition("people_helped_fema_funds", "People approved for FEMA funds",
                "People approved for FEMA assistance", "count", "people approved", "WEEKLY",
                "Financial assistance", 180, 4_200, 9, 1),
    _Definition("fema_individual_assistance_dollars", "FEMA Individual Assistance paid",
                "FEMA Individual Assistance", "dollars - millions", "in FEMA assistance",
                "Weekly", "Financial assistance", 45.5, 160, 9, 1, as_of_offset=1),
    _Definition("sba_loans_approved_dollars", "SBA disaster loans approved",
                "SBA disaster loans", "dollars - millions", "in SBA loans approved", "Monthly",
                "Financial assistance", 120, 2_600, 16, 2),
    _Definition("households_registered_fema", "Households registered with FEMA",
                "Households registered for FEMA assistance", "count", "households registered",
                "Daily", "Assistance", 40_000, 95_000, 5, 1),
    _Definition("debris_tons_removed", "Tons of fire debris removed", "Debris removed",
                "count", "tons of debris removed", "as needed", "Debris removal", 12_000,
                2_400_000, 20, 2, duplicated=True),
    _Definition("temporary_housing_units", "Temporary housing units occupied",
                "Temporary housing", "count", "housing units", "Monthly", "Housing", 40, 1_100,
                25, 0, blank_followups=True),
    _Definition("permits_fee_waivers", "Permit fee waivers granted", "Permit fee waivers",
                "count", "fee waivers", "Content update", "Rebuilding", 15, 3_200, 30, 2),
    _Definition("malibu_building_permits_issued", "Malibu building permits issued",
                "Malibu building permits", "count", "permits issued", "Daily", "Rebuilding", 1,
                240, 35, 2),
    _Definition("crisis_counseling_contacts", "Crisis counseling contacts",
                "Crisis counseling", "count", "people reached", "completed", "Assistance",
                5_000, 38_000, 12, 0),
    _Definition("disaster_unemployment_dollars", "Disaster Unemployment Assistance paid",
                "Disaster Unemployment Assistance", "dollars - millions",
                "in unemployment assistance", "as needed", "Financial assistance", 2.1, 19, 14,
                1),
    _Definition("businesses_assisted", "Businesses assisted", "Businesses assisted", "count",
                "businesses assisted", "weekly", "Rebuilding", 300, 6_500, 18, 0),
)  # fmt: skip
_CONTACTS = [("Jordan Avila", "jordan.avila@example.org"),
             ("Priya Raman", "priya.raman@example.org"),
             ("Sam Okafor", "sam.okafor@example.org")]  # fmt: skip
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _airtable_id(rng: np.random.Generator, prefix: str) -> str:
    return prefix + "".join(_BASE62[i] for i in rng.integers(0, 62, 14))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )


_Entry = tuple[int, int, str, dict]  # created ms, createdTime ms, record id, fields


def airtable_records(*, scale: float = 1.0, day: date) -> list[dict]:
    """Metric entries as the Airtable REST API returns them, created up to the end of `day`."""
    d = _day_index(day)
    per_metric = _size(10, scale, 5)
    people = _rng("airtable", "people")
    collaborators = [
        {"id": _airtable_id(people, "usr"), "email": email, "name": name}
        for name, email in _CONTACTS
    ]
    entries = [
        entry
        for definition in _DEFINITIONS
        for entry in _metric_entries(definition, per_metric, collaborators, d)
    ]
    entries.sort(key=lambda e: (e[1], e[2]))
    return [{"id": rid, "createdTime": _iso(ct), "fields": f} for _, ct, rid, f in entries]


@dataclass(frozen=True)
class _Draws:
    """What chance decides about one entry. Drawn for every entry, shown on `day` or not,
    so a metric's generator is in the same state whatever the day."""

    created: int  # epoch ms
    duplicated: bool
    corrected: bool  # first keyed with a typo, fixed on `fix_day`
    blank_after: bool
    author: dict
    fix_day: int
    fix_ms: int
    record_id: str
    twin_id: str
    blank_id: str


def _metric_entries(
    definition: _Definition, per_metric: int, collaborators: list[dict], d: int
) -> list[_Entry]:
    """One metric's entries created by day `d`, from a generator of its own so that adding
    a metric leaves the others' entries as they were."""
    rng = _rng("airtable", definition.machine_name)
    lookups = _lookups(definition, _airtable_id(rng, "rec"))
    entries: list[_Entry] = []
    for k, entry_day in enumerate(_entry_days(rng, definition, per_metric)):
        draws = _draw(rng, definition, entry_day, collaborators)
        if entry_day <= d:
            entries += _entries_on_day(definition, k, entry_day, draws, lookups, d)
    return entries


def _lookups(definition: _Definition, definition_id: str) -> dict[str, Any]:
    """The linked definition's fields, which Airtable repeats as one-item lists on every
    entry (the optional As Of Offset only where the definition has one)."""
    lookups: dict[str, Any] = {
        "Metric Definition": [definition_id],
        "Metric Title for Interface": [definition.title],
        "Metric Machine Name (from Metric Definition)": [definition.machine_name],
        "Metric Name (from Metric Definition)": [definition.name],
        "Metric Type (from Metric Definition)": [definition.metric_type],
        "Metric Unit Label (from Metric Definition)": [definition.unit_label],
        "Update Frequency (from Metric Definition)": [definition.frequency],
        "Topic (from Metric Definition)": [definition.topic],
        "As Of Time (from Metric Definition)": ["5:00 PM"],
    }
    if definition.as_of_offset is not None:
        lookups["As Of Offset (from Metric Definition)"] = [definition.as_of_offset]
    name, email = _CONTACTS[definition.contact]
    lookups["Metric Contact Name (from Metric Definition)"] = [name]
    lookups["Metric Contact Email (from Metric Definition)"] = [email]
    return lookups


def _entry_days(rng: np.random.Generator, definition: _Definition, per_metric: int) -> list[int]:
    """Most entries come in the first months of the recovery, then updates thin out."""
    span = max(420, 3 * per_metric)
    weight = np.exp(-np.arange(1, span) / 70)
    later = rng.choice(np.arange(1, span), per_metric - 1, replace=False, p=weight / weight.sum())
    return (definition.first_day + np.sort(np.concatenate([[0], later]))).tolist()


def _draw(
    rng: np.random.Generator, definition: _Definition, entry_day: int, collaborators: list[dict]
) -> _Draws:
    """The draws in their fixed order; the short-circuits decide which are drawn at all."""
    created = _pacific_ms(entry_day, float(rng.integers(8 * 3600, 13 * 3600)))
    duplicated = definition.duplicated or rng.random() < 0.08
    corrected = not duplicated and rng.random() < 0.2
    blank_after = definition.blank_followups or rng.random() < 0.04
    author = collaborators[int(rng.integers(0, 3))]
    fix_day = entry_day + int(rng.integers(0, 3))
    fix_ms = (
        created + 3_600_000
        if fix_day == entry_day
        else _pacific_ms(fix_day, float(rng.integers(*WORK_HOURS)))
    )
    record_id, twin_id = _airtable_id(rng, "rec"), _airtable_id(rng, "rec")
    blank_id = _airtable_id(rng, "rec")
    return _Draws(
        created=created,
        duplicated=duplicated,
        corrected=corrected,
        blank_after=blank_after,
        author=author,
        fix_day=fix_day,
        fix_ms=fix_ms,
        record_id=record_id,
        twin_id=twin_id,
        blank_id=blank_id,
    )


def _entries_on_day(
    definition: _Definition,
    k: int,
    entry_day: int,
    draws: _Draws,
    lookups: dict[str, Any],
    d: int,
) -> list[_Entry]:
    """The entry as it stands on day `d` (its typo until fixed), then its identical twin
    a few minutes on and the empty entry half an hour on, where it has them."""
    level = definition.start + definition.growth * (1 - np.exp(-entry_day / 150))
    dollars = definition.metric_type == "dollars - millions"
    value = round(float(level), 2) if dollars else int(level)
    typo = round(value * 1.02, 2) if dollars else value + max(1, int(value * 0.02))
    created = draws.created
    fields: dict[str, Any] = {"Metric": value, "Date Created": _iso(created)}
    if draws.corrected:
        if draws.fix_day <= d:
            fields["Date Metric Modified"] = _iso(draws.fix_ms)
        else:
            fields["Metric"] = typo
    fields["Metric Modified By"] = draws.author
    if definition.as_of_offset is not None:
        fields.update(_as_of(definition.as_of_offset, entry_day))
    fields.update(lookups)
    entries = [(created, created, draws.record_id, fields)]
    if draws.duplicated:
        entries.append((created, created + 60_000 * (1 + k % 9), draws.twin_id, dict(fields)))
    if draws.blank_after:
        blank = {"Date Created": _iso(created + 1_800_000), **lookups}
        entries.append((created + 1_800_000, created + 1_800_000, draws.blank_id, blank))
    return entries


def _as_of(offset: int, entry_day: int) -> dict[str, Any]:
    """A figure reported as of 5 p.m. the day before it was keyed in."""
    as_of = _pacific_ms(max(entry_day - 1, 0), 17 * 3600)
    local = datetime.fromtimestamp(as_of / 1000, PACIFIC)
    return {
        "As Of Label": f"as of {local:%B} {local.day}, {local.year}, 5 p.m.",
        "As Of Date and Time": _iso(as_of),
        "Datetime Offset Number": offset,
        "Datetime Offset Variable": "days",
    }


catalog.register_sample(catalog.AIRTABLE_METRICS, airtable_records)
