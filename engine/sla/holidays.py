"""The admins' override table for the business calendar: days the official calendar does not know."""
from datetime import date

from sqlalchemy import select

from engine.deps import Deps
from engine.errors import NotFoundError, ValidationError
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
