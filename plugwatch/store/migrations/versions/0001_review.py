"""Review service: users, accounts, items, identifiers, review queue, decisions, strikes, appeals, audit log.

Revision ID: 0001_review
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001_review'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('platform', sa.String(length=40), nullable=False),
    sa.Column('handle', sa.String(length=200), nullable=True),
    sa.Column('native_id', sa.String(length=200), nullable=True),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('followers', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('network_id', sa.String(length=100), nullable=True),
    sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_network_id'), ['network_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=400), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('identifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('canonical', sa.String(length=400), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('type', 'canonical', name='uq_identifiers_type_canonical')
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('account_identifiers',
    sa.Column('account_key', sa.String(length=300), nullable=False),
    sa.Column('identifier_id', sa.Integer(), nullable=False),
    sa.Column('links', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_key'], ['accounts.key'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['identifier_id'], ['identifiers.id'], ),
    sa.PrimaryKeyConstraint('account_key', 'identifier_id')
    )
    with op.batch_alter_table('account_identifiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_identifiers_identifier_id'), ['identifier_id'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('platform', sa.String(length=40), nullable=False),
    sa.Column('account_key', sa.String(length=300), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('reply_to', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('offer_kind', sa.String(length=20), nullable=True),
    sa.Column('drugs', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('identifiers', sa.JSON(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=True),
    sa.Column('reach', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_key'], ['accounts.key'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_account_key'), ['account_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_reply_to'), ['reply_to'], unique=False)

    op.create_table('item_identifiers',
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('identifier_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['identifier_id'], ['identifiers.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'identifier_id')
    )
    with op.batch_alter_table('item_identifiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_identifiers_identifier_id'), ['identifier_id'], unique=False)

    op.create_table('review_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('group_key', sa.String(length=300), nullable=False),
    sa.Column('priority', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('open_state', sa.String(length=20), nullable=False),
    sa.Column('claimed_by', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('required_role', sa.String(length=20), nullable=True),
    sa.Column('excluded_reviewer', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['excluded_reviewer'], ['users.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id')
    )
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_tasks_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_tasks_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_tasks_group_key'), ['group_key'], unique=False)
        batch_op.create_index('ix_review_tasks_state_priority', ['state', 'priority'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('policy_reason', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handling_seconds', sa.Float(), nullable=True),
    sa.Column('waiting_seconds', sa.Float(), nullable=True),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['review_tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_task_id'), ['task_id'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=300), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('filed_by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_item_id'), ['item_id'], unique=False)

    op.create_table('strikes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_key', sa.String(length=300), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_key'], ['accounts.key'], ),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strikes_account_key'), ['account_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strikes_account_key'))

    op.drop_table('strikes')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_item_id'))

    op.drop_table('appeals')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_task_id'))
        batch_op.drop_index(batch_op.f('ix_decisions_item_id'))
        batch_op.drop_index(batch_op.f('ix_decisions_created_at'))
        batch_op.drop_index(batch_op.f('ix_decisions_appeal_id'))

    op.drop_table('decisions')
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_review_tasks_state_priority')
        batch_op.drop_index(batch_op.f('ix_review_tasks_group_key'))
        batch_op.drop_index(batch_op.f('ix_review_tasks_decided_at'))
        batch_op.drop_index(batch_op.f('ix_review_tasks_created_at'))

    op.drop_table('review_tasks')
    with op.batch_alter_table('item_identifiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_identifiers_identifier_id'))

    op.drop_table('item_identifiers')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_reply_to'))
        batch_op.drop_index(batch_op.f('ix_items_received_at'))
        batch_op.drop_index(batch_op.f('ix_items_account_key'))

    op.drop_table('items')
    with op.batch_alter_table('account_identifiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_identifiers_identifier_id'))

    op.drop_table('account_identifiers')
    op.drop_table('users')
    op.drop_table('settings')
    op.drop_table('identifiers')
    op.drop_table('audit_log')
    op.drop_table('audit_head')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_network_id'))

    op.drop_table('accounts')
