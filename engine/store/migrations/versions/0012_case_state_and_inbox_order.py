"""case state and inbox order: a case's saved workflow is kept zlib-compressed in a binary column; open tasks
are indexed in the inboxes' order (due time first)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:00:00

"""
import zlib
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 1000
OPEN = "status IN ('open', 'claimed')"


def upgrade() -> None:
    """Upgrade schema: the column becomes binary and every case's state is compressed, a thousand at a time.

    SQLite adds the new column, fills it, drops the old one and renames (no table rebuild, so the tables that
    refer to cases are left alone)."""
    op.create_index("ix_tasks_open_due", "tasks", ["due_at", "created_at", "id"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE cases ALTER COLUMN state TYPE bytea USING convert_to(state, 'UTF8')")
        _rewrite(bind, "state", "state", lambda raw: zlib.compress(bytes(raw), 1))
    else:
        op.execute("ALTER TABLE cases ADD COLUMN state_z BLOB NOT NULL DEFAULT x''")
        _rewrite(bind, "state", "state_z", lambda raw: zlib.compress(raw.encode("utf-8"), 1))
        op.execute("ALTER TABLE cases DROP COLUMN state")
        op.execute("ALTER TABLE cases RENAME COLUMN state_z TO state")


def downgrade() -> None:
    """Downgrade schema: plain text again."""
    op.drop_index("ix_tasks_open_due", table_name="tasks")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _rewrite(bind, "state", "state", lambda raw: zlib.decompress(raw))
        op.execute("ALTER TABLE cases ALTER COLUMN state TYPE text USING convert_from(state, 'UTF8')")
    else:
        op.execute("ALTER TABLE cases ADD COLUMN state_t TEXT NOT NULL DEFAULT ''")
        _rewrite(bind, "state", "state_t", lambda raw: zlib.decompress(raw).decode("utf-8"))
        op.execute("ALTER TABLE cases DROP COLUMN state")
        op.execute("ALTER TABLE cases RENAME COLUMN state_t TO state")


def _rewrite(bind, source: str, target: str, convert) -> None:
    """target = convert(source) for every case, in id order, BATCH rows per statement round."""
    last = 0
    while True:
        rows = bind.execute(sa.text(f"SELECT id, {source} FROM cases WHERE id > :last ORDER BY id LIMIT {BATCH}"),
                            {"last": last}).all()
        if not rows:
            return
        bind.execute(sa.text(f"UPDATE cases SET {target} = :value WHERE id = :id"),
                     [{"id": row.id, "value": convert(row[1])} for row in rows])
        last = rows[-1].id
