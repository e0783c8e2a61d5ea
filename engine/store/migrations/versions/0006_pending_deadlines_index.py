"""the pending-deadlines index leaves cancelled rows out too

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 15:45:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD = "fired_at IS NULL"
NEW = "fired_at IS NULL AND cancelled_at IS NULL"


def _replace(where: str) -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_due_pending')
        batch_op.create_index('ix_deadlines_due_pending', ['due_at'], unique=False,
                              sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    """Upgrade schema."""
    _replace(NEW)


def downgrade() -> None:
    """Downgrade schema."""
    _replace(OLD)
