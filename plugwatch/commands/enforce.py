"""Commands that act on platforms: the outbox worker, DSA statements of reasons, the transparency report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from plugwatch.commands.common import (
    UserError,
    dash_means_stdout,
    err,
    fail,
    log_progress,
    open_db,
    write_output,
)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: $PLUGWATCH_DB, else sqlite:///plugwatch.db).")]
ConfigOption = Annotated[str | None, typer.Option(
    "--config", help="Site configuration (TOML): connected platforms and what each action does there "
                     "(default: $PLUGWATCH_CONFIG).")]

worker_app = typer.Typer(no_args_is_help=True, help="Deliver decisions' effects to connected platforms.")
dsa_app = typer.Typer(no_args_is_help=True, help="DSA statements of reasons (Transparency Database).")
report_app = typer.Typer(no_args_is_help=True, help="Reports.")


def site_config(path: str | None):
    """The site configuration for --config (else $PLUGWATCH_CONFIG); also made the active one, so the
    decisions this process records enqueue effects by it. A bad file is one line, exit 2."""
    import os

    from plugwatch.enforce import config

    try:
        cfg = config.active(path)
    except UserError as e:
        fail(str(e))
    if path:
        os.environ[config.CONFIG_ENV] = path
    return cfg


def check_credentials(cfg) -> None:
    """Before a worker starts: every live back-end's credentials can be read, else one line per
    missing one and exit 2, like any other configuration error (rather than a worker that starts and
    sends each effect to the dead letters)."""
    from plugwatch.enforce.config import missing_credentials

    problems = missing_credentials(cfg)
    if problems:
        fail("cannot deliver effects: " + "; ".join(problems)
             + " (set them, or mark the back-end `shadow = true` to record without sending)")


def start_worker(store, cfg, poll: float = 1.0, batch: int = 20):
    """A worker thread inside this process (serve --worker); returns its stop event."""
    import threading

    from plugwatch.enforce.worker import Worker

    stop = threading.Event()
    thread = threading.Thread(target=Worker(store, cfg).run, args=(stop, poll, batch), name="plugwatch-worker",
                              daemon=True)
    thread.start()
    return stop


@worker_app.command("run")
def worker_run(
    db: DbOption = None,
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between looks for due work when idle.")] = 1.0,
    batch: Annotated[int, typer.Option(help="Effects claimed per transaction.")] = 20,
    lease: Annotated[int, typer.Option(help="Seconds a claimed effect stays ours; after that a worker that "
                                            "died mid-delivery is taken over.")] = 120,
) -> None:
    """Deliver due effects until stopped (Ctrl-C), with retries, backoff and dead letters. Run several
    on PostgreSQL to share the work."""
    import signal
    import threading

    from plugwatch.enforce.worker import Worker

    cfg = site_config(config)
    check_credentials(cfg)
    log_progress()
    worker = Worker(open_db(db), cfg, lease_seconds=max(1, lease))
    if once:
        counts = worker.drain(batch)
        err.print("delivered: {delivered}  logged (dry run): {logged}  failed (will retry): {failed}  dead: {dead}"
                  .format(**{k: counts.get(k, 0) for k in ("delivered", "logged", "failed", "dead")}))
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        worker.run(stop, poll, batch)
    except KeyboardInterrupt:
        stop.set()


@worker_app.command("status")
def worker_status(db: DbOption = None) -> None:
    """Per back-end: effects by state, delivery latency (p50/p95) and failure rate, as JSON. Before any
    effect exists it says so (on a terminal; piped, it still prints the empty JSON object `{}`)."""
    import sys

    from plugwatch.enforce.status import delivery_stats

    with open_db(db, create=False).session() as s:
        stats = delivery_stats(s)
    if not stats:
        err.print("no effects yet: no decision has given a connected platform anything to do")
        if sys.stdout.isatty():
            return
    print(json.dumps(stats, indent=2))


@worker_app.command("list")
def worker_list(
    db: DbOption = None,
    state: Annotated[str | None, typer.Option(help="Only effects in this state (e.g. dead, failed, held).")] = None,
    limit: int = 100,
) -> None:
    """Effects, newest first: id, item, back-end, effect, operation, state, attempts, error."""
    from sqlalchemy import select

    from plugwatch.commands.common import print_rows
    from plugwatch.store.enforcement_tables import EFFECT_STATES, PlatformEffect

    if state is not None and state not in EFFECT_STATES:
        fail(f"--state {state!r}: one of {', '.join(EFFECT_STATES)}")
    with open_db(db, create=False).session() as s:
        q = select(PlatformEffect).order_by(PlatformEffect.id.desc()).limit(limit)
        if state:
            q = q.where(PlatformEffect.state == state)
        rows = [(r.id, r.item_id, r.backend, r.effect, r.operation, r.state, r.attempts, r.last_error)
                for r in s.scalars(q)]
    print_rows(("id", "item", "backend", "effect", "operation", "state", "attempts", "error"), rows, "no effects")


@worker_app.command("retry")
def worker_retry(
    effect_ids: Annotated[list[int], typer.Argument(help="Effect ids (see `plugwatch worker list`).")],
    actor: Annotated[str, typer.Option(help="Who retries (for the audit log).")] = "cli",
    db: DbOption = None,
) -> None:
    """Send failed or dead effects again now, or release held ones (audited)."""
    from plugwatch.enforce.worker import retry
    from plugwatch.store.review import ReviewError

    store = open_db(db, create=False)
    for effect_id in effect_ids:
        try:
            with store.session() as s:
                retry(s, effect_id, actor)
        except ReviewError as e:
            fail(str(e))
        err.print(f"effect {effect_id} queued again")


@dsa_app.command("export")
def dsa_export(
    out: Annotated[Path | None, typer.Option("-o", "--out", help="JSON lines file (default, or -: stdout).",
                                                  callback=dash_means_stdout)] = None,
    since: Annotated[str | None, typer.Option(help="Only statements from this date on (YYYY-MM-DD).")] = None,
    db: DbOption = None,
) -> None:
    """Statements of reasons as JSON lines, in the Transparency Database API's schema."""
    from plugwatch.enforce.transparency import export_statements, parse_day

    try:
        start = parse_day(since) if since else None
    except UserError as e:
        fail(str(e))
    with open_db(db, create=False).session() as s:
        lines = export_statements(s, start)
    write_output(out, "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in lines))
    err.print(f"{len(lines)} statements of reasons" + (f" written to {out}" if out else ""))


@report_app.command("transparency")
def report_transparency(
    period: Annotated[str, typer.Option(help="YYYY, YYYY-MM, YYYY-Hn (half year) or FROM..TO (YYYY-MM-DD..YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for transparency.json and transparency.html.")] = Path("transparency"),
    db: DbOption = None,
) -> None:
    """Counts per action, category, source and automation, and the median handling time, as JSON and HTML."""
    from plugwatch.enforce.transparency import parse_period, render_html, transparency_report

    try:
        start, end = parse_period(period)
    except UserError as e:
        fail(str(e))
    with open_db(db, create=False).session() as s:
        report = transparency_report(s, start, end)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "transparency.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (out / "transparency.html").write_text(render_html(report), encoding="utf-8")
    except OSError as e:
        fail(f"cannot write to {out}: {e.strerror}")
    err.print(f"{report['decisions']} decisions in {period}: {out / 'transparency.json'}, {out / 'transparency.html'}")


def register(app: typer.Typer) -> None:
    app.add_typer(worker_app, name="worker")
    app.add_typer(dsa_app, name="dsa")
    app.add_typer(report_app, name="report")
