"""A task keeps the role a policy rule routed it to: review_tasks.routed_role, so its appeals need that
role too. Filled in for tasks routed before this revision (their rule's queue, task_routes.queue, was
`leads`), and their open appeals go to the leads as new ones do.

Revision ID: 0013_routed_role
Revises: 0012_reporter_pseudonyms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_routed_role'
down_revision = '0012_reporter_pseudonyms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routed_role', sa.String(length=20), nullable=True))
    op.execute(sa.text("UPDATE review_tasks SET routed_role = 'lead' "
                       "WHERE item_id IN (SELECT item_id FROM task_routes WHERE queue = 'leads')"))
    op.execute(sa.text("UPDATE review_tasks SET required_role = 'lead' "
                       "WHERE routed_role = 'lead' AND open_state = 'appealed' AND state != 'decided'"))


def downgrade() -> None:
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.drop_column('routed_role')
