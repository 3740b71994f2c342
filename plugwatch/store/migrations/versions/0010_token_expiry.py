"""API tokens expire: users.token_expires_at (NULL, never, for tokens issued before this revision).

Revision ID: 0010_token_expiry
Revises: 0009_tworev
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_token_expiry'
down_revision = '0009_tworev'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('token_expires_at')
