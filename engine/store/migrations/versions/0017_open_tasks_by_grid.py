"""open tasks by grid in due order: a grid leader's inbox reads each of their grids' first page along it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 07:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = "status IN ('open', 'claimed')"


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_tasks_open_grid_due", "tasks", ["grid_id", "due_at", "created_at", "id"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_tasks_open_grid_due", table_name="tasks")
