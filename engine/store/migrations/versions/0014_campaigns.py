"""campaigns: top-down tasks to every grid of an area, one assignment per grid with its submissions, findings
and timeline; deadlines and notifications may belong to an assignment instead of a case

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 03:00:05.667054

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from engine.store.model import CompressedText, UTCDateTime

PENDING = "fired_at IS NULL AND cancelled_at IS NULL"


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('form', sa.JSON(), nullable=False),
    sa.Column('root_grid_id', sa.Integer(), nullable=False),
    sa.Column('target_level', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('due_at', UTCDateTime(), nullable=False),
    sa.Column('recurrence', sa.String(length=20), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('next_round_at', UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('process_version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], ),
    sa.ForeignKeyConstraint(['previous_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['process_version_id'], ['process_versions.id'], ),
    sa.ForeignKeyConstraint(['root_grid_id'], ['grids.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_root_grid_id'), ['root_grid_id'], unique=False)

    op.create_table('campaign_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('step', sa.String(length=80), nullable=True),
    sa.Column('step_id', sa.String(length=36), nullable=True),
    sa.Column('state', CompressedText(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('due_at', UTCDateTime(), nullable=False),
    sa.Column('accepted_at', UTCDateTime(), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', UTCDateTime(), nullable=True),
    sa.Column('first_submitted_at', UTCDateTime(), nullable=True),
    sa.Column('approved_at', UTCDateTime(), nullable=True),
    sa.Column('overdue_at', UTCDateTime(), nullable=True),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('returns', sa.Integer(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'grid_id')
    )
    with op.batch_alter_table('campaign_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_assignments_grid_status', ['grid_id', 'status'], unique=False)

    op.create_table('campaign_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['assignment_id'], ['campaign_assignments.id'], ),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaign_events', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_events_campaign_id', ['campaign_id', 'id'], unique=False)

    op.create_table('campaign_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', UTCDateTime(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('review', sa.String(length=20), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', UTCDateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['campaign_assignments.id'], ),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaign_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_submissions_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_submissions_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['campaign_assignments.id'], ),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['campaign_submissions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('campaign_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_findings_campaign_id'), ['campaign_id'], unique=False)

    # SQLite rebuilds the table to loosen case_id: the partial index is made again after it, with its condition
    op.drop_index('ix_deadlines_due_pending', table_name='deadlines')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignment_id', sa.Integer(), nullable=True))
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_deadlines_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_unique_constraint('uq_deadlines_assignment_id_key', ['assignment_id', 'key'])
        batch_op.create_foreign_key('fk_deadlines_assignment_id_campaign_assignments', 'campaign_assignments', ['assignment_id'], ['id'])
    _pending_index()

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignment_id', sa.Integer(), nullable=True))
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_foreign_key('fk_notifications_assignment_id_campaign_assignments', 'campaign_assignments', ['assignment_id'], ['id'])



def downgrade() -> None:
    """Downgrade schema: an assignment's deadlines and notices go with the campaigns."""
    op.execute("DELETE FROM deadlines WHERE case_id IS NULL")
    op.execute("DELETE FROM notifications WHERE case_id IS NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('fk_notifications_assignment_id_campaign_assignments', type_='foreignkey')
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('assignment_id')

    op.drop_index('ix_deadlines_due_pending', table_name='deadlines')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_constraint('fk_deadlines_assignment_id_campaign_assignments', type_='foreignkey')
        batch_op.drop_constraint('uq_deadlines_assignment_id_key', type_='unique')
        batch_op.drop_index(batch_op.f('ix_deadlines_assignment_id'))
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('assignment_id')
    _pending_index()

    with op.batch_alter_table('campaign_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_findings_campaign_id'))

    op.drop_table('campaign_findings')
    with op.batch_alter_table('campaign_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_submissions_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_submissions_assignment_id'))

    op.drop_table('campaign_submissions')
    with op.batch_alter_table('campaign_events', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_events_campaign_id')

    op.drop_table('campaign_events')
    with op.batch_alter_table('campaign_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_assignments_grid_status')

    op.drop_table('campaign_assignments')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_root_grid_id'))

    op.drop_table('campaigns')


def _pending_index() -> None:
    op.create_index('ix_deadlines_due_pending', 'deadlines', ['due_at'], sqlite_where=sa.text(PENDING),
                    postgresql_where=sa.text(PENDING))
