"""The cases behind an indicator's number: the case search's `counted`, `counted_from`/`counted_to` and
`department` filters, read from each case's folded facts (`indicator_cases.facts`, kept by the rollup).

Every number of the indicators is a sum of these facts, {"YYYY-MM-DD|DEPT": {counter: amount}}, over the cases
of a grid subtree (and a case type, a reporter). So the cases with `counter` on a day of the period (and for
the department) are exactly the cases behind the number, and their amounts add up to it. A case can count more
than once (handled three times, it was due to handle three times): each case found carries its amount. The
facts are read with json_each, which SQLite and PostgreSQL both have, inside the search's one query; nothing
is written, so the rollup costs what it did.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Float, cast, exists, func, select

from engine.errors import ValidationError
from engine.indicators.definitions import COUNTERS
from engine.read.indicators import FIRST_YEAR, LAST_YEAR
from engine.store.model import Case, Department, IndicatorCase

NO_DEPARTMENT = "(none)"  # the department filter's value for "counted under no department" (never dispatched)


@dataclass(frozen=True)
class Counted:
    """What the search asks of the facts: a counter (None: any), days (inclusive, local) and a department
    (a code; "" for none)."""

    counter: str | None = None
    start: date | None = None
    end: date | None = None
    department: str | None = None


def read(session, counted: str | None, start: date | None, end: date | None,
         department: str | None) -> Counted | None:
    """The filters checked (a ValidationError names the field); None when none of them was given."""
    if counted is None and start is None and end is None and department is None:
        return None
    if counted is not None and counted not in COUNTERS:
        raise ValidationError(f"no counter {counted!r}", {"counted": [f"Must be one of: {', '.join(COUNTERS)}."]})
    if counted is None and (start is not None or end is not None):
        raise ValidationError("days without a counter", {"counted": ["Give the counter the days are for."]})
    for name, day in (("counted_from", start), ("counted_to", end)):
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValidationError("date out of range", {name: [f"Must be a date from {FIRST_YEAR} to {LAST_YEAR}."]})
    if start is not None and end is not None and end < start:
        raise ValidationError("days end before they start", {"counted_to": ["Must be on or after counted_from."]})
    if department == NO_DEPARTMENT:
        department = ""
    elif department is not None and session.scalar(
            select(Department.id).where(Department.code == department)) is None:
        raise ValidationError(f"no department with code {department!r}",
                              {"department": [f"No department with code {department!r}."]})
    return Counted(counted, start, end, department)


def clause(session, counted: Counted):
    """A clause over Case: one of the case's facts matches."""
    facts = _facts()
    return exists(_matching(session, counted, facts, select(IndicatorCase.case_id)))


def amount(session, counted: Counted):
    """A column over Case: how much the case counts for the counter on the matching days (None: no counter)."""
    if counted.counter is None:
        return None
    facts = _facts()
    total = select(func.sum(_amount(session, counted.counter, facts)))
    return _matching(session, counted, facts, total).scalar_subquery()


def _facts():
    """indicator_cases.facts as rows (key "YYYY-MM-DD|DEPT", value {counter: amount}), beside their case's row."""
    return func.json_each(IndicatorCase.facts).table_valued("key", "value", joins_implicitly=True).alias("fact")


def _matching(session, counted: Counted, facts, query):
    day = func.substr(facts.c.key, 1, 10)
    where = [IndicatorCase.case_id == Case.id]
    if counted.start is not None:
        where.append(day >= counted.start.isoformat())
    if counted.end is not None:
        where.append(day <= counted.end.isoformat())
    if counted.department is not None:
        where.append(func.substr(facts.c.key, 12) == counted.department)
    if counted.counter is not None:
        where.append(_amount(session, counted.counter, facts) > 0)
    return query.select_from(IndicatorCase, facts).where(*where).correlate(Case)


def _amount(session, counter: str, facts):
    """The counter's amount in a fact's value (NULL where the fact has none of it)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(facts.c.value.op("->>")(counter), Float)
    return func.json_extract(facts.c.value, f"$.{counter}")
