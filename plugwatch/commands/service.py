"""Commands of the review service: serve, ingest, users, audit, db."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from plugwatch.commands.common import (
    EXIT_NOTHING,
    EXIT_REJECTS,
    UserError,
    database_url,
    err,
    fail,
    open_db,
    root,
)

EXIT_PROBLEMS = EXIT_REJECTS  # 3: the check ran and found problems

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $PLUGWATCH_DB, else sqlite:///plugwatch.db). "
                              "PostgreSQL: postgresql://user:password@host/dbname"),
]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEMO_USER = "demo-reviewer"

users_app = typer.Typer(no_args_is_help=True, help="People and machines that use the service, with roles.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")
db_app = typer.Typer(no_args_is_help=True, help="The database itself.")


def _in_session(db: str | None, work):
    """work(session) in one transaction; a UserError (unknown user, bad role) is one line, exit 2."""
    try:
        with open_db(db).session() as s:
            return work(s)
    except UserError as e:
        fail(str(e))


def _password(password_stdin: bool, empty: str = "--password-stdin: no password on standard input") -> str | None:
    if not password_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail(empty)
    return password


TokenDays = Annotated[int | None, typer.Option(
    "--token-days", "--days", min=0, max=36_525,  # more ended in an OverflowError traceback; 0 is "never"
    help="Days until the API token expires (0: never; at most 36525). Default 90 for people, 365 for machine users.")]


def _expiry(at) -> str:
    return f"expires {at:%Y-%m-%d}" if at is not None else "never expires"


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="reviewer, lead, admin, legal; or ingest for a machine that only sends items.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read a sign-in password from stdin.")] = False,
    token_days: TokenDays = None,
    db: DbOption = None,
) -> None:
    """Add a user; prints its API token once (only a hash is kept). The token also works as a sign-in password."""
    from plugwatch.store import users

    password = _password(password_stdin)
    store = open_db(db)
    try:
        with store.session() as s:
            user, token = users.add_user(s, name, role, password, token_days=token_days)
            expires = _expiry(user.token_expires_at)
    except UserError as e:
        fail(str(e))
    err.print(f"added {user.name} ({user.role}); API token (shown once, keep it safe; {expires}):")
    print(token)


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Users, roles and whether they are active."""
    from plugwatch.store import users

    with open_db(db, create=False).session() as s:
        for u in users.list_users(s):
            state = "active" if u.active else "disabled"
            print(f"{u.name}\t{u.role}\t{state}\tpassword={'yes' if u.password_hash else 'no'}\t"
                  f"created {u.created_at:%Y-%m-%d}\ttoken {_expiry(u.token_expires_at)}")


@users_app.command("set-role")
def users_set_role(name: str, role: str, db: DbOption = None) -> None:
    """Change a user's role (audited)."""
    from plugwatch.store import users

    _in_session(db, lambda s: users.set_role(s, name, role))
    err.print(f"{name} is now {role}")


@users_app.command("token")
def users_token(name: str, days: TokenDays = None, db: DbOption = None) -> None:
    """Issue a new API token for a user (the old one stops working); prints it once."""
    from plugwatch.store import users

    token, expires, active = _in_session(db, lambda s: (users.reset_token(s, name, days=days),
                                                        _expiry(users.get_user(s, name).token_expires_at),
                                                        users.get_user(s, name).active))
    err.print(f"new API token for {name} (shown once; {expires}):")
    print(token)
    _still_disabled(name, active)


def _still_disabled(name: str, active: bool) -> None:
    # A new token or password does not let a disabled user in: say so, and what does.
    if not active:
        err.print(f"{name} is disabled: the token and password work once `plugwatch users enable {name}` "
                  "lets them in again", markup=False)


@users_app.command("password")
def users_password(name: str, db: DbOption = None) -> None:
    """Set a user's sign-in password, read from stdin."""
    from plugwatch.store import users

    password = _password(True, "no password on standard input: `plugwatch users password NAME` reads the new "
                               "password from it (e.g. from a password manager's command, through a pipe)")
    active = _in_session(db, lambda s: users.set_password(s, name, password).active)
    err.print(f"password set for {name}")
    _still_disabled(name, active)


@users_app.command("disable")
def users_disable(name: str, db: DbOption = None) -> None:
    """Stop a user from signing in or using their token (audited)."""
    from plugwatch.store import users

    _in_session(db, lambda s: users.set_active(s, name, False))
    err.print(f"{name} disabled")


@users_app.command("enable")
def users_enable(name: str, db: DbOption = None) -> None:
    """Let a disabled user sign in and use their token again (audited)."""
    from plugwatch.store import users

    _in_session(db, lambda s: users.set_active(s, name, True))
    err.print(f"{name} enabled")


@audit_app.command("verify")
def audit_verify(
    db: DbOption = None,
    expect_head: Annotated[str | None, typer.Option(
        help="SEQ:HASH printed by an earlier verify, kept elsewhere: fails if the log was rewritten since.")] = None,
) -> None:
    """Check the hash chain: exit 0 if intact, 3 naming the first changed, deleted or inserted entry."""
    from plugwatch.store import audit

    expected = None
    if expect_head:
        seq, sep, digest = expect_head.partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64:
            fail("--expect-head takes SEQ:HASH as printed by `plugwatch audit verify`")
        expected = (int(seq), digest)
    from plugwatch.store import audit_heads
    from plugwatch.store.schema import AuditEntry

    try:
        with open_db(db, create=False).session() as s:
            problem = audit.verify(s, expected)
            seq, digest = audit.head(s)
            heads = audit_heads.head_log_path()
            published = audit_heads.read(heads, s.get(AuditEntry, 1).hash if seq else None,
                                         audit_heads.database_name(s)).newest
    except UserError as e:  # e.g. a head log that cannot be read
        fail(str(e))
    if problem is not None:
        err.print(f"[bold red]audit log broken:[/] {escape(str(problem))}", soft_wrap=True)
        raise typer.Exit(EXIT_PROBLEMS)  # like `evidence verify`: 1 stays reserved for bugs
    err.print(f"audit log intact: {seq} entries")
    if seq and published is None:  # "intact" alone would claim a check against the published head
        err.print(f"[bold yellow]warning:[/] no head of this audit log is published in {escape(str(heads))}: the "
                  "chain was checked on its own, so newest entries cut off would not be found (point "
                  f"${audit_heads.HEAD_LOG_ENV} or $PLUGWATCH_KEY_DIR at the head log the service writes)",
                  soft_wrap=True)
    print(f"{seq}:{digest}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the tables or bring them to the newest schema (every command also does this on open)."""
    from sqlalchemy import text

    store = open_db(db)
    with store.engine.connect() as conn:
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    err.print(f"database at {store.engine.url.render_as_string()} is at revision {', '.join(rev)}")


RULES_HELP = ("Policy rules folder (default: $PLUGWATCH_RULES; none: the built-in default rules). Re-read when "
              "its files change; a folder with a broken file is refused and the previous set kept.")


def _report_rules(option: str | None) -> None:
    """Say at start-up what is wrong in the rules folder; the store then keeps the previous good set."""
    from pathlib import Path

    from plugwatch.rules.ruleset import check
    from plugwatch.settings import rules_dir
    from plugwatch.signals import site_terms

    folder = rules_dir(option)
    site_terms.use_folder(folder)  # the site vocabulary beside the rules, read when scoring starts
    if folder:
        for problem in check(Path(folder)):
            err.print(f"[yellow]rules not loaded[/] {escape(str(problem))}", soft_wrap=True)


def _detector():
    from plugwatch.detect import Detector, ModelError

    try:
        return Detector.load()
    except ModelError as e:
        fail(str(e))


def _print_report(report) -> None:
    for rej in report.rejects[:5]:
        where = f"{rej['source']}:{rej['line']}" if rej["line"] else rej["source"]
        err.print(f"[yellow]rejected[/] {where}: {rej['reason']}")
    err.print(f"items read: {report.read}  stored: {report.stored}  already stored: {report.duplicates}  "
              f"flagged: {report.flagged}  queued for review: {report.queued}  rejected: {report.rejected}",
              soft_wrap=True)


def ingest(
    inputs: Annotated[list[str], typer.Argument(help="Files or folders in any supported format.")],
    db: DbOption = None,
    region: Annotated[str | None, typer.Option(help="Default region for phone numbers, e.g. US.")] = None,
    rules: Annotated[str | None, typer.Option("--rules", help=RULES_HELP)] = None,
) -> None:
    """Score items with the detector and store them; queue what needs review. Same item twice = stored once."""
    from plugwatch.service.ingest import ingest_paths

    _report_rules(rules)
    store = open_db(db, rules=rules)
    report = ingest_paths(store, _detector(), inputs, default_region=region.upper() if region else None)
    _print_report(report)
    if report.read == 0:
        raise typer.Exit(EXIT_NOTHING)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTS)


def _demo_user(store, name: str, role: str) -> str:
    """Create (or reset) a demo user; returns its new password."""
    import secrets

    from plugwatch.store import users

    password = secrets.token_urlsafe(9)
    with store.session() as s:
        if users.get_user(s, name) is None:
            users.add_user(s, name, role, password, actor="serve --example")
        else:
            users.set_password(s, name, password, actor="serve --example")
    return password


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    example: Annotated[bool, typer.Option("--example", help="Load examples/ and create demo users "
                                                             "(demo-reviewer, demo-lead) whose passwords are printed.")] = False,
    # At least one: with none, every request that touches the database waited forever (and so did stopping).
    workers: Annotated[int, typer.Option(min=1, max=1000, help="Threads for requests that touch the database.")] = 40,
    session_key_file: Annotated[str | None, typer.Option(
        help="Key file that signs session cookies (made on first start, mode 0600; default "
             "$PLUGWATCH_SESSION_KEY_FILE, else session.key beside the pseudonym key, else "
             "~/.config/plugwatch/session.key). $PLUGWATCH_SECRET, when set, is used instead.")] = None,
    secure_cookies: Annotated[bool, typer.Option(
        "--secure-cookies", help="Mark cookies Secure even though requests arrive over HTTP: for a TLS "
                                 "terminator on another host (also $PLUGWATCH_SECURE_COOKIES=1).")] = False,
    media_hosts: Annotated[str | None, typer.Option(
        help="Comma-separated hosts reviewers' browsers may load attached images from (.example.net: "
             "its subdomains too; default $PLUGWATCH_MEDIA_HOSTS). None: images are links only.")] = None,
    config: Annotated[str | None, typer.Option(
        "--config", help="Site configuration (TOML): connected platforms (default: $PLUGWATCH_CONFIG).")] = None,
    worker: Annotated[bool, typer.Option(
        "--worker", help="Also deliver decisions' effects to connected platforms, in this process.")] = False,
    rules: Annotated[str | None, typer.Option("--rules", help=RULES_HELP)] = None,
) -> None:
    """Run the review service: JSON API under /api, docs at /docs, review pages at /."""
    import uvicorn

    from plugwatch.commands.enforce import check_credentials, site_config, start_worker

    site = site_config(config)  # read now: a bad file stops here, not at the first decision
    if worker:
        check_credentials(site)  # and a missing token here, not at the first delivery
    _report_rules(rules)
    store = open_db(db, rules=rules)
    detector = _detector()
    lines = []
    if example:
        if not EXAMPLES.is_dir():
            fail(f"{EXAMPLES}: examples folder not found (run from a clone of the repository)")
        from plugwatch.service.ingest import ingest_paths

        _print_report(ingest_paths(store, detector, [str(EXAMPLES)]))
        for name, role in ((DEMO_USER, "reviewer"), ("demo-lead", "lead")):
            lines.append(f"  {name:14} ({role}) password: {_demo_user(store, name, role)}")
    store.dispose()
    try:
        app = root().create_app(database_url(db), detector=detector, rules=rules, session_key_file=session_key_file,
                                secure_cookies=secure_cookies or None, media_hosts=media_hosts)
    except UserError as e:
        fail(str(e))
    if worker:
        start_worker(app.state.store, site)
        err.print(f"delivering effects to {len(site.backends)} connected platform(s) in this process")
    url_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    err.print(f"plugwatch service on http://{url_host}:{port}/  (API docs: /docs, database: "
              f"{app.state.store.engine.url.render_as_string()})", soft_wrap=True)
    if lines:
        err.print("sign in on the review pages with:", soft_wrap=True)
    for line in lines:
        err.print(line, soft_wrap=True)
    import asyncio

    import anyio.to_thread

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))

    async def main() -> None:
        # Sync routes run in this thread pool; each holds a database connection while it works.
        anyio.to_thread.current_default_thread_limiter().total_tokens = workers
        await server.serve()

    asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(ingest)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")

