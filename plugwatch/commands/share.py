"""Signal sharing commands: partners, STIX export and import, watch list, matches, feedback, salts."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from plugwatch.commands.common import (
    EXIT_NOTHING,
    EXIT_REJECTS,
    dash_means_stdout,
    err,
    fail,
    open_db,
    print_rows,
    write_output,
)

share_app = typer.Typer(no_args_is_help=True, help="Share indicators with partners in STIX 2.1 (and TAXII 2.1).")
partners_app = typer.Typer(no_args_is_help=True, help="Partners we exchange indicators with.")
share_app.add_typer(partners_app, name="partners")

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: $PLUGWATCH_DB, else "
                                                           "sqlite:///plugwatch.db).")]
OrgOption = Annotated[str | None, typer.Option("--org", help="Our organisation's name in bundles "
                                                             "(default: $PLUGWATCH_ORG, else plugwatch).")]


def _org(org: str | None) -> str:
    return org or os.environ.get("PLUGWATCH_ORG") or "plugwatch"


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} takes a date like 2024-05-01 or 2024-05-01T12:00:00+00:00, got {value!r}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _read_bundle(path: Path) -> dict:
    """The bundle in `path`, or exit 4 saying what the file is instead."""
    from plugwatch.share.validate import BundleError, read_bundle

    try:
        return read_bundle(path)
    except BundleError as e:
        fail(str(e), EXIT_NOTHING)


@share_app.command("salt")
def salt_cmd(out: Annotated[Path, typer.Option("--out", "-o", help="Salt file to create (owner-only).")]) -> None:
    """Make a new random salt to agree with a partner (send it to them over a secure channel)."""
    from plugwatch.share import hashing

    if out.exists():
        fail(f"{out} exists; a salt is never overwritten (partners' hashes depend on it)")
    salt = hashing.new_salt()
    try:
        hashing.write_salt(out, salt)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror}")
    err.print(f"wrote {out} (salt id {hashing.salt_id(salt)})")


@partners_app.command("add")
def partners_add(
    name: str,
    trust: Annotated[str, typer.Option(help="auto: matches raise the review priority; notify-only: matches are "
                                            "queued as information.")] = "notify-only",
    salt_file: Annotated[Path | None, typer.Option(help="The salt agreed with this partner.")] = None,
    db: DbOption = None,
) -> None:
    """Add a partner; prints its TAXII secret once (only a hash is kept)."""
    from plugwatch.share import hashing, partners

    store = open_db(db)
    try:
        with store.session() as s:
            partner, secret = partners.add(s, name, trust, salt_file)
            salt_note = f", salt id {partner.salt_id}" if partner.salt_id else ""
    except (partners.PartnerError, hashing.SaltError) as e:
        fail(str(e))
    err.print(f"partner {name} added (trust {trust}{salt_note}); TAXII user {name}, collections to-{name} "
              f"(they read) and from-{name} (they write). Secret, shown once:")
    print(secret)


@partners_app.command("set")
def partners_set(
    name: str,
    trust: Annotated[str | None, typer.Option(help="auto or notify-only.")] = None,
    salt_file: Annotated[Path | None, typer.Option(help="Replace the salt agreed with this partner.")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="An inactive partner cannot sign "
                                                                            "in and its entries never match.")] = None,
    new_secret: Annotated[bool, typer.Option("--new-secret", help="Replace the TAXII secret (prints it once).")] = False,
    db: DbOption = None,
) -> None:
    """Change a partner's trust, salt, state or TAXII secret."""
    from plugwatch.share import hashing, partners

    store = open_db(db)
    secret = None
    try:
        with store.session() as s:
            partners.update(s, name, trust=trust, salt_file=salt_file, active=active)  # row-locked, audited
            if new_secret:
                secret = partners.new_secret(s, partners.locked(s, name))
    except (partners.PartnerError, hashing.SaltError) as e:
        fail(str(e))
    err.print(f"partner {name} updated")
    if secret:
        print(secret)


@partners_app.command("list")
def partners_list(db: DbOption = None) -> None:
    """Partners with trust, salt id and watch-list size."""
    from sqlalchemy import func, select

    from plugwatch.store.sharing_tables import Partner, WatchEntry

    store = open_db(db)
    with store.session() as s:
        counts = dict(s.execute(select(WatchEntry.partner_id, func.count()).group_by(WatchEntry.partner_id)).all())
        print_rows(("partner", "trust", "status", "salt_id", "watch_list_entries"),
                   ((p.name, p.trust, "active" if p.active else "inactive", p.salt_id, counts.get(p.id, 0))
                    for p in s.scalars(select(Partner).order_by(Partner.name))),
                   "no partners yet (add one with `plugwatch share partners add NAME`)")


@share_app.command("export")
def export_cmd(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Bundle file (default, or -: stdout).",
                                                        callback=dash_means_stdout)] = None,
    hash_for: Annotated[str | None, typer.Option(help="Hash identifiers with the salt agreed with this partner.")] = None,
    salt_file: Annotated[Path | None, typer.Option(help="Hash identifiers with this salt.")] = None,
    tlp: Annotated[str, typer.Option(help="TLP marking: clear, green, amber or red.")] = "amber",
    since: Annotated[str | None, typer.Option(help="Only decisions from this date on (YYYY-MM-DD).")] = None,
    valid_days: Annotated[int, typer.Option(help="Indicators expire this many days after export.")] = 180,
    publish: Annotated[bool, typer.Option("--publish", help="Also publish to TAXII collection to-PARTNER "
                                                            "(needs --hash-for).")] = False,
    org: OrgOption = None,
    db: DbOption = None,
) -> None:
    """Write a STIX 2.1 bundle of identifiers from confirmed decisions, validated with stix2-validator."""
    from plugwatch.share import hashing, partners, stix, taxii_store, validate
    from plugwatch.share.export import export_bundle

    if hash_for and salt_file:
        fail("give --hash-for PARTNER or --salt-file FILE, not both")
    if publish and not hash_for:
        fail("--publish needs --hash-for PARTNER (each partner's collection holds indicators hashed for them)")
    if tlp.lower() not in stix.TLP:
        fail(f"--tlp is clear, green, amber or red, got {tlp!r}")
    if valid_days < 1:
        fail("--valid-days must be at least 1")
    when = _date(since, "--since")
    store = open_db(db)
    try:
        with store.session() as s:
            salt = None
            if salt_file is not None:
                salt = hashing.read_salt(salt_file)
            if hash_for:
                partner = partners.get(s, hash_for)
                if partner is None:
                    fail(f"no partner {hash_for} (add it with `plugwatch share partners add`)")
                if not partner.salt_path:
                    fail(f"partner {hash_for} has no salt: `plugwatch share partners set {hash_for} --salt-file F`")
                salt = hashing.read_salt(partner.salt_path)
            options = stix.ExportOptions(organisation=_org(org), tlp=tlp.lower(), salt=salt, valid_days=valid_days)
            result = export_bundle(s, options, since=when, partner_name=hash_for or "")
            report = validate.validate_bundle(result.bundle)
            if not report.valid:
                for e in report.errors[:20]:
                    err.print(f"[red]invalid:[/] {e}")
                raise RuntimeError("the exported bundle failed STIX validation (a plugwatch bug): nothing written")
            if publish:
                added = taxii_store.publish(s, partners.collection_alias("to", hash_for), result.bundle["objects"])
                err.print(f"published {added} new object versions to collection to-{hash_for}")
    except hashing.SaltError as e:
        fail(str(e))
    write_output(out, stix.dumps(result.bundle))
    mode = f"hashed for {hash_for}" if hash_for else "hashed" if salt else "in the clear"
    err.print(f"{result.indicators} indicators ({mode}, TLP:{tlp.upper()}) from {result.items} confirmed items"
              + (f", {result.revoked} revoked (no longer confirmed)" if result.revoked else "") + "; "
              f"valid STIX 2.1 ({len(report.warnings)} warnings)" + (f"; wrote {out}" if out else ""))


@share_app.command("import")
def import_cmd(
    bundle: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle from a partner.")],
    source: Annotated[str, typer.Option(help="The partner it came from (added if new).")],
    trust: Annotated[str | None, typer.Option(help="auto or notify-only: sets the partner's trust, for its later "
                                                   "bundles too (audited; default: the partner's, else "
                                                   "notify-only).")] = None,
    expires: Annotated[int | None, typer.Option(help="Entries expire after this many days at most.")] = None,
    salt_file: Annotated[Path | None, typer.Option(help="The salt agreed with the partner (for hashed bundles).")] = None,
    match: Annotated[bool, typer.Option("--match/--no-match", help="Match items already stored.")] = True,
    rejects: Annotated[Path | None, typer.Option(help="Where rejected objects go (default BUNDLE.rejects.jsonl).")] = None,
    db: DbOption = None,
) -> None:
    """Read a partner's bundle into the watch list. Matches raise review items, never automatic action."""
    from plugwatch.share import hashing, importer, matching, partners
    from plugwatch.store import audit

    if expires is not None and expires < 1:
        fail("--expires must be at least 1 day")
    data = _read_bundle(bundle)
    store = open_db(db)
    try:
        with store.session() as s:
            partner = partners.get(s, source)
            if partner is None:
                partner, _ = partners.add(s, source, trust or "notify-only", salt_file)
                err.print(f"new partner {source} (trust {partner.trust}); `plugwatch share partners set "
                          f"{source} --new-secret` gives it TAXII access")
            else:
                # The partner's own settings change, for later imports too: audited as `share partners set` is.
                changes = partners.update(s, source, trust=trust if trust != partner.trust else None,
                                          salt_file=salt_file)
                if "trust" in changes:
                    err.print(f"partner {source}: trust {changes['trust'][0]} → {changes['trust'][1]} "
                              "(kept for its later bundles)")
                partner = partners.get(s, source)
            salt = hashing.read_salt(partner.salt_path) if partner.salt_path else None
            result = importer.import_bundle(s, data, partner, salt=salt, expires_days=expires)
            # Before the import is committed: rejects that cannot be written undo it, rather than be lost.
            reject_path = _write_import_rejects(rejects or bundle.with_name(bundle.name + ".rejects.jsonl"),
                                                bundle, result.rejected)
            audit.append(s, "cli", "share import", f"partner:{source}",
                         {"bundle": data.get("id"), "added": result.added, "updated": result.updated,
                          "revoked": result.revoked, "rejected": len(result.rejected)})
            matched = matching.retro_match(s) if match else 0
    except (partners.PartnerError, hashing.SaltError) as e:
        fail(str(e))
    if result.rejected:
        for oid, reason in result.rejected[:5]:
            err.print(f"[yellow]rejected[/] {bundle}: {oid}: {reason}")
        err.print(f"{len(result.rejected)} rejected objects written to {reject_path}")
    err.print(f"{source}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged, "
              f"{result.revoked} revoked, {result.opinions} opinions; {matched} matches on stored items")
    if result.rejected:
        raise typer.Exit(EXIT_REJECTS if result.added + result.updated + result.unchanged else EXIT_NOTHING)


def _write_import_rejects(path: Path, bundle: Path, rejected: list[tuple[str, str]]) -> Path:
    """The rejects file, written (a stale one removed when nothing was rejected); exit 2 when it cannot be."""
    try:
        if not rejected:
            if path.is_file():
                path.unlink()
            return path
        with path.open("w", encoding="utf-8") as fh:
            for oid, reason in rejected:
                fh.write(json.dumps({"path": str(bundle), "id": oid, "reason": reason}, ensure_ascii=False) + "\n")
    except OSError as e:
        fail(f"cannot write the rejects file {path}: {e.strerror or e}; nothing imported (give --rejects PATH)")
    return path


@share_app.command("match")
def match_cmd(db: DbOption = None) -> None:
    """Match every stored item against the live watch list (new matches go to review)."""
    from plugwatch.share import matching

    store = open_db(db)
    with store.session() as s:
        n = matching.retro_match(s)
    err.print(f"{n} new watch-list matches")


@share_app.command("watchlist")
def watchlist_cmd(partner: Annotated[str | None, typer.Option(help="Only this partner's entries.")] = None,
                  db: DbOption = None) -> None:
    """Watch-list entries: id, partner, type, value (or hash), confidence, expiry, override."""
    from sqlalchemy import select

    from plugwatch.store.sharing_tables import Partner, WatchEntry

    store = open_db(db)
    with store.session() as s:
        stmt = select(WatchEntry, Partner.name).join(Partner, Partner.id == WatchEntry.partner_id)
        if partner:
            stmt = stmt.where(Partner.name == partner)
        print_rows(("id", "partner", "type", "value", "confidence", "expires", "override"),
                   ((e.id, name, e.identifier_type, e.value if e.value is not None else f"hash:{e.value_hash[:16]}…",
                     e.confidence, e.valid_until.date().isoformat() if e.valid_until else None, e.override)
                    for e, name in s.execute(stmt.order_by(WatchEntry.id))),
                   "the watch list is empty" + (f" for {partner}" if partner else "")
                   + " (`plugwatch share import BUNDLE --source PARTNER` fills it)")


@share_app.command("override")
def override_cmd(
    entry: Annotated[str, typer.Argument(help="Watch-list entry number or indicator id.")],
    state: Annotated[str, typer.Option(help="disabled (ignore it), allowed (allow-list: never matches) or none.")],
    note: Annotated[str, typer.Option(help="Why.")] = "",
    db: DbOption = None,
) -> None:
    """Set a local override on a watch-list entry; it survives later imports of the same indicator."""
    from sqlalchemy import select

    from plugwatch.store import audit
    from plugwatch.store.sharing_tables import OVERRIDES, WatchEntry

    if state not in OVERRIDES:
        fail(f"--state is one of {', '.join(OVERRIDES)}")
    store = open_db(db)
    with store.session() as s:
        cond = WatchEntry.id == int(entry) if entry.isdigit() else WatchEntry.indicator_id == entry
        rows = list(s.scalars(select(WatchEntry).where(cond)))
        if not rows:
            fail(f"no watch-list entry {entry}")
        for row in rows:
            row.override, row.override_note = state, note
            audit.append(s, "cli", "watch-list override", f"watch:{row.id}", {"state": state, "note": note})
    err.print(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'} set to {state}")


@share_app.command("feedback")
def feedback_cmd(
    partner: Annotated[str, typer.Option(help="The partner whose indicators the feedback is about.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Bundle file (default, or -: stdout).",
                                                        callback=dash_means_stdout)] = None,
    indicator: Annotated[str | None, typer.Option(help="Give one opinion by hand on this indicator id.")] = None,
    opinion: Annotated[str | None, typer.Option(help="agree or disagree (or strongly-agree, neutral, ...).")] = None,
    note: Annotated[str, typer.Option(help="Explanation sent with a hand-written opinion.")] = "",
    publish: Annotated[bool, typer.Option("--publish", help="Also publish to TAXII collection to-PARTNER.")] = False,
    org: OrgOption = None,
    db: DbOption = None,
) -> None:
    """STIX opinions on a partner's indicators: from our reviewers' decisions on matched items (agree when
    confirmed, disagree when dismissed), or one by hand with --indicator and --opinion."""
    from plugwatch.share import opinion as op
    from plugwatch.share import partners, stix, taxii_store, validate

    if (indicator is None) != (opinion is None):
        fail("--indicator and --opinion go together")
    store = open_db(db)
    with store.session() as s:
        p = partners.get(s, partner)
        if p is None:
            fail(f"no partner {partner}")
        if indicator is not None:
            if opinion not in op.OPINIONS:
                fail(f"--opinion is one of {', '.join(op.OPINIONS)}")
            if not _STIX_INDICATOR_ID.fullmatch(indicator.strip()):
                fail(f"--indicator takes a STIX indicator id, indicator--<UUID> as the partner's bundle "
                     f"gives it, got {indicator!r}")
            answers = [(indicator.strip(), opinion, note)]
        else:
            answers = op.decided_feedback(s, p)
        if not answers:
            err.print(f"no new feedback for {partner}: no matched indicator of theirs has a decision here yet")
            raise typer.Exit(0)
        bundle = op.feedback_bundle(s, p, _org(org), answers)
        report = validate.validate_bundle(bundle, enforce_refs=False)
        if not report.valid:
            raise RuntimeError("feedback bundle failed STIX validation: " + "; ".join(report.errors[:3]))
        if publish:
            taxii_store.publish(s, partners.collection_alias("to", partner), bundle["objects"])
    write_output(out, stix.dumps(bundle))
    err.print(f"{len(answers)} opinions for {partner}" + (f"; wrote {out}" if out else ""))


_STIX_INDICATOR_ID = re.compile(r"indicator--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@share_app.command("validate")
def validate_cmd(bundle: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle file.")]) -> None:
    """Check a bundle with stix2-validator (offline); exit 3 when it has errors, 4 when the file is not a
    bundle at all (the message says what it is instead)."""
    from plugwatch.share import validate

    data = _read_bundle(bundle)
    report = validate.validate_bundle(data, enforce_refs=False)
    for e in report.errors:
        err.print(f"[red]error[/] {e}")
    for w in report.warnings:
        err.print(f"[yellow]warning[/] {w}")
    err.print(f"{bundle}: {len(report.errors)} errors, {len(report.warnings)} warnings")
    if report.errors:
        raise typer.Exit(EXIT_REJECTS)


@share_app.command("tactics")
def tactics_cmd() -> None:
    """The drug-trade tactics taxonomy."""
    from plugwatch.detect.tactics import load_taxonomy

    tax = load_taxonomy()
    print_rows(("id", "phase", "technique"), ((t.id, t.phase, t.name) for t in tax.techniques), "no techniques")


def register(app: typer.Typer) -> None:
    app.add_typer(share_app, name="share")
