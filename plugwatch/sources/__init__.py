"""Importers that turn platform exports into `plugwatch.model.Item`s, streaming and in constant memory.

    for out in read(["export.jsonl.gz", "telegram/"], SourceOptions()):
        if isinstance(out, Reject): ...   # a record (or input) that gave no item, and why

Formats: generic `jsonl` / `csv`, plain `text` (one post per line), `x` (API v2 responses), `telegram` (Desktop export), `reddit`
(Pushshift / Arctic Shift dumps), `mastodon` (REST API statuses), `mastodon-archive` (an account archive's
outbox.json), `bluesky` (Jetstream events).
"""

from plugwatch.sources import telegram
from plugwatch.sources.base import FORMATS, Reject, SourceOptions, missing_mapped_column, read
from plugwatch.sources.common import RecordError

# Identifiers a platform's own conventions give, beyond what the text shows (Telegram: an @mention is a
# username). platform -> (item, text read, identifiers found, limit) -> more identifiers.
PLATFORM_IDENTIFIERS = {"telegram": telegram.mention_identifiers}

__all__ = ["FORMATS", "PLATFORM_IDENTIFIERS", "RecordError", "Reject", "SourceOptions", "missing_mapped_column", "read"]
