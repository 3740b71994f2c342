"""Live intake: reporters and user reports, retaliation flags, connector checkpoints, rejected events,
items waiting for their full scoring.

Revision ID: 0006_intake
Revises: 0005_enforcement
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_intake'
down_revision = '0005_enforcement'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_checkpoints',
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cursor', sa.String(length=200), nullable=True),
    sa.Column('read', sa.Integer(), nullable=False),
    sa.Column('stored', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('dropped', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('profiles', sa.Integer(), nullable=False),
    sa.Column('deferred', sa.Integer(), nullable=False),
    sa.Column('reconnects', sa.Integer(), nullable=False),
    sa.Column('lag_seconds', sa.Float(), nullable=True),
    sa.Column('max_lag_seconds', sa.Float(), nullable=True),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source')
    )
    op.create_table('intake_rejects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('event_key', sa.String(length=300), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intake_rejects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_rejects_source'), ['source'], unique=False)

    op.create_table('reporters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('actioned', sa.Integer(), nullable=False),
    sa.Column('trusted_flagger', sa.Boolean(), nullable=False),
    sa.Column('trusted_name', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('deferred_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id')
    )
    with op.batch_alter_table('deferred_scores', schema=None) as batch_op:
        batch_op.create_index('ix_deferred_scores_source_id', ['source', 'id'], unique=False)

    op.create_table('user_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=True),
    sa.Column('account_key', sa.String(length=300), nullable=True),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('filed_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.ForeignKeyConstraint(['reporter_id'], ['reporters.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'external_id', name='uq_user_reports_source_external')
    )
    with op.batch_alter_table('user_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_reports_account_key'), ['account_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_reports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_reports_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_reports_reporter_id'), ['reporter_id'], unique=False)

    op.create_table('retaliation_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('threat_words', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['user_reports.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('retaliation_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retaliation_flags_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retaliation_flags_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('retaliation_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retaliation_flags_report_id'))
        batch_op.drop_index(batch_op.f('ix_retaliation_flags_item_id'))

    op.drop_table('retaliation_flags')
    with op.batch_alter_table('user_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_user_reports_item_id'))
        batch_op.drop_index(batch_op.f('ix_user_reports_created_at'))
        batch_op.drop_index(batch_op.f('ix_user_reports_account_key'))

    op.drop_table('user_reports')
    with op.batch_alter_table('deferred_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_deferred_scores_source_id')

    op.drop_table('deferred_scores')
    op.drop_table('reporters')
    with op.batch_alter_table('intake_rejects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_rejects_source'))

    op.drop_table('intake_rejects')
    op.drop_table('intake_checkpoints')
