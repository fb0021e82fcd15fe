"""Who responds to an incident, and how soon: the team's on-call rules as code.

In business hours (Mon-Fri 09:00-17:00 Pacific, not a California state holiday) CalData
or Analytica staff respond; otherwise the Analytica on-call person from a rotation.
Only high severity justifies night, weekend or holiday work, so a low-severity incident
outside business hours is deferred to the next business-hours start. The clock is
injected so every rule can be tested at any instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml

from ddrc_platform.core.names import PACIFIC
from ddrc_platform.incidents.model import Person, Severity

if TYPE_CHECKING:
    import holidays

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def california_state_holidays(extra: Iterable[date] = ()) -> holidays.HolidayBase:
    """California state holidays, with any the package lacks added explicitly.

    `holidays.US(subdiv="CA")` holds every CalHR paid state holiday, including the
    CA-only César Chávez Day (March 31, observed Monday when on a Sunday) and the Day
    after Thanksgiving. `extra` adds what it cannot know, such as a day the Governor
    proclaims a holiday (Gov. Code 6700), from the on-call configuration.
    """
    import holidays  # only when a responder is routed: the definitions load without it

    calendar = holidays.US(subdiv="CA")
    calendar.update({day: "Additional state holiday" for day in extra})
    return calendar


def _clock_time(value: Any) -> time:
    """Parse "09:00"; YAML 1.1 reads an unquoted 17:00 as sexagesimal minutes (1020)."""
    if isinstance(value, int):
        return time(value // 60, value % 60)
    return time.fromisoformat(str(value))


@dataclass(frozen=True)
class Rotation:
    """The on-call rotation: person index = floor((now - start) / period) mod len(people).

    `start` is a local wall-clock datetime (its time is the hand-over time) so the
    hand-over stays at, say, Monday 09:00 Pacific across daylight-saving changes.
    """

    people: tuple[Person, ...]
    start: datetime  # naive, local wall clock
    period: timedelta

    def on_call(self, local_now: datetime) -> Person:
        index = (local_now.replace(tzinfo=None) - self.start) // self.period
        return self.people[index % len(self.people)]


@dataclass(frozen=True)
class OnCallConfig:
    rotation: Rotation
    escalation: tuple[Person, ...]
    timezone: ZoneInfo = PACIFIC
    day_start: time = time(9)
    day_end: time = time(17)
    business_responder: str = "CalData or Analytica"
    extra_holidays: tuple[date, ...] = ()

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> OnCallConfig:
        rotation = data["rotation"]
        people = tuple(Person(**p) for p in rotation["people"])
        if not people:
            raise ValueError("the on-call rotation needs at least one person")
        hours = data.get("business_hours", {})
        return cls(
            rotation=Rotation(
                people=people,
                start=datetime.combine(
                    date.fromisoformat(str(rotation["start"])),
                    _clock_time(rotation.get("handover", "09:00")),
                ),
                period=timedelta(days=int(rotation.get("period_days", 7))),
            ),
            escalation=tuple(Person(**p) for p in data.get("escalation", ())),
            timezone=ZoneInfo(data.get("timezone", "America/Los_Angeles")),
            day_start=_clock_time(hours.get("start", "09:00")),
            day_end=_clock_time(hours.get("end", "17:00")),
            business_responder=hours.get("responder", "CalData or Analytica"),
            extra_holidays=tuple(
                date.fromisoformat(str(d)) for d in data.get("extra_holidays") or ()
            ),
        )


def load_oncall(path: str | Path) -> OnCallConfig:
    """Read the rotation and escalation list; the settings layer passes the path."""
    with Path(path).open() as f:
        return OnCallConfig.from_mapping(yaml.safe_load(f))


@dataclass(frozen=True)
class Route:
    """The routing decision written into an incident."""

    responder: str
    responder_person: Person | None  # the on-call person outside business hours
    business_hours: bool
    act_now: bool
    deferred_until: datetime | None  # aware, in the configured time zone
    escalation: tuple[Person, ...]


class Router:
    def __init__(self, config: OnCallConfig, clock: Clock = utc_now) -> None:
        self.config = config
        self.clock = clock

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return california_state_holidays(self.config.extra_holidays)

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("routing needs an aware datetime")
        return at.astimezone(self.config.timezone)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def is_business_hours(self, at: datetime) -> bool:
        local = self._local(at)
        return (
            self.is_business_day(local.date())
            and self.config.day_start <= local.time() < self.config.day_end
        )

    def next_business_start(self, at: datetime) -> datetime:
        """The first business-hours start at or after `at` (its own start if already in one)."""
        local = self._local(at)
        day = local.date()
        if local.time() >= self.config.day_start:
            day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.config.day_start, tzinfo=self.config.timezone)

    def on_call(self, at: datetime) -> Person:
        return self.config.rotation.on_call(self._local(at))

    def route(self, severity: Severity, at: datetime | None = None) -> Route:
        at = at or self.clock()
        if self.is_business_hours(at):
            return Route(
                responder=self.config.business_responder,
                responder_person=None,
                business_hours=True,
                act_now=True,
                deferred_until=None,
                escalation=self.config.escalation,
            )
        person = self.on_call(at)
        act_now = severity is Severity.HIGH
        return Route(
            responder=person.name,
            responder_person=person,
            business_hours=False,
            act_now=act_now,
            deferred_until=None if act_now else self.next_business_start(at),
            escalation=self.config.escalation,
        )
