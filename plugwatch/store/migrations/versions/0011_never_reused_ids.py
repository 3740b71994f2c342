"""SQLite never gives a deleted row's id again: AUTOINCREMENT on the tables whose ids are named elsewhere.

Decisions, review opinions, appeals, user reports, platform effects, notices, snapshots and watch-list
entries are named by number outside their row (audit entries, notices and webhooks, platform
idempotency keys, DSA statements, holds, custody logs) and their rows can be deleted (erasure,
retention, a revoked indicator). Without AUTOINCREMENT SQLite gives the next row max(rowid) + 1, so
deleting the newest decision gave its id to the next decision. SQLite cannot add AUTOINCREMENT to a
table, so each is copied (batch mode; plugwatch.store.upgrade turns foreign keys off meanwhile, else
dropping the old table would delete the rows pointing at it). The copy starts each sequence after
the highest id still in the table; a higher id the database still names (a DSA statement's decision,
the chain's snapshot, an audit entry's decision, appeal or effect) moves it further, so an id deleted
before this revision is not given again either. PostgreSQL: nothing to do, sequences never go back.

Revision ID: 0011_never_reused_ids
Revises: 0010_token_expiry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_never_reused_ids'
down_revision = '0010_token_expiry'
branch_labels = None
depends_on = None

TABLES = ('decisions', 'review_opinions', 'appeals', 'user_reports', 'platform_effects', 'enforcement_notices',
          'snapshots', 'watch_entries')


def _audit(key: str, *actions: str) -> str:
    names = ", ".join(f"'{a}'" for a in actions)
    return f"SELECT max(CAST(json_extract(details, '$.{key}') AS INTEGER)) FROM audit_log WHERE action IN ({names})"


# Where else a table's ids are written down, and outlive the row.
NAMED_ELSEWHERE = {
    'decisions': ("SELECT max(decision_id) FROM dsa_statements", "SELECT max(decision_id) FROM snapshots",
                  _audit('decision', 'decision')),
    'review_opinions': (_audit('first_opinion', 'decision'),),
    'appeals': ("SELECT max(appeal_id) FROM decisions", _audit('appeal', 'appeal', 'decision')),
    'platform_effects': ("SELECT max(reverses) FROM platform_effects", _audit('effect', 'effect.retry')),
    'snapshots': ("SELECT max(snapshot_id) FROM evidence_chain",),
}


def _highest_named(bind, table: str) -> int:
    found = 0
    for query in NAMED_ELSEWHERE.get(table, ()):
        try:
            value = bind.execute(sa.text(query)).scalar()
        except sa.exc.OperationalError:  # an SQLite built without JSON functions: the copy's own maximum stands
            continue
        found = max(found, int(value or 0))
    return found


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass
    for table in TABLES:
        named = _highest_named(bind, table)
        current = bind.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}).first()
        if current is None:
            if named:
                bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :n)"), {"t": table, "n": named})
        elif named > current[0]:
            bind.execute(sa.text("UPDATE sqlite_sequence SET seq = :n WHERE name = :t"), {"t": table, "n": named})


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in reversed(TABLES):
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': False}):
            pass
