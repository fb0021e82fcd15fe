"""On-call routing with a controlled clock: business hours, CA holidays, rotation, deferral."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from ddrc_platform.incidents import FailureKind, Router, Severity, Triage, load_oncall
from ddrc_platform.incidents.routing import OnCallConfig, california_state_holidays

PT = ZoneInfo("America/Los_Angeles")
ONCALL = Path(__file__).parents[1] / "config" / "oncall.yaml"
BUSINESS = "CalData or Analytica"


def pt(*args: int) -> datetime:
    return datetime(*args, tzinfo=PT)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(pt(2026, 4, 1, 10))


@pytest.fixture
def router(clock: Clock) -> Router:
    return Router(load_oncall(ONCALL), clock)


def test_the_package_knows_californias_own_holidays() -> None:
    calendar = california_state_holidays()
    assert "Chavez" in calendar[date(2026, 3, 31)]  # CA only, not federal
    assert date(2027, 3, 29) not in calendar and "Chavez" in calendar[date(2027, 3, 31)]
    assert "Chavez" in calendar[date(2024, 4, 1)]  # March 31 2024 was a Sunday: observed Monday
    assert "Thanksgiving" in calendar[date(2026, 11, 27)]  # day after Thanksgiving, CA only
    assert date(2026, 10, 12) not in calendar  # Columbus Day: federal, not a CA state holiday


def test_extra_holidays_come_from_the_config() -> None:
    data = yaml.safe_load(ONCALL.read_text())
    data["extra_holidays"] = ["2026-04-03"]  # e.g. a day the Governor proclaims
    config = OnCallConfig.from_mapping(data)
    router = Router(config)
    assert not router.is_business_hours(pt(2026, 4, 3, 10))
    assert router.is_business_hours(pt(2026, 4, 2, 10))


def test_weekday_business_hours_go_to_caldata_or_analytica(router: Router) -> None:
    route = router.route(Severity.LOW)  # Wednesday 1 April 2026, 10:00 Pacific
    assert route.responder == BUSINESS
    assert route.business_hours and route.act_now
    assert route.deferred_until is None
    assert [p.name for p in route.escalation] == [
        "Analytica engineering lead",
        "CalData data services lead",
        "ODI product lead",
    ]


@pytest.mark.parametrize(
    ("at", "business"),
    [
        (pt(2026, 4, 1, 9, 0), True),
        (pt(2026, 4, 1, 16, 59), True),
        (pt(2026, 4, 1, 17, 0), False),
        (pt(2026, 4, 1, 8, 59), False),
        (pt(2026, 4, 1, 20, 0), False),  # weekday evening
        (pt(2026, 4, 4, 10, 0), False),  # Saturday
        (pt(2026, 4, 5, 10, 0), False),  # Sunday
        (pt(2026, 3, 31, 10, 0), False),  # César Chávez Day: a Tuesday, CA state holiday
        (pt(2026, 11, 27, 10, 0), False),  # day after Thanksgiving
    ],
)
def test_business_hours(router: Router, at: datetime, business: bool) -> None:
    assert router.is_business_hours(at) is business
    route = router.route(Severity.LOW, at)
    assert (route.responder == BUSINESS) is business
    if not business:
        assert route.responder.startswith("Analytica on-call")
        assert route.responder_person is not None
        assert route.responder_person.slack_user_id


def test_business_hours_are_pacific_whatever_the_clock_zone(router: Router) -> None:
    utc = ZoneInfo("UTC")
    assert router.is_business_hours(datetime(2026, 4, 1, 17, 0, tzinfo=utc))  # 10:00 PDT
    assert not router.is_business_hours(datetime(2026, 4, 1, 10, 0, tzinfo=utc))  # 03:00 PDT
    with pytest.raises(ValueError, match="aware"):
        router.is_business_hours(datetime(2026, 4, 1, 10))


def test_rotation_hands_over_at_the_configured_instant(router: Router) -> None:
    # start 2026-01-05 (Monday) 09:00, weekly, people A B C D
    assert router.on_call(pt(2026, 1, 5, 9, 0)).name == "Analytica on-call A"
    assert router.on_call(pt(2026, 1, 12, 8, 59, 59)).name == "Analytica on-call A"
    assert router.on_call(pt(2026, 1, 12, 9, 0)).name == "Analytica on-call B"
    assert router.on_call(pt(2026, 2, 2, 9, 0)).name == "Analytica on-call A"  # wraps after 4
    assert router.on_call(pt(2026, 1, 4, 12, 0)).name == "Analytica on-call D"  # before start
    # across the DST change (8 March 2026) the hand-over stays at 09:00 local time
    assert router.on_call(pt(2026, 3, 9, 8, 59)).name == "Analytica on-call A"
    assert router.on_call(pt(2026, 3, 9, 9, 0)).name == "Analytica on-call B"


def test_route_changes_person_across_the_hand_over(router: Router) -> None:
    # the Monday 09:00 hand-over on MLK Day: a holiday, so on-call answers on both sides
    before = router.route(Severity.HIGH, pt(2026, 1, 19, 8, 59))  # MLK Day
    after = router.route(Severity.HIGH, pt(2026, 1, 19, 9, 0))
    assert before.responder == "Analytica on-call B"
    assert after.responder == "Analytica on-call C"


def test_rotation_period_and_handover_are_configurable() -> None:
    data = yaml.safe_load(ONCALL.read_text())
    data["rotation"].update(start="2026-01-07", handover="18:30", period_days=1)
    router = Router(OnCallConfig.from_mapping(data))
    assert router.on_call(pt(2026, 1, 8, 18, 29)).name == "Analytica on-call A"
    assert router.on_call(pt(2026, 1, 8, 18, 30)).name == "Analytica on-call B"


def test_unquoted_yaml_times_are_understood() -> None:
    data = yaml.safe_load(
        ONCALL.read_text().replace('end: "17:00"', "end: 17:00").replace('"09:00"', "09:00")
    )
    assert data["business_hours"]["end"] == 1020  # what YAML 1.1 makes of it
    config = OnCallConfig.from_mapping(data)
    assert (config.day_start.hour, config.day_end.hour) == (9, 17)


def test_low_at_night_is_deferred_to_the_next_business_morning(
    router: Router, clock: Clock
) -> None:
    clock.now = pt(2026, 4, 1, 20, 0)  # Wednesday evening
    route = router.route(Severity.LOW)
    assert route.responder.startswith("Analytica on-call")
    assert not route.act_now
    assert route.deferred_until == pt(2026, 4, 2, 9, 0)


@pytest.mark.parametrize(
    ("at", "next_start"),
    [
        (pt(2026, 4, 3, 17, 30), pt(2026, 4, 6, 9)),  # Friday evening → Monday
        (pt(2026, 4, 4, 12, 0), pt(2026, 4, 6, 9)),  # Saturday → Monday
        (pt(2026, 4, 2, 6, 0), pt(2026, 4, 2, 9)),  # early morning → the same day
        (pt(2026, 3, 30, 18, 0), pt(2026, 4, 1, 9)),  # Monday night, Tuesday is Chávez Day
        (pt(2026, 11, 25, 20, 0), pt(2026, 11, 30, 9)),  # Thanksgiving weekend
        (pt(2026, 3, 7, 12, 0), pt(2026, 3, 9, 9)),  # across the DST change: 09:00 PDT
    ],
)
def test_next_business_start(router: Router, at: datetime, next_start: datetime) -> None:
    route = router.route(Severity.LOW, at)
    assert route.deferred_until == next_start
    assert route.deferred_until.utcoffset() == next_start.utcoffset()


def test_high_at_night_acts_now(router: Router, clock: Clock) -> None:
    clock.now = pt(2026, 4, 4, 2, 0)  # Saturday 02:00
    route = router.route(Severity.HIGH)
    assert route.act_now
    assert route.deferred_until is None
    assert route.responder.startswith("Analytica on-call")


def test_high_on_a_holiday_goes_to_on_call(router: Router, clock: Clock) -> None:
    clock.now = pt(2026, 3, 31, 10, 0)  # César Chávez Day, 10:00
    high, low = router.route(Severity.HIGH), router.route(Severity.LOW)
    assert high.responder == low.responder != BUSINESS
    assert high.act_now and not low.act_now
    assert low.deferred_until == pt(2026, 4, 1, 9, 0)
    assert router.next_business_start(clock.now) - clock.now == timedelta(hours=23)


@pytest.mark.parametrize(
    "kind",
    [FailureKind.PUBLISH_FAILED, FailureKind.PUBLICATION_HELD, FailureKind.PUBLISHED_FILE_STALE],
)
def test_a_public_file_that_cannot_publish_or_is_stale_pages_at_once_on_a_weekend_night(
    clock: Clock, kind: FailureKind
) -> None:
    """Issue 18: "nothing can publish" was low and deferred to Monday 09:00."""
    clock.now = pt(2026, 4, 4, 3)  # Saturday 03:00
    triage = Triage(Router(load_oncall(ONCALL), clock))
    incident = triage.incident(kind, ["publish/ddrc_metrics_json"], error="boom")
    assert incident.severity is Severity.HIGH
    assert incident.act_now and incident.deferred_until is None
    assert incident.responder != BUSINESS and incident.responder_slack_id
    upstream = triage.incident(FailureKind.SOURCE_LOAD_FAILED, ["raw/epa/x"], error="boom")
    assert not upstream.act_now and upstream.deferred_until == pt(2026, 4, 6, 9)
