"""indicators: each case's folded history, the rollups by day, by month and by town and month, the score's settings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 03:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _counters():
    return [
        sa.Column('reported', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('valid_reports', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('reg_decided', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('registered', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('registered_on_time', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('supervised', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('dispatched', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('dispatched_on_time', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('due_to_handle', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('handled', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('handled_on_time', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('returned', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('extended', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('reworked', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('handle_minutes', sa.Float(), nullable=False, server_default='0'),
        sa.Column('due_to_close', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('closed', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('closed_on_time', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('close_minutes', sa.Float(), nullable=False, server_default='0'),
        sa.Column('overdue_open', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('follow_ups', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('satisfied', sa.Integer(), nullable=False, server_default='0'),
    ]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'indicator_cases',
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('cases.id'), primary_key=True),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
    )
    for table, period in (('indicator_daily', 'day'), ('indicator_monthly', 'month')):
        op.create_table(
            table,
            sa.Column(period, sa.Date(), nullable=False),
            sa.Column('grid_id', sa.Integer(), nullable=False),
            sa.Column('department', sa.String(length=40), nullable=False),
            sa.Column('case_type', sa.String(length=40), nullable=False),
            sa.Column('worker_id', sa.Integer(), nullable=False),
            *_counters(),
            sa.PrimaryKeyConstraint(period, 'grid_id', 'department', 'case_type', 'worker_id'),
        )
    op.create_table(
        'indicator_town_monthly',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('town_id', sa.Integer(), nullable=False),
        sa.Column('department', sa.String(length=40), nullable=False),
        sa.Column('case_type', sa.String(length=40), nullable=False),
        *_counters(),
        sa.PrimaryKeyConstraint('month', 'town_id', 'department', 'case_type'),
    )
    op.create_index('ix_indicator_monthly_overdue', 'indicator_monthly', ['grid_id'],
                    sqlite_where=sa.text('overdue_open > 0'), postgresql_where=sa.text('overdue_open > 0'))
    op.create_table(
        'indicator_settings',
        sa.Column('name', sa.String(length=60), primary_key=True),
        sa.Column('value', sa.Float(), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_indicator_monthly_overdue', table_name='indicator_monthly')
    for table in ('indicator_settings', 'indicator_town_monthly', 'indicator_monthly', 'indicator_daily', 'indicator_cases'):
        op.drop_table(table)
