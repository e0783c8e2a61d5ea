"""Readable, sortable case numbers: town code, local date, sequence (e.g. 350583101-20261128-0007)."""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.store.model import CaseCounter


def next_number(session: Session, town_code: str, now: datetime, tz: str) -> str:
    """Take the next number for the town and local day, atomically: one upsert that starts the day's counter at 1
    or adds 1 to it, holding the counter's row until the transaction ends."""
    prefix = f"{town_code}-{now.astimezone(ZoneInfo(tz)):%Y%m%d}"
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    last = session.scalar(
        insert(CaseCounter).values(prefix=prefix, last=1)
        .on_conflict_do_update(index_elements=[CaseCounter.prefix], set_={"last": CaseCounter.last + 1})
        .returning(CaseCounter.last)
    )
    return f"{prefix}-{last:04d}"
