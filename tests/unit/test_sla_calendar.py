"""The business calendar: working hours, working days and natural days under the official calendar and overrides."""
import json
import math
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from engine.sla.calendar import MAKE_UP_DAY, UNITS, BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
NO_2027 = "2027 年没有官方节假日安排：只按周末和管理员设定的日期计算"


def sh(month_day: str, hh_mm: str = "10:00", year: int = 2026) -> datetime:
    """A Shanghai wall-clock instant, e.g. sh("11-27", "16:00") for Friday 27 November 2026 at 16:00."""
    month, day = map(int, month_day.split("-"))
    hour, minute = map(int, hh_mm.split(":"))
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def calendar():
    return BusinessCalendar()


def dates(entries):
    return [entry["date"] for entry in entries]


# Working hours

@pytest.mark.parametrize("start, hours, due", [
    (sh("11-27", "16:00"), 4, sh("11-30", "11:00")),  # Friday 1.5 h, Monday 2.5 h from 08:30
    (sh("11-27", "16:30"), 4, sh("11-30", "11:30")),  # Friday 1 h, Monday 3 h from 08:30
    (sh("11-27", "17:30"), 1, sh("11-30", "09:30")),  # started at the Friday closing time
])
def test_working_hours_stop_over_the_weekend_and_resume_on_monday(calendar, start, hours, due):
    result = calendar.add(start, hours, "working_hours")
    assert result.at == due
    assert result.explanation["skipped_days"] == [
        {"date": "2026-11-28", "why": "weekend"}, {"date": "2026-11-29", "why": "weekend"}]


def test_the_due_time_is_returned_in_utc(calendar):
    due = calendar.add(sh("11-27", "16:00"), 4, "working_hours").at
    assert due.tzinfo == UTC and due == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("start, hours, due", [
    (sh("11-30", "11:00"), 2, sh("11-30", "15:00")),
    (sh("11-30", "11:30"), 2, sh("11-30", "15:30")),
    (sh("11-30", "11:00"), 1.5, sh("11-30", "14:30")),
])
def test_working_hours_skip_the_lunch_break(calendar, start, hours, due):
    assert calendar.add(start, hours, "working_hours").at == due


@pytest.mark.parametrize("start, hours, due", [
    (sh("11-30", "11:00"), 1, sh("11-30", "12:00")),    # not 14:00
    (sh("11-30", "14:00"), 3.5, sh("11-30", "17:30")),  # not 08:30 the next morning
    (sh("11-30", "08:30"), 7, sh("11-30", "17:30")),    # a whole office day is 7 working hours
    (sh("11-27", "08:30"), 7, sh("11-27", "17:30")),    # even on a Friday
])
def test_a_limit_that_runs_out_exactly_at_closing_time_is_due_at_closing_time(calendar, start, hours, due):
    assert calendar.add(start, hours, "working_hours").at == due


def test_one_minute_more_than_a_whole_day_spills_into_the_next_morning(calendar):
    assert calendar.add(sh("11-30", "08:30"), 7 + 1 / 60, "working_hours").at == sh("12-01", "08:31")


@pytest.mark.parametrize("start, counting_from, due", [
    (sh("11-30", "21:00"), sh("12-01", "08:30"), sh("12-01", "09:30")),  # at night
    (sh("12-01", "06:45"), sh("12-01", "08:30"), sh("12-01", "09:30")),  # before opening
    (sh("12-01", "12:30"), sh("12-01", "14:00"), sh("12-01", "15:00")),  # during lunch
    (sh("11-28", "10:00"), sh("11-30", "08:30"), sh("11-30", "09:30")),  # on a Saturday
])
def test_a_clock_started_outside_office_hours_starts_counting_at_the_next_opening(calendar, start, counting_from, due):
    result = calendar.add(start, 1, "working_hours")
    assert result.at == due
    assert result.explanation["counting_from"] == counting_from.isoformat()
    assert result.explanation["start"] == start.isoformat()


def test_office_hours_are_configurable(calendar):
    summer = BusinessCalendar(periods=((time(8, 30), time(12, 0)), (time(14, 30), time(17, 30))))
    assert summer.add(sh("11-30", "11:00"), 2, "working_hours").at == sh("11-30", "15:30")
    assert summer.add(sh("11-30", "11:00"), 2, "working_hours").explanation["office_hours"] == [
        "08:30-12:00", "14:30-17:30"]


# Working days

@pytest.mark.parametrize("start", [sh("11-27", "09:00"), sh("11-27", "20:00"), sh("11-27", "17:30")])
def test_working_days_from_a_friday_do_not_count_the_friday_nor_the_weekend(calendar, start):
    one = calendar.add(start, 1, "working_days")
    assert one.at == sh("11-30", "17:30")
    assert one.explanation["counting_from"] == sh("11-30", "08:30").isoformat()
    assert dates(one.explanation["skipped_days"]) == ["2026-11-28", "2026-11-29"]
    assert calendar.add(start, 5, "working_days").at == sh("12-04", "17:30")


def test_working_days_started_on_a_saturday_count_from_monday(calendar):
    assert calendar.add(sh("11-28", "09:00"), 2, "working_days").at == sh("12-01", "17:30")


def test_twenty_working_days_take_four_weeks(calendar):
    assert calendar.add(sh("11-02", "09:00"), 20, "working_days").at == sh("11-30", "17:30")


# The official calendar for 2026, as chinese_calendar 1.11.0 has it

def test_national_day_2026_is_a_week_off_with_a_make_up_saturday_after_it(calendar):
    kinds = {day: calendar.day_kind(date(2026, 10, day)) for day in range(1, 12)}
    assert all(kinds[day] == (False, "holiday: 国庆节") for day in range(1, 8))
    assert kinds[8] == kinds[9] == (True, "weekday")
    assert kinds[10] == (True, MAKE_UP_DAY)  # Saturday 10 October
    assert kinds[11] == (False, "weekend")
    assert calendar.day_kind(date(2026, 9, 20)) == (True, MAKE_UP_DAY)  # Sunday before Mid-Autumn
    assert calendar.day_kind(date(2026, 9, 25)) == (False, "holiday: 中秋")
    assert all(calendar.day_kind(date(2026, 9, day)) == (True, "weekday") for day in (28, 29, 30))


def test_working_days_across_national_day_2026_count_the_make_up_saturday(calendar):
    due = calendar.add(sh("09-30", "10:00"), 3, "working_days")  # 8, 9 and Saturday 10 October
    assert due.at == sh("10-10", "17:30")
    assert due.explanation["skipped_days"] == [
        {"date": f"2026-10-0{day}", "why": "holiday: 国庆节"} for day in range(1, 8)]
    assert due.explanation["make_up_days"] == [{"date": "2026-10-10", "why": MAKE_UP_DAY}]
    assert due.explanation["warnings"] == []


def test_working_hours_across_national_day_2026_resume_after_the_holiday(calendar):
    due = calendar.add(sh("09-30", "17:00"), 1, "working_hours")
    assert due.at == sh("10-08", "09:00")
    assert len(due.explanation["skipped_days"]) == 7
    assert due.explanation["make_up_days"] == []


def test_spring_festival_2026_runs_from_15_to_23_february_with_two_make_up_saturdays(calendar):
    assert calendar.day_kind(date(2026, 2, 14)) == (True, MAKE_UP_DAY)
    assert all(calendar.day_kind(date(2026, 2, day)) == (False, "holiday: 春节") for day in range(15, 24))
    assert calendar.day_kind(date(2026, 2, 24)) == (True, "weekday")
    assert calendar.day_kind(date(2026, 2, 28)) == (True, MAKE_UP_DAY)


def test_working_days_across_spring_festival_2026(calendar):
    due = calendar.add(sh("02-13", "10:00"), 2, "working_days")  # Saturday 14th, then Tuesday 24th
    assert due.at == sh("02-24", "17:30")
    assert due.explanation["make_up_days"] == [{"date": "2026-02-14", "why": MAKE_UP_DAY}]
    assert dates(due.explanation["skipped_days"]) == [f"2026-02-{day}" for day in range(15, 24)]
    assert {entry["why"] for entry in due.explanation["skipped_days"]} == {"holiday: 春节"}


# Beyond the official calendar

def test_a_limit_running_into_2027_falls_back_to_weekends_and_warns(calendar):
    due = calendar.add(sh("12-30", "10:00"), 5, "working_days")  # 31 Dec, Fri 1 Jan, Mon 4 to Wed 6 Jan
    assert due.at == sh("01-06", "17:30", year=2027)
    assert due.explanation["warnings"] == [NO_2027]
    assert due.explanation["skipped_days"] == [
        {"date": "2027-01-02", "why": "weekend (no official calendar for 2027)"},
        {"date": "2027-01-03", "why": "weekend (no official calendar for 2027)"}]
    assert calendar.day_kind(date(2027, 1, 1)) == (True, "weekday (no official calendar for 2027)")


def test_working_hours_in_2027_do_not_crash(calendar):
    due = calendar.add(sh("01-08", "16:00", year=2027), 4, "working_hours")
    assert due.at == sh("01-11", "11:00", year=2027)
    assert due.explanation["warnings"] == [NO_2027]


def test_warnings_name_every_year_without_an_official_calendar(calendar):
    assert calendar.warnings_for(sh("06-01"), sh("06-02")) == []
    assert calendar.warnings_for(sh("12-30"), sh("03-01", year=2028)) == [
        NO_2027, "2028 年没有官方节假日安排：只按周末和管理员设定的日期计算"]
    assert calendar.warnings_for(sh("12-30"), sh("01-02", year=2027), "en") == [
        "no official holiday calendar for 2027: weekends and overrides only"]


# Overrides entered by administrators

def test_an_override_holiday_is_skipped_and_named():
    calendar = BusinessCalendar(overrides={date(2026, 11, 30): "holiday"})
    due = calendar.add(sh("11-27", "16:00"), 4, "working_hours")
    assert due.at == sh("12-01", "11:00")
    assert due.explanation["skipped_days"][-1] == {"date": "2026-11-30", "why": "override: holiday"}


def test_an_override_workday_counts_a_saturday():
    calendar = BusinessCalendar(overrides={date(2026, 11, 28): "workday"})
    due = calendar.add(sh("11-27", "16:00"), 4, "working_hours")
    assert due.at == sh("11-28", "11:00")
    assert due.explanation["make_up_days"] == [{"date": "2026-11-28", "why": "override: workday"}]


def test_overrides_beat_the_official_calendar():
    calendar = BusinessCalendar(overrides={date(2026, 10, 8): "holiday", date(2026, 10, 7): "workday"})
    assert calendar.day_kind(date(2026, 10, 8)) == (False, "override: holiday")
    assert calendar.day_kind(date(2026, 10, 7)) == (True, "override: workday")


def test_overrides_fill_in_a_year_without_an_official_calendar():
    calendar = BusinessCalendar(overrides={date(2027, 1, 1): "holiday", date(2027, 1, 2): "workday"})
    due = calendar.add(sh("12-31", "10:00"), 2, "working_days")  # Saturday 2 Jan, Monday 4 Jan
    assert due.at == sh("01-04", "17:30", year=2027)
    assert due.explanation["make_up_days"] == [{"date": "2027-01-02", "why": "override: workday"}]
    assert due.explanation["skipped_days"][0] == {"date": "2027-01-01", "why": "override: holiday"}
    assert due.explanation["warnings"] == [NO_2027]


# Natural days

@pytest.mark.parametrize("start, days, due", [
    (sh("03-07", "22:00"), 1, sh("03-08", "22:00")),    # the weekend Europe and America leave alone...
    (sh("03-07", "22:00"), 1.5, sh("03-09", "10:00")),
    (sh("10-24", "23:30"), 10, sh("11-03", "23:30")),   # ...and across the end of their summer time
    (sh("12-30", "10:00"), 7, sh("01-06", "10:00", year=2027)),
])
def test_natural_days_are_whole_24_hour_periods_in_shanghai(calendar, start, days, due):
    result = calendar.add(start, days, "natural_days")
    assert result.at == due
    assert result.explanation["skipped_days"] == result.explanation["make_up_days"] == []
    assert result.explanation["warnings"] == []


def test_natural_days_count_holidays_like_any_day(calendar):
    assert calendar.add(sh("09-30", "10:00"), 3, "natural_days").at == sh("10-03", "10:00")


# Explanations

@pytest.mark.parametrize("unit", UNITS)
def test_every_explanation_is_json_and_states_the_rule(calendar, unit):
    explanation = calendar.add(sh("09-30", "10:00"), 3, unit).explanation
    assert json.loads(json.dumps(explanation, ensure_ascii=False)) == explanation
    assert set(explanation) == {"unit", "amount", "start", "counting_from", "due", "office_hours", "timezone",
                                "skipped_days", "make_up_days", "warnings", "warnings_en", "rule", "rule_en"}
    assert explanation["unit"] == unit and explanation["amount"] == 3
    assert explanation["timezone"] == "Asia/Shanghai"
    assert explanation["office_hours"] == ["08:30-12:00", "14:00-17:30"]
    assert "工作日" in explanation["rule"] or "24 小时" in explanation["rule"]  # Chinese, like the policy beside it
    assert explanation["rule_en"].startswith(("Only minutes", "The day", "The limit"))


def test_the_explanation_times_are_local(calendar):
    explanation = calendar.add(datetime(2026, 11, 30, 1, 0, tzinfo=UTC), 1, "working_hours").explanation
    assert explanation["start"] == "2026-11-30T09:00:00+08:00"
    assert explanation["due"] == "2026-11-30T10:00:00+08:00"


# Business minutes

@pytest.mark.parametrize("start, end, minutes", [
    (sh("11-27", "16:00"), sh("11-30", "11:00"), 240),
    (sh("11-30", "11:00"), sh("11-30", "15:00"), 120),
    (sh("11-30", "21:00"), sh("12-01", "08:30"), 0),
    (sh("11-30", "12:00"), sh("11-30", "11:00"), 0),
    (sh("09-30", "08:00"), sh("10-10", "09:00"), 3 * 420 + 30),
])
def test_working_minutes_count_only_office_time(calendar, start, end, minutes):
    assert calendar.working_minutes(start, end) == minutes


@pytest.mark.parametrize("start, end", [
    (sh("11-27", "16:00"), sh("11-30", "11:00")),
    (sh("11-27", "23:00"), sh("11-30", "08:30")),
    (sh("11-30", "11:59"), sh("11-30", "14:01")),
    (sh("09-30", "12:30"), sh("10-10", "17:29")),
    (sh("12-30", "10:17"), sh("01-05", "16:43", year=2027)),
    (datetime(2026, 11, 30, 9, 0, 0, 123457, tzinfo=SHANGHAI), datetime(2026, 12, 7, 15, 59, 1, 3, tzinfo=SHANGHAI)),
])
def test_adding_the_working_minutes_between_two_instants_gets_back_to_the_second(calendar, start, end):
    assert calendar.add_working_minutes(start, calendar.working_minutes(start, end)) == end


def test_adding_working_minutes_matches_adding_working_hours(calendar):
    start = sh("11-27", "16:00")
    assert calendar.add_working_minutes(start, 240) == calendar.add(start, 4, "working_hours").at


# Bad input

@pytest.mark.parametrize("amount", [0, -1, math.nan, math.inf, "3", None, True])
def test_an_amount_that_is_not_a_positive_number_is_refused(calendar, amount):
    with pytest.raises(ValueError, match="amount must be a number greater than 0"):
        calendar.add(sh("11-30"), amount, "working_hours")


def test_an_unknown_unit_is_refused(calendar):
    with pytest.raises(ValueError, match="unit must be one of working_hours, working_days, natural_days"):
        calendar.add(sh("11-30"), 1, "hours")


def test_a_fraction_of_a_working_day_is_refused(calendar):
    with pytest.raises(ValueError, match="whole number of days"):
        calendar.add(sh("11-30"), 1.5, "working_days")
    assert calendar.add(sh("11-30"), 2.0, "working_days").at == sh("12-02", "17:30")


def test_naive_datetimes_are_refused(calendar):
    naive = datetime(2026, 11, 30, 9, 0)
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        calendar.add(naive, 1, "working_hours")
    with pytest.raises(ValueError, match="end must be a timezone-aware datetime"):
        calendar.working_minutes(sh("11-30"), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_working_minutes(naive, 10)


def test_negative_working_minutes_are_refused(calendar):
    with pytest.raises(ValueError, match="minutes must be a number of at least 0"):
        calendar.add_working_minutes(sh("11-30"), -5)


def test_an_absurdly_long_limit_is_refused_rather_than_walked(calendar):
    with pytest.raises(ValueError, match="beyond"):
        calendar.add(sh("11-30"), 10**7, "working_days")
    with pytest.raises(ValueError, match="out of range"):
        calendar.add(sh("11-30"), 10**12, "natural_days")


@pytest.mark.parametrize("kwargs, message", [
    ({"overrides": {date(2026, 11, 30): "day off"}}, "overrides must be 'holiday' or 'workday'"),
    ({"periods": ()}, "periods must be"),
    ({"periods": ((time(14, 0), time(17, 30)), (time(8, 30), time(12, 0)))}, "periods must be"),
    ({"periods": ((time(12, 0), time(8, 30)),)}, "periods must be"),
    ({"tz": "Mars/Olympus_Mons"}, "unknown time zone"),
])
def test_a_badly_configured_calendar_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)
