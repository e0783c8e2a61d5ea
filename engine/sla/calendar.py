"""The business calendar: how Gridflow turns a time limit into a due time.

How Gridflow counts. A working day is a weekday that is not a statutory holiday, or a weekend day declared a
make-up working day (调休); the override table entered by administrators decides first, then the official
calendar (the chinese_calendar package), and for a year with no official calendar only weekends are days off
and a warning says so. Working hours: only minutes inside office hours (08:30-12:00 and 14:00-17:30 unless
configured, local time) on working days count; a clock started outside office hours starts counting at the next
opening; the due time is the instant the counted minutes reach the limit, and a limit that runs out exactly at a
closing time is due at that closing time, not at the next opening. Working days: the day the clock starts does
not count; the due time is the close of office on the Nth working day after it. Natural days: the start plus
N x 24 hours. Times are computed in local time and returned in UTC; every due time carries an explanation.
"""
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from numbers import Real
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from chinese_calendar.constants import Holiday

UNITS = ("working_hours", "working_days", "natural_days")
OFFICE_HOURS = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
MAKE_UP_DAY = "make-up working day (调休)"
WORKING_DAY = {
    "zh": "工作日指非法定节假日的周一至周五，以及调休上班的周末",
    "en": ("a working day is a weekday that is not a statutory holiday, "
           "or a weekend day declared a make-up working day (调休)"),
}
RULES = {  # how each unit counts, in Chinese (shown with the Chinese policy) and in English
    "working_hours": {
        "zh": (f"只计工作日办公时间内的分钟（{WORKING_DAY['zh']}）；在办公时间以外开始计时的，从下一个上班时刻起算；"
               "计满时限的时刻即为到期时间，恰好在下班时刻计满的，以该下班时刻为准。"),
        "en": (f"Only minutes inside office hours on working days count ({WORKING_DAY['en']}); a clock started "
               "outside office hours starts counting at the next opening, and the limit is due the instant "
               "the counted minutes reach it, at a closing time if it runs out exactly there."),
    },
    "working_days": {
        "zh": f"开始计时当天不计；到期时间为其后第 N 个工作日的下班时刻（{WORKING_DAY['zh']}）。",
        "en": ("The day the clock starts does not count; the limit is due at the close of office on the "
               f"Nth working day after it ({WORKING_DAY['en']})."),
    },
    "natural_days": {
        "zh": "到期时间为开始时刻加 N×24 小时，周末和节假日照常计算。",
        "en": "The limit is due at the start plus N x 24 hours; weekends and holidays count like any day.",
    },
}
NO_CALENDAR = {"zh": "{year} 年没有官方节假日安排：只按周末和管理员设定的日期计算",
               "en": "no official holiday calendar for {year}: weekends and overrides only"}
MAX_WALK_DAYS = 366 * 20  # a limit that needs longer is a data error, not a deadline


@dataclass(frozen=True)
class Due:
    """A due time (aware, UTC) and the JSON-friendly explanation of how it was counted."""

    at: datetime
    explanation: dict


@lru_cache(maxsize=8192)
def _official_kind(day: date) -> tuple[bool, str] | None:
    """What the official calendar says of a day, or None for a year it does not cover."""
    official = official_day(day)
    if official is None:
        return None
    working, name = official
    weekend = day.weekday() >= 5
    if working:
        return True, MAKE_UP_DAY if weekend else "weekday"
    if name:
        return False, f"holiday: {_chinese_name(name)}"
    return False, "weekend" if weekend else "holiday"


def _chinese_name(english: str) -> str:
    try:
        return Holiday(english).chinese
    except ValueError:
        return english


def official_day(day: date) -> tuple[bool, str | None] | None:
    """The official calendar's word on a day: (working, the holiday's English name or None), or None for a
    year it does not cover."""
    try:
        working = chinese_calendar.is_workday(day)
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # chinese-calendar's answer for a year it has no data for
        return None
    return working, name


def holiday_name_zh(english: str) -> str:
    """A statutory holiday's Chinese name (Spring Festival -> 春节)."""
    return _chinese_name(english)


def year_known(year: int) -> bool:
    """Whether the official calendar covers `year`."""
    return _year_known(year)


@lru_cache(maxsize=256)
def _year_known(year: int) -> bool:
    return _official_kind(date(year, 1, 1)) is not None


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not {value!r}")
    return value


def _check_amount(amount: float, unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if isinstance(amount, bool) or not isinstance(amount, Real) or not math.isfinite(amount) or amount <= 0:
        raise ValueError(f"amount must be a number greater than 0, not {amount!r}")
    if unit == "working_days" and amount != int(amount):
        raise ValueError(f"working_days must be a whole number of days, not {amount!r}")


class BusinessCalendar:
    """Office hours on working days in one time zone, with admin overrides on top of the official calendar."""

    def __init__(self, tz: str = "Asia/Shanghai", periods=OFFICE_HOURS, overrides: dict[date, str] | None = None):
        try:
            self._tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        self.tz = tz
        self.periods = tuple((opens, closes) for opens, closes in periods)
        bounds = [t for period in self.periods for t in period]
        if not self.periods or bounds != sorted(bounds) or any(o >= c for o, c in self.periods):
            raise ValueError("periods must be non-empty, ordered, non-overlapping (opens, closes) pairs of times")
        self.overrides = dict(overrides or {})
        bad = {str(d): kind for d, kind in self.overrides.items() if kind not in ("holiday", "workday")}
        if bad:
            raise ValueError(f"overrides must be 'holiday' or 'workday': {bad}")

    def local(self, moment: datetime) -> datetime:
        """`moment` on the calendar's wall clock."""
        return moment.astimezone(self._tz)

    def day_kind(self, day: date) -> tuple[bool, str]:
        """Whether a local calendar day is a working day, and why."""
        override = self.overrides.get(day)
        if override:
            return override == "workday", f"override: {override}"
        official = _official_kind(day)
        if official:
            return official
        weekend = day.weekday() >= 5
        return not weekend, f"{'weekend' if weekend else 'weekday'} (no official calendar for {day.year})"

    def add(self, start: datetime, amount: float, unit: str) -> Due:
        """The due time of a limit of `amount` `unit`s started at `start`, with its explanation."""
        local = _aware(start, "start").astimezone(self._tz)
        _check_amount(amount, unit)
        try:
            if unit == "natural_days":
                due = (local.astimezone(UTC) + timedelta(days=float(amount))).astimezone(self._tz)
                return self._due(unit, amount, local, local, due, days=False)
            if unit == "working_days":
                first, due = self._working_days(local, int(amount))
            else:
                first, due = self._walk(local, timedelta(hours=float(amount)))
        except OverflowError as exc:
            raise ValueError(f"{amount} {unit} from {local.isoformat()} is out of range") from exc
        return self._due(unit, amount, local, first, due, days=True)

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Business minutes between two instants (0 if end <= start)."""
        local = _aware(start, "start").astimezone(self._tz)
        end = _aware(end, "end").astimezone(self._tz)
        total = timedelta()
        for begin, closes in self._spans(local):
            if begin >= end:
                break
            total += min(closes, end) - begin
        return total / timedelta(minutes=1)

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant `minutes` business minutes after `start` (the first counted instant for 0)."""
        local = _aware(start, "start").astimezone(self._tz)
        if isinstance(minutes, bool) or not isinstance(minutes, Real) or not math.isfinite(minutes) or minutes < 0:
            raise ValueError(f"minutes must be a number of at least 0, not {minutes!r}")
        try:
            return self._walk(local, timedelta(minutes=float(minutes)))[1].astimezone(UTC)
        except OverflowError as exc:
            raise ValueError(f"{minutes} minutes from {local.isoformat()} is out of range") from exc

    def warnings_for(self, start: datetime, end: datetime, language: str = "zh") -> list[str]:
        """Warnings about the calendar data used between two instants, e.g. a year with no official calendar."""
        first = _aware(start, "start").astimezone(self._tz).year
        last = _aware(end, "end").astimezone(self._tz).year
        return [NO_CALENDAR[language].format(year=year)
                for year in range(min(first, last), max(first, last) + 1) if not _year_known(year)]

    def _spans(self, local: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Counted office-hour spans from `local` on, day by day, in local time."""
        day = local.date()
        for _ in range(MAX_WALK_DAYS):
            if self.day_kind(day)[0]:
                for opens, closes in self.periods:
                    begin = max(datetime.combine(day, opens, self._tz), local)
                    end = datetime.combine(day, closes, self._tz)
                    if begin < end:
                        yield begin, end
            day += timedelta(days=1)
        raise ValueError(f"limit runs beyond {MAX_WALK_DAYS} days from {local.isoformat()}")

    def _walk(self, local: datetime, remaining: timedelta) -> tuple[datetime, datetime]:
        """The first counted instant and the instant `remaining` office time later."""
        first = None
        for begin, end in self._spans(local):
            first = first or begin
            if remaining <= end - begin:
                return first, begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: _spans raises when it runs out")

    def _working_days(self, local: datetime, count: int) -> tuple[datetime, datetime]:
        """The opening of the first working day after the start day, and the close of the Nth."""
        day, first = local.date(), None
        for _ in range(MAX_WALK_DAYS):
            day += timedelta(days=1)
            if self.day_kind(day)[0]:
                first = first or day
                count -= 1
                if count == 0:
                    return (datetime.combine(first, self.periods[0][0], self._tz),
                            datetime.combine(day, self.periods[-1][1], self._tz))
        raise ValueError(f"limit runs beyond {MAX_WALK_DAYS} days from {local.isoformat()}")

    def _due(self, unit: str, amount: float, local: datetime, first: datetime, due: datetime, days: bool) -> Due:
        skipped, make_up = self._day_notes(local.date(), first.date(), due.date()) if days else ([], [])
        return Due(at=due.astimezone(UTC), explanation={
            "unit": unit,
            "amount": amount if isinstance(amount, int) else float(amount),
            "start": local.isoformat(),
            "counting_from": first.isoformat(),
            "due": due.isoformat(),
            "office_hours": [f"{o:%H:%M}-{c:%H:%M}" for o, c in self.periods],
            "timezone": self.tz,
            "skipped_days": skipped,
            "make_up_days": make_up,
            "warnings": self.warnings_for(local, due) if days else [],
            "warnings_en": self.warnings_for(local, due, "en") if days else [],
            "rule": RULES[unit]["zh"],
            "rule_en": RULES[unit]["en"],
        })

    def _day_notes(self, start: date, counted_from: date, due: date) -> tuple[list[dict], list[dict]]:
        """Days off between start and due, and days counted although weekend days or overridden."""
        skipped, make_up = [], []
        day = start
        while day <= due:
            working, why = self.day_kind(day)
            if not working:
                skipped.append({"date": day.isoformat(), "why": why})
            elif day >= counted_from and (day.weekday() >= 5 or day in self.overrides):
                make_up.append({"date": day.isoformat(), "why": why})
            day += timedelta(days=1)
        return skipped, make_up
