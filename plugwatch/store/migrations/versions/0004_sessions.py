"""Server-side sessions (revocable at sign-out, password change, token reset); the cookie signing
key leaves the database.

Revision ID: 0004_sessions
Revises: 0003_sharing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_sessions'
down_revision = '0003_sharing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_expires_at'), ['expires_at'], unique=False)
    # Earlier versions kept the cookie signing key here, readable by anyone with a copy of the
    # database. It is no longer used (the key lives in a file, see plugwatch.service.keys): delete it.
    op.execute(sa.text("DELETE FROM settings WHERE key = 'session_secret'"))


def downgrade() -> None:
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
