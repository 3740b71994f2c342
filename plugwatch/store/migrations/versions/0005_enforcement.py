"""Acting on platforms: the outbox of platform effects, notices, DSA statements of reasons.

Revision ID: 0005_enforcement
Revises: 0004_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_enforcement'
down_revision = '0004_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dsa_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('puid', sa.String(length=500), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('source_type', sa.String(length=40), nullable=False),
    sa.Column('automated_detection', sa.Boolean(), nullable=False),
    sa.Column('automated_decision', sa.String(length=40), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('puid')
    )
    with op.batch_alter_table('dsa_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dsa_statements_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dsa_statements_decision_id'), ['decision_id'], unique=False)

    op.create_table('enforcement_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('account_key', sa.String(length=300), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('automated_decision', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enforcement_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_notices_account_key'), ['account_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_notices_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_notices_item_id'), ['item_id'], unique=False)

    op.create_table('platform_effects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('backend', sa.String(length=80), nullable=False),
    sa.Column('effect', sa.String(length=40), nullable=False),
    sa.Column('operation', sa.String(length=60), nullable=False),
    sa.Column('reverses', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('shadow', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=80), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('platform_effects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_effects_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index('ix_platform_effects_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_effects_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('platform_effects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_effects_item_id'))
        batch_op.drop_index('ix_platform_effects_due')
        batch_op.drop_index(batch_op.f('ix_platform_effects_decision_id'))

    op.drop_table('platform_effects')
    with op.batch_alter_table('enforcement_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_notices_item_id'))
        batch_op.drop_index(batch_op.f('ix_enforcement_notices_decision_id'))
        batch_op.drop_index(batch_op.f('ix_enforcement_notices_account_key'))

    op.drop_table('enforcement_notices')
    with op.batch_alter_table('dsa_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dsa_statements_decision_id'))
        batch_op.drop_index(batch_op.f('ix_dsa_statements_created_at'))

    op.drop_table('dsa_statements')
