"""A task routed to the leads names the rule that did: review_tasks.routed_by, so a reviewer refused it is
told why. Filled in for tasks routed before this revision from the rules' matches: the first active match
with a named queue is the rule whose queue won (plugwatch.rules.routing), and on those tasks it was `leads`.

Revision ID: 0014_routed_by
Revises: 0013_routed_role
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0014_routed_by'
down_revision = '0013_routed_role'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routed_by', sa.String(length=80), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT m.item_id, m.rule, m.effects FROM rule_matches m JOIN review_tasks t ON t.item_id = m.item_id "
        "WHERE t.routed_role = 'lead' AND m.mode = 'active' ORDER BY m.id"))
    named: dict[str, str] = {}
    for item_id, rule, effects in rows:
        effects = json.loads(effects) if isinstance(effects, str) else effects or {}
        if effects.get("queue") == "leads":
            named.setdefault(item_id, rule)
    if named:
        bind.execute(sa.text("UPDATE review_tasks SET routed_by = :rule WHERE item_id = :item"),
                     [{"rule": rule, "item": item_id} for item_id, rule in named.items()])


def downgrade() -> None:
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.drop_column('routed_by')
