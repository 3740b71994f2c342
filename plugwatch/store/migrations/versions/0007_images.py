"""Pictures: hash banks of known pictures (PDQ).

Revision ID: 0007_images
Revises: 0006_intake
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_images'
down_revision = '0006_intake'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_bank_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank', sa.String(length=120), nullable=False),
    sa.Column('pdq', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=True),
    sa.Column('source', sa.String(length=300), nullable=True),
    sa.Column('variants', sa.JSON(), nullable=False),
    sa.Column('added_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bank', 'pdq', name='uq_image_bank_entries_bank_pdq')
    )
    with op.batch_alter_table('image_bank_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_bank_entries_bank'), ['bank'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('image_bank_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_bank_entries_bank'))
    op.drop_table('image_bank_entries')
