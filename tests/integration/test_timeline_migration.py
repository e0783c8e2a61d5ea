"""Migration 0010 re-seals timelines written under the unkeyed sha256 chain: what the old chain still vouched
for verifies under the key, and an event changed before the migration is still reported after it.

Runs on a SQLite file of its own (it needs the schema as it was at 0009), whatever database the suite uses."""
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, insert, select, update

from engine.store import db, timeline
from engine.store.model import Case

KEY = b"the installation's timeline key"
AT = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def old_hash(prev, case_id, seq, at, actor, kind, task_id, reason, payload) -> str:
    """Scheme 1, as engine/store/timeline.py computed it before 0010."""
    body = json.dumps([prev, case_id, seq, at.isoformat(), actor, kind, task_id, reason, payload],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def filler(column):
    """Some value for a required column this test does not care about."""
    kind = column.type.python_type
    return {int: 1, float: 0.0, bool: True, dict: {}, datetime: AT.replace(tzinfo=None)}.get(kind, "x")


def add(connection, table, **values) -> int:
    row = {c.name: filler(c) for c in table.columns
           if not c.nullable and c.server_default is None and not c.primary_key and c.name not in values}
    return connection.execute(insert(table).values(**row, **values)).inserted_primary_key[0]


def legacy_case(connection, tables, number: str, events: int, tamper_at: int | None = None) -> int:
    """A case at schema 0009 with `events` events chained the old way; one changed afterwards if asked."""
    case_id = add(connection, tables["cases"], number=number, grid_id=1, responsible_grid_id=1, reporter_id=1,
                  process_version_id=1)
    previous = "0" * 64
    for seq in range(1, events + 1):
        at, payload = AT + timedelta(minutes=seq), {"step": seq, "名": "值"}
        digest = old_hash(previous, case_id, seq, at, "worker", "commented", None, f"note {seq}", payload)
        add(connection, tables["timeline_events"], case_id=case_id, seq=seq, at=at.replace(tzinfo=None), actor_id=1,
            actor="worker", kind="commented", task_id=None, reason=f"note {seq}", payload=payload,
            prev_hash=previous, hash=digest)
        previous = digest
    if tamper_at:
        connection.execute(update(tables["timeline_events"]).values(reason="rewritten").where(
            tables["timeline_events"].c.case_id == case_id, tables["timeline_events"].c.seq == tamper_at))
    return case_id


@pytest.fixture
def at_0009(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    db.upgrade(engine, revision="0009")
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        add(connection, tables.tables["grids"], code="g", path="/g/")
        add(connection, tables.tables["users"], username="worker", active=True)
        add(connection, tables.tables["process_versions"], files={})
        ids = {"kept": legacy_case(connection, tables.tables, "n-1", 5),
               "changed": legacy_case(connection, tables.tables, "n-2", 5, tamper_at=3)}
    yield engine, ids
    engine.dispose()


def test_old_chains_are_resealed_and_an_old_change_is_still_found(at_0009):
    engine, ids = at_0009
    db.upgrade(engine, KEY)
    with db.make_session_factory(engine, KEY)() as session:
        assert timeline.verify(session, ids["kept"]) == {"intact": True, "events": 5, "recorded": 5,
                                                         "broken_at": None, "reason": None}
        changed = timeline.verify(session, ids["changed"])
        assert (changed["intact"], changed["broken_at"], changed["recorded"]) == (False, 3, 5)
        case = session.get(Case, ids["kept"])
        last = session.scalar(select(timeline.TimelineEvent.hash).where(
            timeline.TimelineEvent.case_id == ids["kept"], timeline.TimelineEvent.seq == 5))
        assert (case.timeline_seq, case.timeline_hash) == (5, last)
        timeline.append(session, ids["kept"], AT + timedelta(hours=1), None, "commented")  # the chain goes on
        session.commit()
        assert timeline.verify(session, ids["kept"])["events"] == 6 and timeline.verify(session, ids["kept"])["intact"]


def test_the_resealed_chain_verifies_only_under_the_key_it_was_sealed_with(at_0009):
    engine, ids = at_0009
    db.upgrade(engine, KEY)
    with db.make_session_factory(engine, b"another key")() as session:
        assert not timeline.verify(session, ids["kept"])["intact"]


def test_the_migration_refuses_to_run_without_the_key_when_there_is_something_to_seal(at_0009):
    engine, _ = at_0009
    with pytest.raises(RuntimeError, match="timeline key"):
        db.upgrade(engine)
