"""The admins' override table for the business calendar: days the official calendar does not know."""
from datetime import date, timedelta

from sqlalchemy import select

from engine.deps import Deps
from engine.errors import NotFoundError, ValidationError
from engine.sla import calendar
from engine.store.model import Holiday

KINDS = ("holiday", "workday")


def set_day(deps: Deps, day: date, kind: str, name: str = "") -> None:
    """Declare a day a holiday or a (make-up) working day; clocks started later count by it."""
    if kind not in KINDS:
        raise ValidationError("unknown kind of day", {"kind": [f"Must be one of: {', '.join(KINDS)}."]})
    with deps.uow() as uow:
        row = uow.session.get(Holiday, day) or Holiday(day=day)
        row.kind, row.name = kind, name[:100]
        uow.session.add(row)
        uow.commit()


def remove_day(deps: Deps, day: date) -> None:
    """Drop an override; the official calendar (or the weekend rule) applies again."""
    with deps.uow() as uow:
        row = uow.session.get(Holiday, day)
        if row is None:
            raise NotFoundError(f"no override for {day.isoformat()}")
        uow.session.delete(row)
        uow.commit()


def list_days(deps: Deps) -> list[dict]:
    """Every override, by date."""
    with deps.uow() as uow:
        return [{"day": h.day, "kind": h.kind, "name": h.name}
                for h in uow.session.scalars(select(Holiday).order_by(Holiday.day))]


def year_view(deps: Deps, year: int) -> dict:
    """Every day of a year as the business calendar counts it, and why: the official calendar (statutory
    holidays, make-up working days), the weekend rule where the year has no official data, and overrides.

    A day is {day, working, kind, official, holiday, override, reason}: `kind` is what decides it (workday,
    weekend, holiday, makeup), `official` what the official calendar alone says (None without data),
    `holiday` the statutory holiday's English name it belongs to, `override` the admins' kind and `reason`."""
    if not 1 <= year <= 9998:
        raise ValidationError("not a year", {"year": ["Use a year such as 2026."]})
    first = date(year, 1, 1)
    with deps.uow() as uow:
        overrides = {h.day: h for h in uow.session.scalars(
            select(Holiday).where(Holiday.day >= first, Holiday.day < date(year + 1, 1, 1)))}
    days, day = [], first
    while day.year == year:
        days.append(_day(day, overrides.get(day)))
        day += timedelta(days=1)
    return {"year": year, "official": calendar.year_known(year), "days": days}


def _day(day: date, override: Holiday | None) -> dict:
    weekend = day.weekday() >= 5
    said = calendar.official_day(day)
    official = name = None
    if said is not None:
        working, name = said
        official = ("makeup" if weekend else "workday") if working else ("holiday" if name else "weekend")
        if official in ("workday", "weekend"):
            name = None
    base = official or ("weekend" if weekend else "workday")
    kind = {"holiday": "holiday", "workday": "makeup" if weekend else "workday"}[override.kind] if override else base
    return {"day": day, "working": kind in ("workday", "makeup"), "kind": kind, "official": official,
            "holiday": name, "override": override.kind if override else None,
            "reason": override.name if override else ""}
