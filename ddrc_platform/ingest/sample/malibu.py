"""Sample answers of Malibu's four permit-server endpoints, correlated as the city's are."""

from __future__ import annotations

from datetime import date
from functools import lru_cache, partial

import numpy as np

from ddrc_platform.core import catalog
from ddrc_platform.ingest.sample.common import (
    _FIRST_DAY_OF_2026,
    NEVER,
    _chain,
    _day_index,
    _gap,
    _pick,
    _rng,
    _size,
)

_MALIBU_TYPES = ["InPlanning", "PendingBSReview", "InBPC", "PermitIssued", "UnderConstruction",
                 "Completed", "Withdrawn"]  # fmt: skip
# terminal type -> weight; a project walks the types in order up to its terminal one
_MALIBU_FATES = {0: 0.12, 1: 0.08, 2: 0.15, 3: 0.25, 4: 0.24, 5: 0.08, 6: 0.08}
_MALIBU_GAPS = [(20, 40), (3, 10), (15, 40), (10, 40), (150, 100)]
_PIE_GROUPS = [
    ("In Planning Review", "#1f77b4", (0,)),
    ("Pending Building Safety Review", "#ff7f0e", (1,)),
    ("In Building Plan Check", "#2ca02c", (2,)),
    ("Building Permit Issued", "#d62728", (3,)),
    ("Under Construction", "#9467bd", (4,)),
    ("Construction Complete", "#8c564b", (5,)),
]
_PERMIT_TYPES = [("Building - New SFR", 0.85), ("Building - ADU", 0.15), ("Demolition", 1.4),
                 ("Grading", 0.4), ("Electrical", 0.9), ("Plumbing", 0.8),
                 ("Retaining Wall", 0.2), ("Solar PV", 0.3)]  # fmt: skip
_CASE_TYPES = {"Like-for-Like": 0.55, "Like-for-Like Plus 10%": 0.25, "Non Like-for-Like": 0.2}
_CASE_CATEGORIES = {"Single Family Residence": 0.82, "Multi-Family": 0.06,
                    "Accessory Dwelling Unit": 0.08, "Commercial": 0.04}  # fmt: skip


def malibu_endpoints(*, scale: float = 1.0, day: date) -> dict[str, list[dict]]:
    """The four JSON arrays of Malibu's permit server on `day`, keyed by endpoint name.

    The projects, their points and the visits share one generator, drawn in that order,
    so the helpers must keep that order or every later value shifts.
    """
    d = _day_index(day)
    rng = _rng("malibu")
    steps, speed, reached, kind = _projects(rng, _size(600, scale, 40), d)
    points = _points(rng, d, steps, speed, reached, kind)
    current = kind[reached >= 0]
    pie = [
        {
            "REBUILDGROUP": group,
            "REBUILDTYPECOUNT": int(np.isin(current, kinds).sum()),
            "VALUECOLOR": colour,
        }
        for group, colour, kinds in _PIE_GROUPS
    ]
    issued = int((steps[3] <= d).sum())
    permits = [
        {"PermitType": name, "PalisadesPermits": int(issued * share)}
        for name, share in _PERMIT_TYPES
    ]
    return {
        "PalisadesPermitsIssued_Read": permits,
        "OverallRebuildStatsPie_Read": pie,
        "FireRebuildVisitPoints": _visits(rng, _size(40, scale, 6), d),
        "FireRebuildPoints": points,
    }


def _projects(
    rng: np.random.Generator, n: int, d: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step days, speed, the step reached on day `d` (-1: not applied for yet) and the type
    shown, ordered by application day as the project numbers run.

    A withdrawn project walks no steps after applying; it shows as Withdrawn from the day
    it is withdrawn, and as the step it reached until then.
    """
    fate, forced = _pick(rng, n, _MALIBU_FATES, at_least=2)
    speed = np.where(forced, 0.15, 1.0)
    applied = np.where(forced, rng.integers(1, 15, n), 10 + np.round(rng.exponential(90, n)))
    steps = _chain(rng, applied.astype(np.int64), _MALIBU_GAPS, speed)
    order = np.argsort(steps[0], kind="stable")
    steps, fate, speed = steps[:, order], fate[order], speed[order]
    withdrawn = fate == 6
    withdrawn_at = steps[0] + _gap(rng, n, 10, 60, speed)
    last = np.where(withdrawn, 0, fate)
    steps[np.arange(len(steps))[:, None] > last] = NEVER
    reached = (steps <= d).sum(axis=0) - 1
    return steps, speed, reached, np.where(withdrawn & (withdrawn_at <= d), 6, reached)


def _points(
    rng: np.random.Generator,
    d: int,
    steps: np.ndarray,
    speed: np.ndarray,
    reached: np.ndarray,
    kind: np.ndarray,
) -> list[dict]:
    """Location, case and first response are drawn for every project, applied for by day `d`
    or not, so a project keeps them from one day to the next."""
    n = steps.shape[1]
    lng = rng.uniform(-118.75, -118.57, n)
    lat = 34.028 + (lng + 118.75) * 0.08 + rng.normal(0, 0.004, n)
    case_type, _ = _pick(rng, n, _CASE_TYPES)
    category, _ = _pick(rng, n, _CASE_CATEGORIES)
    structures = 1 + rng.binomial(2, 0.2, n)
    first_response = steps[0] + _gap(rng, n, 2, 8, speed)
    points = []
    for i in np.flatnonzero(reached >= 0):
        decided = bool(steps[1, i] <= d)
        responded = bool(first_response[i] <= d)
        points.append(
            {
                "type": _MALIBU_TYPES[kind[i]],
                "lat": round(float(lat[i]), 6),
                "lng": round(float(lng[i]), 6),
                "projectNumber": f"PLN{25 + int(steps[0, i] > _FIRST_DAY_OF_2026)}-{i + 1:04d}",
                "planningApproved": decided,
                "CASETYPE": list(_CASE_TYPES)[case_type[i]],
                "CASECATEGORY": list(_CASE_CATEGORIES)[category[i]],
                "STRUCTURES": int(structures[i]),
                "DAYSTODECISION": int(steps[1, i] - steps[0, i]) if decided else None,
                "DAYSTOFIRSTRESPONSE": int(first_response[i] - steps[0, i]) if responded else None,
                "COUNTFORDECISION": int(decided),
                "COUNTFORFIRSTRESPONSE": int(responded),
            }
        )
    return points


def _visits(rng: np.random.Generator, n: int, d: int) -> list[dict]:
    """FireRebuildVisitPoints: the first three sites are visited within days of the fire
    so an early day already has some; follow-ups come at each site's own interval."""
    first_visit = np.sort(
        np.where(
            np.arange(n) < 3,
            rng.integers(1, 10, n),
            30 + np.round(rng.exponential(80, n)),
        )
    )
    every = rng.integers(14, 45, n)
    lng = rng.uniform(-118.75, -118.57, n)
    lat = 34.028 + (lng + 118.75) * 0.08 + rng.normal(0, 0.004, n)
    return [
        {
            "INITIALVISITS": 1 + int(first_visit[i] + 7 <= d),
            "FOLLOWUPVISITS": int((d - first_visit[i]) // every[i]),
            "lat": round(float(lat[i]), 6),
            "lng": round(float(lng[i]), 6),
        }
        for i in range(n)
        if first_visit[i] <= d
    ]


@lru_cache(maxsize=4)
def _endpoints_of(scale: float, day: date) -> dict[str, list[dict]]:
    return malibu_endpoints(scale=scale, day=day)


def endpoint_rows(endpoint: str, *, scale: float = 1.0, day: date) -> list[dict]:
    """One endpoint's answer; the four are generated together, as the city's are related."""
    return _endpoints_of(scale, day)[endpoint]


for _table, _endpoint in (
    (catalog.MALIBU_FIRE_REBUILD_POINTS, "FireRebuildPoints"),
    (catalog.MALIBU_PALISADES_PERMITS_ISSUED, "PalisadesPermitsIssued_Read"),
    (catalog.MALIBU_OVERALL_REBUILD_STATS, "OverallRebuildStatsPie_Read"),
    (catalog.MALIBU_FIRE_REBUILD_VISIT_POINTS, "FireRebuildVisitPoints"),
):
    catalog.register_sample(_table, partial(endpoint_rows, _endpoint))
