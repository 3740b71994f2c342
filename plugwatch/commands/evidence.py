"""Commands of the evidence stage: evidence, retention, hold, subject, privacy.

Exit codes: 0 done; 1 internal error; 2 usage error (bad option, unknown user or request, a role
that may not do this step, unreadable file, no signing key for an export); 3 `evidence verify` /
`evidence check` found problems (each is printed with the file, line or ZIP structure it is in; a
signature that does not verify with --public-key is one), or `request export` refused to sign stored
evidence that fails its check; 4 `evidence verify` got a file that is not
a package at all (empty).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from plugwatch.commands.common import (
    EXIT_NOTHING,
    EXIT_REJECTS,
    UserError,
    dash_means_stdout,
    err,
    fail,
    open_db,
    write_private,
)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: $PLUGWATCH_DB, else "
                                                            "sqlite:///plugwatch.db).")]
UserOption = Annotated[str | None, typer.Option("--user", "-u", help="Who is acting (a user in the database; "
                                                                     "default $PLUGWATCH_USER). Their role is checked.")]

evidence_app = typer.Typer(no_args_is_help=True, help="Evidence snapshots and law-enforcement disclosure packages.")
request_app = typer.Typer(no_args_is_help=True, help="Disclosure requests: create, approve or reject, export.")
retention_app = typer.Typer(no_args_is_help=True, help="Delete evidence the retention policy no longer allows.")
hold_app = typer.Typer(no_args_is_help=True, help="Legal holds: what they cover is never deleted.")
subject_app = typer.Typer(no_args_is_help=True, help="Data-subject rights for one account: access and deletion.")
privacy_app = typer.Typer(no_args_is_help=True, help="Keyed pseudonyms for identifiers (HMAC-SHA256).")
evidence_app.add_typer(request_app, name="request")


def _store(db: str | None):
    # Evidence work needs users, items and decisions: a mistyped SQLite path is an error, not a new
    # empty database.
    return open_db(db, create=False)


def _user(s, name: str | None):
    from plugwatch.store.users import get_user

    name = name or os.environ.get("PLUGWATCH_USER")
    if not name:
        fail("say who is acting: --user NAME (or set PLUGWATCH_USER)")
    u = get_user(s, name)
    if u is None or not u.active:
        fail(f"no active user named {name!r} (see `plugwatch users list`)")
    return u


def _run(db: str | None, fn, on_tampered=None):
    """Run fn(session) in one transaction; evidence errors are one line and exit 2, stored evidence
    that fails its integrity check names each problem and exits 3 (as `evidence check` does), after
    on_tampered(session, error) ran in a transaction of its own (fn's was rolled back)."""
    from plugwatch.evidence.snapshot import EvidenceError, TamperedEvidence

    store = _store(db)
    try:
        with store.session() as s:
            return fn(s)
    except TamperedEvidence as e:
        if on_tampered is not None:
            with store.session() as s:
                on_tampered(s, e)
        for where, what in e.problems:
            err.print(f"[bold red]FAIL[/] {escape(where)}: {escape(what)}", soft_wrap=True)
        fail(f"{e.what}; nothing was written (see `plugwatch evidence check`)", EXIT_REJECTS)
    except (EvidenceError, UserError) as e:
        fail(str(e))
    finally:
        store.dispose()


# ------------------------------------------------------------------------------------- evidence


@evidence_app.command("verify")
def verify(package: Annotated[Path, typer.Argument(help="A disclosure package (.zip) to check.")],
           public_key: Annotated[Path | None, typer.Option(
               "--public-key", help="The exporting organisation's public key (KEYFILE.pub): also check that "
                                    "it signed the package. Without it only integrity is checked.")] = None,
           db: Annotated[str | None, typer.Option(
               "--db", help="Also check that this database's audit log records exporting this very package "
                            "(its SHA-256).")] = None,
           quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only problems.")] = False) -> None:
    """Check every digest, the snapshot chain, the custody log, the ZIP itself and (with --public-key) the
    signature; exit 3 naming what changed."""
    from plugwatch.evidence.canon import sha256_hex
    from plugwatch.evidence.package import verify_package
    from plugwatch.evidence.signing import fingerprint, load_public_key

    try:
        key = load_public_key(public_key) if public_key is not None else None
    except UserError as e:
        fail(str(e))
    try:
        data = package.read_bytes()
    except IsADirectoryError:
        fail(f"{package}: is a folder; give the .zip file")
    except OSError as e:
        fail(f"{package}: cannot read ({e.strerror})")
    if not data:
        fail(f"{package}: empty file", EXIT_NOTHING)
    report = verify_package(data, public_key=key)
    digest = sha256_hex(data)
    if db is not None:
        export = _recorded_export(db, digest)
        if export is None:
            report.add("package", f"no export with SHA-256 {digest} in the audit log of {db}: this database "
                                  "did not export this package")
    for where, what in report.problems:
        err.print(f"[bold red]FAIL[/] {escape(where)}: {escape(what)}", soft_wrap=True)
    if report.problems:
        err.print(f"{package}: {len(report.problems)} problem(s); the package is not as exported")
        raise typer.Exit(EXIT_REJECTS)
    if not quiet:
        req = report.request or {}
        err.print(f"OK {package}: {report.files} files, {report.snapshots} snapshots, {report.custody} custody "
                  f"entries; request {req.get('id')} ({req.get('agency')}, {req.get('reference')})", soft_wrap=True)
        if report.signature_checked:
            err.print(f"signature verified: signed by key {fingerprint(key)} ({public_key})", soft_wrap=True)
        elif report.signed_by:
            err.print(f"[bold yellow]integrity only[/]: the package says it is signed by key {report.signed_by}; "
                      "that was not checked. Give --public-key KEYFILE.pub (from the exporting organisation) to "
                      "check who made it: anyone who changes a package can recompute its digests.", soft_wrap=True)
        else:
            err.print("[bold yellow]UNSIGNED package, integrity only[/]: nothing ties it to the organisation that "
                      "exported it; anyone can make a package that passes these checks.", soft_wrap=True)
        if db is not None:
            err.print(f"the audit log records this export: request {export.subject.split(':', 1)[-1]} by "
                      f"{export.actor} at {export.at.isoformat()} (audit entry {export.seq})", soft_wrap=True)
        print(digest)


def _recorded_export(db: str, digest: str):
    from plugwatch.evidence.requests import recorded_export

    return _run(db, lambda s: recorded_export(s, digest))


@evidence_app.command("keygen")
def keygen(path: Annotated[Path, typer.Argument(help="Where to write the private key (outside the database); "
                                                     "the public key goes to PATH.pub.")]) -> None:
    """Write a new Ed25519 key pair for signing disclosure packages; never overwrites a key."""
    from plugwatch.evidence.signing import KEY_ENV, generate_keypair

    try:
        private, public, fp = generate_keypair(path)
    except UserError as e:
        fail(str(e))
    err.print(f"wrote {private} (private, owner-only: keep it off the database host's backups) and {public} "
              f"(public: give it to those who receive your packages). Sign exports with --signing-key {private} "
              f"or {KEY_ENV}={private}.", soft_wrap=True)
    print(fp)


@evidence_app.command("check")
def check(db: DbOption = None) -> None:
    """Check the stored snapshot chain and every stored snapshot's files against its manifest."""
    from plugwatch.evidence.snapshot import check_store_chain

    problems = _run(db, check_store_chain)
    for where, what in problems:
        err.print(f"[bold red]FAIL[/] {where}: {what}")
    if problems:
        raise typer.Exit(EXIT_REJECTS)
    err.print("snapshot chain intact")


@evidence_app.command("freeze")
def freeze_cmd(item: Annotated[str, typer.Argument(help="Item id (platform:native_id).")],
               user: UserOption = None, db: DbOption = None) -> None:
    """Freeze an item now (class `manual`), e.g. before a request arrives. Needs legal or admin."""
    from plugwatch.evidence.requests import RECORD_ROLES
    from plugwatch.evidence.snapshot import freeze

    def go(s):
        u = _user(s, user)
        if u.role not in RECORD_ROLES:
            fail(f"freezing by hand needs the role legal or admin; {u.name} is {u.role}")
        return freeze(s, item, item_class="manual", actor=u.name).id

    err.print(f"froze {item} as snapshot {_run(db, go)}")


def _warn_unknown(accounts: list[str]) -> None:
    """Say so when a hold or request names an account the database has never seen (allowed: it may
    come before ingestion, but a misspelt account protects and discloses nothing)."""
    for key in accounts:
        err.print(f"[bold yellow]warning:[/] no account, item or snapshot of {escape(key)} is stored yet: check "
                  "the spelling (platform:handle); it still applies to what is ingested later", soft_wrap=True)


# -------------------------------------------------------------------------------------- requests


@request_app.command("create")
def request_create(
    agency: Annotated[str, typer.Option(help="Requesting agency, e.g. 'DEA Boston Field Division'.")],
    legal_basis: Annotated[str, typer.Option(help="Legal basis, e.g. 'subpoena, 18 U.S.C. 2703(c)(2)'.")],
    reference: Annotated[str, typer.Option(help="The agency's case or document reference.")],
    account: Annotated[list[str] | None, typer.Option(help="platform:handle in scope. Repeatable.")] = None,
    identifier: Annotated[list[str] | None, typer.Option(help="TYPE:VALUE in scope (wickr:x, phone:+1..., "
                                                              "btc:...). Repeatable.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day in scope (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day in scope (YYYY-MM-DD).")] = None,
    due: Annotated[str | None, typer.Option(help="Due date (YYYY-MM-DD); emergency requests default to today.")] = None,
    emergency: Annotated[bool, typer.Option("--emergency", help="Threat to life or safety: expedited.")] = False,
    emergency_reason: Annotated[str | None, typer.Option(help="Why it is an emergency (required with it).")] = None,
    note: Annotated[str, typer.Option(help="Free note for the legal team.")] = "",
    user: UserOption = None,
    db: DbOption = None,
) -> None:
    """Record a request (legal or admin); puts legal holds on what it names. Prints the request id."""
    from plugwatch.evidence.holds import unknown_accounts
    from plugwatch.evidence.requests import create_request, scope_text

    def go(s):
        req = create_request(s, _user(s, user), agency=agency, legal_basis=legal_basis, reference=reference,
                             accounts=account, identifiers=identifier, date_from=date_from, date_to=date_to,
                             emergency=emergency, emergency_reason=emergency_reason, due_date=due, note=note)
        return req.id, req.scope, unknown_accounts(s, req.scope["accounts"])

    rid, scope, unknown = _run(db, go)
    _warn_unknown(unknown)
    err.print(f"request {rid} recorded (draft); scope: {escape(scope_text(scope))}; another legal user must "
              "approve it", soft_wrap=True)
    print(rid)


@request_app.command("approve")
def request_approve(request_id: int, note: Annotated[str, typer.Option(help="Note kept with the approval.")] = "",
                    user: UserOption = None, db: DbOption = None) -> None:
    """Approve a draft request (legal role, not its creator); freezes matching items not yet frozen."""
    from plugwatch.evidence.requests import approve_request

    _run(db, lambda s: approve_request(s, _user(s, user), request_id, note))
    err.print(f"request {request_id} approved")


@request_app.command("reject")
def request_reject(request_id: int, note: Annotated[str, typer.Option(help="Why (required).")] = "",
                   user: UserOption = None, db: DbOption = None) -> None:
    """Reject a draft request (legal role, not its creator)."""
    from plugwatch.evidence.requests import reject_request

    _run(db, lambda s: reject_request(s, _user(s, user), request_id, note))
    err.print(f"request {request_id} rejected")


@request_app.command("export")
def request_export(request_id: int,
                   out: Annotated[Path, typer.Option("-o", "--out", help="ZIP file to write.")],
                   signing_key: Annotated[Path | None, typer.Option(
                       "--signing-key", help="Private key to sign with (default $PLUGWATCH_SIGNING_KEY_FILE; "
                                             "make one with `plugwatch evidence keygen`).")] = None,
                   unsigned: Annotated[bool, typer.Option(
                       "--unsigned", help="Export without a signature (no key yet): the recipient cannot tell the "
                                          "package from a forgery.")] = False,
                   user: UserOption = None, db: DbOption = None) -> None:
    """Write the signed disclosure package of an approved request; prints its SHA-256 (keep it with the case)."""
    from plugwatch.evidence.requests import export_request
    from plugwatch.evidence.signing import load_signer

    signer = None
    if not unsigned:
        try:
            signer = load_signer(signing_key)  # before opening the database: no key, no export
        except UserError as e:
            fail(f"{e} (or export with --unsigned, which the recipient cannot tell from a forgery)")
    elif signing_key is not None:
        fail("--unsigned and --signing-key contradict each other: give one")

    def go(s):
        pkg = export_request(s, _user(s, user), request_id, signer=signer, unsigned=unsigned)
        try:
            write_private(out, pkg.data)  # owner-only: the package is personal data
        except OSError as e:
            fail(f"cannot write {out}: {e.strerror}")  # the transaction rolls back: no export is logged
        return pkg

    def refused(s, e):
        from plugwatch.evidence.requests import record_refused_export

        record_refused_export(s, _user(s, user).name, request_id, e.problems)

    pkg = _run(db, go, on_tampered=refused)
    err.print(f"wrote {out}: {pkg.files} files, {len(pkg.data):,} bytes; check with `plugwatch evidence verify "
              f"{out} --public-key KEYFILE.pub`", soft_wrap=True)
    if pkg.deleted_since_approval:
        err.print(f"[bold yellow]warning:[/] not in the package: snapshot(s) "
                  f"{', '.join(map(str, pkg.deleted_since_approval))}, which the approval covered, were deleted since "
                  "(their hold was released, then retention or a subject deletion took them)", soft_wrap=True)
    if pkg.signed_by:
        err.print(f"signed with key {pkg.signed_by}", soft_wrap=True)
    else:
        err.print("[bold red]WARNING: UNSIGNED package[/]: nothing ties it to your organisation; anyone could make "
                  "one that passes `evidence verify`. Create a key with `plugwatch evidence keygen KEYFILE`.",
                  soft_wrap=True)
    print(pkg.sha256)


@request_app.command("list")
def request_list(user: UserOption = None, db: DbOption = None) -> None:
    """Requests, open ones first (emergencies, then by due date). JSON lines."""
    from plugwatch.evidence.requests import list_requests, request_dict

    rows = _run(db, lambda s: [request_dict(r) for r in list_requests(s, _user(s, user))])
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


@request_app.command("show")
def request_show(request_id: int, user: UserOption = None, db: DbOption = None) -> None:
    """One request with its custody log and the snapshots in its scope (this look is audited)."""
    from plugwatch.evidence.requests import custody_of, matching_snapshots, request_dict

    def go(s):
        from plugwatch.store.evidence_tables import DisclosureRequest

        snaps = matching_snapshots(s, _user(s, user), request_id)
        return {**request_dict(s.get(DisclosureRequest, request_id)), "custody": custody_of(s, request_id),
                "snapshots": [{"id": x.id, "item": x.item_id, "account": x.account_key, "class": x.item_class,
                               "created_at": x.created_at.isoformat()} for x in snaps]}

    print(json.dumps(_run(db, go), indent=2, ensure_ascii=False))


# ------------------------------------------------------------------------------------- retention


@retention_app.command("run")
def retention_run(
    policy: Annotated[Path | None, typer.Option(help="Policy TOML (default: the built-in retention.toml).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be deleted.")] = False,
    user: Annotated[str, typer.Option("--user", "-u", help="Name written to the audit log.")] = "retention",
    batch: Annotated[int, typer.Option(min=1, max=500, help="Rows changed per transaction (each batch is "
                                       "committed with its audit entries).")] = 500,
    db: DbOption = None,
) -> None:
    """Delete snapshots, dismissed items and items never queued for review older than the policy allows,
    then the accounts left without items, and pseudonymise the handles of reporters whose reports were
    resolved long enough ago; never what a legal hold covers."""
    from plugwatch.evidence.retention import load_policy, run_retention
    from plugwatch.privacy import KEY_ENV

    def go(s):
        return run_retention(s, load_policy(policy), dry_run=dry_run, actor=user, batch=batch)

    result = _run(db, go)
    verb = "would delete" if dry_run else "deleted"
    for row in result.deleted:
        print(f"{verb} snapshot {row['snapshot']} ({row['item_class']}, {row['age_days']} days old, item {row['item']})")
    for row in result.kept_on_hold:
        print(f"kept snapshot {row['snapshot']} ({row['item_class']}, {row['age_days']} days old): "
              f"legal hold {', '.join(map(str, row['holds']))}")
    for item in result.deleted_items:
        print(f"{verb} dismissed item {item}")
    for item in result.deleted_never_queued:
        print(f"{verb} never-queued item {item}")
    for item in result.items_on_hold:
        print(f"kept item {item}: legal hold")
    for account in result.deleted_accounts:
        print(f"{verb} account {account} (no item left)")
    # by number only: a handle printed here would outlive its deletion in cron mails and logs
    forgot = ("would pseudonymise" if dry_run else "pseudonymised") if result.reporter_pseudonyms else \
        ("would remove the identity of" if dry_run else "removed the identity of")
    for reporter in result.pseudonymised_reporters:
        print(f"{forgot} reporter {reporter}")
    held = {f"item {i} (legal hold)" for i in result.items_on_hold} | \
        {f"snapshot {r['snapshot']} (legal hold)" for r in result.kept_on_hold}  # printed above
    for what in result.skipped:  # listed, then kept: something changed while the run went batch by batch
        if what not in held:
            print(f"kept {what}")
    n = len(result.pseudonymised_reporters)
    err.print(f"{verb} {len(result.deleted)} snapshot(s), {len(result.deleted_items)} dismissed item(s), "
              f"{len(result.deleted_never_queued)} never-queued item(s) and "
              f"{len(result.deleted_accounts)} account(s) without items; "
              f"{forgot} {n} reporter identit{'y' if n == 1 else 'ies'}; "
              f"kept {len(result.kept_on_hold)} snapshot(s) and {len(result.items_on_hold)} item(s) on legal hold")
    if not result.reporter_pseudonyms:
        err.print(f"no pseudonymisation key (${KEY_ENV}): the reporters' handles are removed, not "
                  "pseudonymised, so a new report from one of them starts a new track record")


# ----------------------------------------------------------------------------------------- holds


@hold_app.command("add")
def hold_add(
    reason: Annotated[str, typer.Option(help="Why: case, request or court order reference.")],
    account: Annotated[str | None, typer.Option(help="platform:handle: every snapshot and item of it.")] = None,
    item: Annotated[str | None, typer.Option(help="One item id.")] = None,
    snapshot: Annotated[int | None, typer.Option(help="One snapshot id.")] = None,
    user: UserOption = None,
    db: DbOption = None,
) -> None:
    """Put a legal hold on an account, item or snapshot (legal or admin). Prints the hold id."""
    from plugwatch.evidence.holds import add_hold, unknown_accounts, unknown_item

    targets = [(t, v) for t, v in (("account", account), ("item", item), ("snapshot", snapshot)) if v is not None]
    if len(targets) != 1:
        fail("give exactly one of --account, --item, --snapshot")

    def go(s):
        u = _user(s, user)
        if u.role not in ("legal", "admin"):
            fail(f"legal holds need the role legal or admin; {u.name} is {u.role}")
        hold = add_hold(s, targets[0][0], str(targets[0][1]), reason, u.name)
        if hold.target_type == "item":
            return hold.id, [], unknown_item(s, hold.target)
        return hold.id, unknown_accounts(s, [hold.target]) if hold.target_type == "account" else [], False

    hid, unknown, no_item = _run(db, go)
    _warn_unknown(unknown)
    if no_item:
        err.print(f"[bold yellow]warning:[/] no item {escape(str(item))} is stored yet: check the id "
                  "(platform:native_id, as `plugwatch scan` writes it); the hold still applies to it if it is "
                  "ingested later", soft_wrap=True)
    err.print(f"hold {hid} on {targets[0][0]} {targets[0][1]}")
    print(hid)


@hold_app.command("remove")
def hold_remove(hold_id: int, user: UserOption = None, db: DbOption = None) -> None:
    """Release a hold (legal or admin); its record stays. Retention may then delete what it covered."""
    from plugwatch.evidence.holds import release_hold

    def go(s):
        u = _user(s, user)
        if u.role not in ("legal", "admin"):
            fail(f"legal holds need the role legal or admin; {u.name} is {u.role}")
        release_hold(s, hold_id, u.name)

    _run(db, go)
    err.print(f"hold {hold_id} released")


@hold_app.command("list")
def hold_list(user: UserOption = None, db: DbOption = None) -> None:
    """Active holds as JSON lines."""
    from plugwatch.evidence.holds import list_holds

    def go(s):
        u = _user(s, user)
        if u.role not in ("legal", "admin"):
            fail(f"legal holds need the role legal or admin; {u.name} is {u.role}")
        return list_holds(s, u.name)  # audited, as the API's list is

    for row in _run(db, go):
        print(json.dumps(row, ensure_ascii=False))


# --------------------------------------------------------------------------------------- subject


@subject_app.command("export")
def subject_export_cmd(account: Annotated[str, typer.Argument(help="platform:handle")],
                       out: Annotated[Path | None, typer.Option("-o", "--out", help="JSON file (default, or -: stdout).",
                                                                       callback=dash_means_stdout)] = None,
                       user: UserOption = None, db: DbOption = None) -> None:
    """Everything stored about one account, as JSON (legal or admin; audited)."""
    from plugwatch.privacy.subject import subject_export

    def go(s):
        data = subject_export(s, _user(s, user), account)
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
        if out is not None:
            try:
                write_private(out, text.encode("utf-8"))  # owner-only: everything stored about a person
            except OSError as e:
                fail(f"cannot write {out}: {e.strerror}")  # rolls back: no export is in the audit trail
        return data, text

    data, text = _run(db, go)
    if out is None:
        sys.stdout.write(text)
        return
    err.print(f"wrote {out}: {len(data['items'])} items, {len(data['snapshots'])} snapshots")


@subject_app.command("delete")
def subject_delete_cmd(account: Annotated[str, typer.Argument(help="platform:handle")],
                       dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
                       yes: Annotated[bool, typer.Option("--yes", help="Do it without asking.")] = False,
                       user: UserOption = None, db: DbOption = None) -> None:
    """Delete an account's data, keeping what a legal hold covers (legal or admin; audited)."""
    from plugwatch.privacy.subject import delete_subject

    if not dry_run and not yes:
        if not sys.stdin.isatty():
            fail("deleting needs --yes (or --dry-run to see what would go)")
        typer.confirm(f"delete everything stored about {account}?", abort=True)
    result = _run(db, lambda s: delete_subject(s, _user(s, user), account, dry_run=dry_run))
    print(json.dumps(result.to_dict(), indent=2))
    if result.kept_snapshots:
        err.print(f"kept {len(result.kept_snapshots)} snapshot(s) under legal hold: "
                  f"{', '.join(map(str, result.kept_snapshots))}")
    if result.reporter_kept:
        err.print(f"kept its reporter handle: {result.reporter_kept}")


# --------------------------------------------------------------------------------------- privacy


@privacy_app.command("keygen")
def privacy_keygen(path: Annotated[Path, typer.Argument(help="Where to write the key (outside the database).")]) -> None:
    """Write a new random 256-bit pseudonymisation key, readable by its owner only."""
    from plugwatch.privacy import KEY_ENV, generate_key

    p = generate_key(path)
    err.print(f"wrote {p}; use it with --key-file {p} or {KEY_ENV}={p}")


@privacy_app.command("pseudonymise")
def privacy_pseudonymise(
    values: Annotated[list[str], typer.Argument(help="Identifiers as TYPE:VALUE (or a phone, e-mail, URL, wallet).")],
    key_file: Annotated[Path | None, typer.Option(help="Key file (default $PLUGWATCH_PSEUDONYM_KEY_FILE).")] = None,
) -> None:
    """Print `type<TAB>pseudonym` per identifier: the keyed hash used for analytics and sharing."""
    from plugwatch.privacy import load_key, pseudonymise
    from plugwatch.text.identifier_types import read_identifier

    key = load_key(key_file)
    for v in values:
        t, c = read_identifier(v)
        print(f"{t}\t{pseudonymise(t, c, key)}")


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(retention_app, name="retention")
    app.add_typer(hold_app, name="hold")
    app.add_typer(subject_app, name="subject")
    app.add_typer(privacy_app, name="privacy")
