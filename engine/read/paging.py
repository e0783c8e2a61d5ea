"""Keyset pagination: one page of rows, and an opaque cursor saying where the next page starts.

A cursor holds the sort key of the last row served, ending with the row's id so that rows sharing a sort value
still come in one fixed order: a page starts strictly after it, so walking every page sees each row once,
however many rows share a due time, and without OFFSET (which gets slower the deeper it goes). The cursor is
URL-safe base64 of a little JSON. Reading one checks its shape against the sort it is used with: anything
changed, truncated or made for another list is refused as a ValidationError naming `cursor`, so no odd value
reaches the database.
"""
import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_

from engine.errors import ValidationError

MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL


@dataclass(frozen=True)
class Page:
    """Rows of one page, and the cursor of the next page (None on the last one)."""

    items: list[dict]
    next_cursor: str | None


@dataclass(frozen=True)
class Sort:
    """An order over `columns`, the last of which is unique; `fields` name the same values in a row dict.

    With `nulls_last` the first column may be NULL and such rows come after all the others.
    """

    name: str
    columns: tuple
    fields: tuple[str, ...]
    descending: bool = False
    nulls_last: bool = False

    def order_by(self) -> list:
        """ORDER BY clauses, the same on SQLite and PostgreSQL."""
        clauses = [c.desc() if self.descending else c.asc() for c in self.columns]
        if self.nulls_last:
            clauses[0] = clauses[0].nulls_last()
        return clauses

    def after(self, key: tuple):
        """A WHERE clause for the rows that come after the row whose sort key is `key`."""
        if not self.nulls_last:
            return _beyond(self.columns, key, self.descending)
        first, rest = self.columns[0], self.columns[1:]
        if key[0] is None:
            return and_(first.is_(None), _beyond(rest, key[1:], self.descending))
        return or_(first.is_(None), _beyond(self.columns, key, self.descending))

    def cursor(self, row: dict) -> str:
        """The cursor that starts the page after `row`."""
        values = [v.isoformat() if isinstance(v, datetime) else v for v in (row[f] for f in self.fields)]
        raw = json.dumps({"sort": self.name, "key": values}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def read(self, cursor: str) -> tuple:
        """The sort key in `cursor`, checked value by value against this sort's columns."""
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if not isinstance(data, dict) or data.get("sort") != self.name:
                raise ValueError("made for another list or order")
            values = data["key"]
            if not isinstance(values, list) or len(values) != len(self.columns):
                raise ValueError("wrong length")
            return tuple(_value(column, value, nullable=self.nulls_last and i == 0)
                         for i, (column, value) in enumerate(zip(self.columns, values, strict=True)))
        except (ValueError, KeyError, TypeError, binascii.Error, RecursionError, OverflowError) as exc:
            raise ValidationError("the cursor is not valid here; start again without it",
                                  {"cursor": ["Not a cursor of this list and sort order."]}) from exc


def _beyond(columns, key, descending: bool):
    """Rows strictly past `key` in lexicographic order; the leading >= (or <=) lets an index on the first
    column narrow the scan."""
    column, value = columns[0], key[0]
    if len(columns) == 1:
        return column < value if descending else column > value
    return and_(column <= value if descending else column >= value,
                or_(column < value if descending else column > value,
                    and_(column == value, _beyond(columns[1:], key[1:], descending))))


def _value(column, value, nullable: bool):
    """One value of a cursor's key, as the column's Python type, or ValueError."""
    if value is None and nullable:
        return None
    kind = getattr(column.type, "impl_instance", column.type).python_type  # a TypeDecorator's underlying type
    if kind is datetime and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("a naive time")
        return parsed.astimezone(UTC)  # OverflowError past the ends of the calendar
    if kind is int and type(value) is int and 0 <= value <= MAX_ID:
        return value
    if kind is str and isinstance(value, str) and value.isascii() and value.isprintable() \
            and len(value) <= (column.type.length or 0):
        return value
    raise ValueError(f"not a value for {column.key}")
