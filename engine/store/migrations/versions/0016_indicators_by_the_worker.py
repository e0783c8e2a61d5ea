"""indicators by the worker: each case says how far the rollup has counted its timeline (`indicator_seq`, moved
from indicator_cases.seq), and the cases it has not caught up with are indexed

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 06:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BEHIND = "timeline_seq > indicator_seq"


def upgrade() -> None:
    """Upgrade schema: a case without a folded state starts at 0, so the worker folds its whole history."""
    op.add_column("cases", sa.Column("indicator_seq", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE cases SET indicator_seq = (SELECT seq FROM indicator_cases WHERE case_id = cases.id) "
               "WHERE id IN (SELECT case_id FROM indicator_cases)")
    op.drop_column("indicator_cases", "seq")
    op.create_index("ix_cases_indicators_behind", "cases", ["id"], sqlite_where=sa.text(BEHIND),
                    postgresql_where=sa.text(BEHIND))


def downgrade() -> None:
    """Downgrade schema: the seq goes back to indicator_cases."""
    op.drop_index("ix_cases_indicators_behind", table_name="cases")
    op.add_column("indicator_cases", sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE indicator_cases SET seq = (SELECT indicator_seq FROM cases WHERE id = case_id)")
    op.drop_column("cases", "indicator_seq")
