"""Two independent reviewers: a task's flag and first opinion's author, and the opinions table.

Revision ID: 0009_tworev
Revises: 0008_rules
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_tworev'
down_revision = '0008_rules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('two_reviewers', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('first_opinion_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_review_tasks_first_opinion_by_users', 'users', ['first_opinion_by'], ['id'])
    op.create_table('review_opinions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('policy_reason', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['review_tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_opinions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_opinions_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_opinions_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_opinions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_opinions_task_id'))
        batch_op.drop_index(batch_op.f('ix_review_opinions_item_id'))
    op.drop_table('review_opinions')
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_review_tasks_first_opinion_by_users', type_='foreignkey')
        batch_op.drop_column('first_opinion_by')
        batch_op.drop_column('two_reviewers')
