"""The composition root: every stage of plugwatch, wired explicitly, in one place.

Lower layers never look for stages (no import side effects, no module names in strings): what runs
is what this file names.
- `command_groups()`: the CLI's commands, in the order `plugwatch --help` lists them.
- `routers()`: what the HTTP service mounts.
- `store_hooks()`: what runs inside the store's transactions after an ingest and after a decision.
- `open_store()`, `create_app()`: the only public ways to a store and to the service, so every
  caller gets the hooks.

Declared once elsewhere, and read from there: tables (`store/tables.py`), signals
(`signals/__init__.py`), identifier types (`identifier_types.py`), actions (`actions.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from plugwatch.store import Store
    from plugwatch.store.hooks import Hooks


def command_groups():
    """Modules with `register(app)`, each adding its stage's commands to the CLI."""
    from plugwatch.commands import (
        enforce,
        evidence,
        images,
        intake,
        model,
        networks,
        rules,
        scan,
        service,
        share,
    )

    return (scan, model, networks, images, service, intake, evidence, share, enforce, rules)


def store_hooks(rules: str | None = None) -> Hooks:
    """`rules`: the site's rules folder (default $PLUGWATCH_RULES; none: the built-in default rules)."""
    from pathlib import Path

    from plugwatch.enforce.outbox import on_decision as enqueue_platform_effects
    from plugwatch.evidence.snapshot import on_decision as freeze_evidence
    from plugwatch.privacy import optional_key
    from plugwatch.rules.book import RuleBook
    from plugwatch.rules.routing import after_ingest as carry_out_rules
    from plugwatch.rules.routing import router
    from plugwatch.settings import rules_dir
    from plugwatch.share.matching import after_ingest as match_watch_lists
    from plugwatch.store.hooks import Hooks
    from plugwatch.store.image_banks import after_ingest as match_image_banks
    from plugwatch.store.image_banks import on_decision as bank_confirmed_pictures
    from plugwatch.store.reports import after_ingest as attach_reports_and_flag_retaliation
    from plugwatch.store.reports import on_decision as tell_reporters_the_outcome

    folder = rules_dir(rules)
    book = RuleBook(Path(folder) if folder else None)
    # Rules run last at ingest: their conditions read watch-list, report and picture-bank matches.
    return Hooks(after_ingest=(match_watch_lists, attach_reports_and_flag_retaliation, match_image_banks,
                               carry_out_rules),
                 after_decision=(tell_reporters_the_outcome, freeze_evidence, enqueue_platform_effects,
                                 bank_confirmed_pictures),
                 route=router(book), pseudonym_key=optional_key)


def open_store(url: str, migrate: bool = True, create: bool = True, rules: str | None = None) -> Store:
    """The store at `url` (schema migrated unless migrate=False), running this root's hooks."""
    from plugwatch import store

    return store.open_store(url, hooks=store_hooks(rules), migrate=migrate, create=create)


def routers():
    from plugwatch.service import api, legal, pages, reports_api, taxii

    return (api.router, reports_api.router, pages.router, legal.router, taxii.router)


def create_app(db_url: str | None = None, detector=None, rules: str | None = None, **options) -> FastAPI:
    """The review service on the database at `db_url` (default: settings.database_url); `options`
    as plugwatch.service.app.build_app takes them (session key file, secure cookies, media hosts)."""
    from plugwatch.service.app import build_app
    from plugwatch.settings import database_url

    return build_app(open_store(database_url(db_url), rules=rules), routers(), detector, **options)
