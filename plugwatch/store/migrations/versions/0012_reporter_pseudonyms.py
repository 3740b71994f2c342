"""Reporters' identities expire: reporters.pseudonymised_at (NULL: `key` is still the reporter's
`platform:handle`; set: retention replaced it by a keyed pseudonym, or removed it).

Revision ID: 0012_reporter_pseudonyms
Revises: 0011_never_reused_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_reporter_pseudonyms'
down_revision = '0011_never_reused_ids'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reporters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reporters', schema=None) as batch_op:
        batch_op.drop_column('pseudonymised_at')
