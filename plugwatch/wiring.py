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
    """`rules`: the site's rules folder (default $PLUGWATCH_RULES; none: the built-in default rules).
    Each hook imports its stage when it first runs, not when the store opens: most commands that open a
    store (users, holds, audit, evidence) never ingest or decide, and importing every stage took 0.9 s of
    their 3 s."""
    from plugwatch.settings import rules_dir
    from plugwatch.store.hooks import Hooks

    folder = rules_dir(rules)
    # Rules run last at ingest: their conditions read watch-list, report and picture-bank matches.
    return Hooks(after_ingest=(_Later(_match_watch_lists), _Later(_attach_reports_and_flag_retaliation),
                               _Later(_match_image_banks), _Later(_carry_out_rules)),
                 after_decision=(_Later(_tell_reporters_the_outcome), _Later(_freeze_evidence),
                                 _Later(_enqueue_platform_effects), _Later(_bank_confirmed_pictures)),
                 route=_RulesRouter(folder), pseudonym_key=_Later(_pseudonym_key))


class _Later:
    """A hook whose stage is imported when it first runs: `load` returns the stage's function."""

    def __init__(self, load):
        self.load = load
        self._run = None

    def stage(self):
        if self._run is None:
            self._run = self.load()
        return self._run

    def __call__(self, *args):
        return self.stage()(*args)


def _match_watch_lists():
    from plugwatch.share.matching import after_ingest

    return after_ingest


def _attach_reports_and_flag_retaliation():
    from plugwatch.store.reports import after_ingest

    return after_ingest


def _match_image_banks():
    from plugwatch.store.image_banks import after_ingest

    return after_ingest


def _carry_out_rules():
    from plugwatch.rules.routing import after_ingest

    return after_ingest


def _tell_reporters_the_outcome():
    from plugwatch.store.reports import on_decision

    return on_decision


def _freeze_evidence():
    from plugwatch.evidence.snapshot import on_decision

    return on_decision


def _enqueue_platform_effects():
    from plugwatch.enforce.outbox import on_decision

    return on_decision


def _bank_confirmed_pictures():
    from plugwatch.store.image_banks import on_decision

    return on_decision


def _pseudonym_key():
    from plugwatch.privacy import optional_key

    return optional_key


class _RulesRouter:
    """The policy rules' router over the rules folder, made on the first ingest: one rule book per store,
    which reloads the folder when its files change."""

    def __init__(self, folder: str | None):
        import threading

        self.folder = folder
        self._route = None
        self._lock = threading.Lock()  # the service's threads: one book, not one each

    def __call__(self, session, records, now):
        if self._route is None:
            from pathlib import Path

            from plugwatch.rules.book import RuleBook
            from plugwatch.rules.routing import router

            with self._lock:
                if self._route is None:
                    self._route = router(RuleBook(Path(self.folder) if self.folder else None))
        return self._route(session, records, now)


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
