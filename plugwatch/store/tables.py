"""Every table the store holds, named once: the review tables, then each later stage's.

All are declared on one `Base`, so `METADATA` is the whole schema: Alembic compares against it,
and deleting a row finds every table that points at it. A new stage's table module is added here.
"""

from __future__ import annotations

from plugwatch.store import (
    enforcement_tables,
    evidence_tables,
    image_tables,
    intake_tables,
    rules_tables,
    schema,
    sharing_tables,
)

TABLE_MODULES = (schema, evidence_tables, sharing_tables, enforcement_tables, intake_tables, image_tables,
                 rules_tables)
METADATA = schema.Base.metadata
