"""Policy rules: matches per item, task routes (named queue, labels), rule states.

Revision ID: 0008_rules
Revises: 0007_images
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_rules'
down_revision = '0007_images'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rule_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('effects', sa.JSON(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rule_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_matches_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_matches_rule'), ['rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_matches_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_matches_created_at'), ['created_at'], unique=False)

    op.create_table('task_routes',
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('queue', sa.String(length=80), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id')
    )
    with op.batch_alter_table('task_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_routes_queue'), ['queue'], unique=False)

    op.create_table('rule_states',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('rule_states')
    with op.batch_alter_table('task_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_routes_queue'))
    op.drop_table('task_routes')
    with op.batch_alter_table('rule_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_matches_created_at'))
        batch_op.drop_index(batch_op.f('ix_rule_matches_decision_id'))
        batch_op.drop_index(batch_op.f('ix_rule_matches_rule'))
        batch_op.drop_index(batch_op.f('ix_rule_matches_item_id'))
    op.drop_table('rule_matches')
