"""sealed timelines: events sealed with a keyed HMAC, the head (last seq, hash, seal) kept on the case row

Timelines written before were chained with plain sha256 (no key, actor_id not covered, no head). This
migration checks each case's old chain and re-seals the part of it that holds, from its first event, under
the timeline key: so the new chain vouches only for what the old one still vouched for. Events from the first
one that no longer held onwards keep their old hashes, and /timeline/verify reports that event as broken.
The head is recorded over the last event present, so events deleted later are noticed too.

The key comes from engine.store.db.upgrade (config.attributes["timeline_key"]); it is needed only when there
are events to re-seal. The sealing below is a frozen copy of engine/store/timeline.py's scheme 2.
Downgrading drops the head columns but leaves the events as sealed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00

"""
import hashlib
import hmac
import json
from datetime import UTC
from itertools import groupby
from typing import Sequence, Union

from alembic import context, op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GENESIS = "0" * 64
SCHEME = "gridflow-timeline/2"
EVENTS = sa.table(
    "timeline_events", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer), sa.column("seq", sa.Integer),
    sa.column("at", sa.DateTime), sa.column("actor_id", sa.Integer), sa.column("actor", sa.String),
    sa.column("kind", sa.String), sa.column("task_id", sa.String), sa.column("reason", sa.Text),
    sa.column("payload", sa.JSON), sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
CASES = sa.table("cases", sa.column("id", sa.Integer), sa.column("timeline_seq", sa.Integer),
                 sa.column("timeline_hash", sa.String), sa.column("timeline_seal", sa.String))


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timeline_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('timeline_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('timeline_seal', sa.String(length=64), nullable=True))
    reseal(op.get_bind(), context.config.attributes.get("timeline_key"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('timeline_seal')
        batch_op.drop_column('timeline_hash')
        batch_op.drop_column('timeline_seq')


def reseal(connection, key: bytes | None) -> None:
    rows = connection.execute(sa.select(EVENTS).order_by(EVENTS.c.case_id, EVENTS.c.seq)).all()
    if rows and key is None:
        raise RuntimeError("re-sealing the case timelines needs the timeline key: migrate through "
                           "engine.store.db.upgrade(engine, timeline_key)")
    events, heads = [], []
    for case_id, case_rows in groupby(rows, key=lambda row: row.case_id):
        old_previous = new_previous = GENESIS
        holds = True
        for count, row in enumerate(case_rows, start=1):
            holds = holds and row.seq == count and row.prev_hash == old_previous and row.hash == _old_hash(row)
            old_previous, last = row.hash, (row.seq, row.hash)
            if holds:
                sealed = _seal(key, row, new_previous)
                events.append({"event_id": row.id, "new_prev": new_previous, "new_hash": sealed})
                new_previous, last = sealed, (row.seq, sealed)
        heads.append({"case": case_id, "seq": last[0], "last": last[1],
                      "seal": _mac(key, [SCHEME + "/head", case_id, last[0], last[1]])})
    if events:
        connection.execute(EVENTS.update().where(EVENTS.c.id == sa.bindparam("event_id"))
                           .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")), events)
    if heads:
        connection.execute(CASES.update().where(CASES.c.id == sa.bindparam("case"))
                           .values(timeline_seq=sa.bindparam("seq"), timeline_hash=sa.bindparam("last"),
                                   timeline_seal=sa.bindparam("seal")), heads)


def _at(row) -> str:
    return row.at.replace(tzinfo=UTC).isoformat()


def _old_hash(row) -> str:
    """Scheme 1: plain sha256 over the event without actor_id, chained by the previous hash."""
    body = json.dumps([row.prev_hash, row.case_id, row.seq, _at(row), row.actor, row.kind, row.task_id, row.reason,
                       row.payload], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _seal(key: bytes, row, prev_hash: str) -> str:
    """Scheme 2: HMAC-SHA256 under the timeline key over every column of the event and the previous seal."""
    return _mac(key, [SCHEME, prev_hash, row.case_id, row.seq, _at(row), row.actor_id, row.actor, row.kind,
                      row.task_id, row.reason, row.payload])


def _mac(key: bytes, fields: list) -> str:
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
