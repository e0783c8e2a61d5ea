"""case search indexes: by place and by reporter, newest first

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 16:20:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_grid_created', ['grid_id', 'created_at'], unique=False)
        batch_op.create_index('ix_cases_reporter_created', ['reporter_id', 'created_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_reporter_created')
        batch_op.drop_index('ix_cases_grid_created')
