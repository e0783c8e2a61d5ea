"""A unit of work that only reads: no transaction on PostgreSQL, a snapshot that does not wait on SQLite,
and no way to write."""
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from engine.store.model import Holiday, User
from tests.helpers import race


def holidays(deps) -> int:
    with deps.read() as uow:
        return uow.session.scalar(select(func.count()).select_from(Holiday))


def test_a_read_holds_no_transaction_on_postgresql_and_lets_a_writer_commit_meanwhile_on_sqlite(deps):
    with deps.read() as uow:
        assert uow.session.scalar(select(User.username).where(User.username == "worker")) == "worker"
        dbapi = uow.session.connection().connection.dbapi_connection
        if uow.session.get_bind().dialect.name == "postgresql":
            assert dbapi.info.transaction_status.name == "IDLE"  # no BEGIN was sent, so no ROLLBACK will be
        with deps.uow() as writer:  # with a write lock held by the read, this would wait out the busy timeout
            writer.session.add(Holiday(day=date(2026, 12, 31), kind="holiday", name="跨年"))
            writer.commit()
    assert holidays(deps) == 1


def test_a_read_may_not_write(deps):
    with deps.read() as uow:
        uow.session.add(Holiday(day=date(2026, 12, 31), kind="holiday", name="跨年"))
        with pytest.raises(RuntimeError, match="may not write"):
            uow.session.flush()
        with pytest.raises(RuntimeError, match="nothing to commit"):
            uow.commit()
    with deps.read() as uow:  # nor a statement that writes, which would be committed at once on PostgreSQL
        with pytest.raises(RuntimeError, match="may not write"):
            uow.session.execute(insert(Holiday).values(day=date(2026, 12, 31), kind="holiday", name="跨年"))
    assert holidays(deps) == 0


def test_reads_alongside_a_writer_each_see_what_was_committed(deps):
    def write():
        with deps.uow() as uow:
            uow.session.add(Holiday(day=date(2026, 12, 30), kind="holiday", name="测试"))
            uow.commit()
        return "written"

    results = race(write, *[lambda: holidays(deps)] * 3)
    assert results[0] == "written" and all(seen in (0, 1) for seen in results[1:]), results
    assert holidays(deps) == 1
