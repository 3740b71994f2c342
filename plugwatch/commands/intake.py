"""Live intake: `watch SOURCE` reads a platform's stream into the store; `reporters` marks trusted flaggers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plugwatch.commands.common import UserError, err, fail, load_detector, log_progress, open_db

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: $PLUGWATCH_DB, else sqlite:///plugwatch.db).")]
reporters_app = typer.Typer(no_args_is_help=True, help="People who report: trusted flaggers (DSA Art. 22).")


def watch(
    source: Annotated[str, typer.Argument(help="A [sources.NAME] of the site configuration.")],
    config: Annotated[str | None, typer.Option("--config", help="Site configuration (TOML) with [sources.NAME] "
                                               "(default: $PLUGWATCH_CONFIG).")] = None,
    db: DbOption = None,
    model: Annotated[Path | None, typer.Option(help="Detector model file (default: the shipped one).")] = None,
) -> None:
    """Read a platform's live stream (Bluesky Jetstream, Mastodon streaming and admin reports) into the
    store through the ingest pipeline, until Ctrl-C or SIGTERM; resumes from its checkpoint."""
    import os

    from plugwatch.enforce import config as site_config
    from plugwatch.intake.config import source as source_config
    from plugwatch.intake.watch import watch as run_watch

    try:
        cfg = source_config(source, config)
    except UserError as e:
        fail(str(e))
    if config:
        os.environ[site_config.CONFIG_ENV] = config  # decisions taken meanwhile follow the same file
    log_progress()
    store = open_db(db)
    err.print(f"watching {source} ({cfg.kind}); Ctrl-C stops after storing what was read")
    try:
        runner = run_watch(store, load_detector(model, None), cfg, handle_signals=True)
    except UserError as e:
        fail(str(e))
    t = runner.totals
    err.print(f"read: {t['read']}  stored: {t['stored']}  already stored: {t['duplicates']}  profiles: {t['profiles']}  "
              f"not content: {t['dropped']}  rejected: {t['rejected']}  reports: {t['reports']}  "
              f"cheap stage only (scored fully later): {t['deferred']}  reconnections: {t['reconnects']}  "
              f"max lag: {runner.max_lag:.1f} s", soft_wrap=True)


@reporters_app.command("trust")
def reporters_trust(
    reporter: Annotated[str, typer.Argument(help="platform:handle of the trusted flagger's reporting account.")],
    name: Annotated[str, typer.Option("--name", help="The organisation's name as designated (it appears in "
                                                     "statements of reasons as their source_identity).")],
    actor: Annotated[str, typer.Option(help="Who marks it (for the audit log).")] = "cli",
    db: DbOption = None,
) -> None:
    """Mark a reporter as a trusted flagger: their reports go ahead in the queue (audited)."""
    _set(reporter, name, actor, db)


@reporters_app.command("untrust")
def reporters_untrust(reporter: str, actor: Annotated[str, typer.Option(help="Who (audit log).")] = "cli",
                      db: DbOption = None) -> None:
    """No longer a trusted flagger (audited)."""
    _set(reporter, None, actor, db)


def _set(reporter: str, name: str | None, actor: str, db: str | None) -> None:
    from plugwatch.store import reports
    from plugwatch.store.review import ReviewError

    if name is not None and not name.strip():
        fail("--name: the organisation's designated name")
    try:
        with open_db(db).session() as s:
            who = reports.set_trusted(s, reporter, name.strip() if name else None, actor)
            err.print(f"{who.key}: {'trusted flagger ' + repr(who.trusted_name) if who.trusted_flagger else 'not a trusted flagger'}")
    except ReviewError as e:
        fail(str(e))


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
    app.add_typer(reporters_app, name="reporters")
