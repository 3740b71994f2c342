"""User reports: filed against an item or an account, merged into the item's one queue entry, weighed
by their reporters' track record, answered with the outcome, and the reporter protected.

Priority. Every report on an item raises its task's priority by
    REPORT_POINTS * log2(1 + sum of its independent reporters' accuracies)  (+ TRUSTED_FLAGGER_POINTS)
where a reporter's accuracy is the share of their decided reports that ended in an action, with a
Beta(1, 1) prior: (actioned + 1) / (resolved + 2), so a new reporter counts 0.5 and one whose reports
keep being dismissed counts less and less. A reporter counts once per item however often they report it.

Protection. The reporter's identity (`reporters.key`) is read by `reveal` only (leads and admins,
audited). The views reviewers get (`item_summary`) give counts, reasons and the free text with the
reporter's handle blanked out; evidence packages, notices, STIX exports and subject-access exports read
none of these tables. Retention replaces the identity by a keyed pseudonym once nothing needs it
(plugwatch.evidence.retention_reporters); a pseudonymised reporter who reports again is recognised
by it (`_recognise`) and gets their handle and track record back.

Retaliation. After every ingest (a hook named in plugwatch.wiring), a new post by a reported account
that mentions one of its reporters, or replies to one of them with threat words, is flagged and
escalated to a lead.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import regex as re
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS, LEAD, POLICY_REASONS, allowed, reason_group
from plugwatch.store import audit
from plugwatch.store.hooks import pseudonym_key
from plugwatch.store.intake_tables import Reporter, RetaliationFlag, UserReport
from plugwatch.store.review.base import ReviewError, _chunks, _insert
from plugwatch.store.review.ingest import queue_records
from plugwatch.store.review.priority import base_priority, priority_key, report_bonus
from plugwatch.store.schema import Account, Decision, Item, ReviewTask, utcnow

PRIOR_ACTIONED, PRIOR_DISMISSED = 1.0, 1.0  # Beta prior of a reporter's accuracy
REPORTABLE = tuple(code for code in POLICY_REASONS if reason_group(code) in ("violation", "escalation"))
MAX_TEXT = 5000
HIDDEN = "[reporter]"
PSEUDONYM = "hmac-sha256:"  # as plugwatch.privacy.pseudonymise writes them

# Threats, in the languages the detector reads best; whole words or phrases, case-insensitive.
THREAT_WORDS = (
    "kill", "killed", "murder", "hurt you", "find you", "found you", "know where you live", "watch your back",
    "snitch", "snitches", "rat", "dead", "you're done", "youre done", "pay for this", "regret", "shoot",
    "stab", "beat you", "doxx", "dox", "come for you", "coming for you", "end you",
    "umbringen", "töten", "petze", "ich finde dich", "pass auf", "matar", "te voy a encontrar", "soplón",
    "chivato", "tuer",
)
_THREAT = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in sorted(THREAT_WORDS, key=len, reverse=True))
                     + r")(?!\w)", re.IGNORECASE)


def _unstorable(value: str) -> str | None:
    """Text no database can store (PostgreSQL refuses NUL; an unpaired surrogate is not Unicode)."""
    if "\x00" in value:
        return "holds a NUL character (U+0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds an unpaired surrogate: not valid Unicode text"
    return None


def reporter_key(value: str) -> str:
    """`platform:handle`, lower case, without the @ in front of the handle."""
    platform, sep, handle = value.strip().partition(":")
    if not sep or not platform or not handle.strip().lstrip("@"):
        raise ReviewError("a reporter is `platform:handle` (or `platform:id`)", 422)
    return f"{platform.strip().lower()}:{handle.strip().lstrip('@').lower()}"


def accuracy(r: Reporter) -> float:
    return (r.actioned + PRIOR_ACTIONED) / (r.resolved + PRIOR_ACTIONED + PRIOR_DISMISSED)


def reporter_pseudonym(key: str, secret: bytes) -> str:
    """The keyed pseudonym retention puts in place of a reporter's `platform:handle`: the form of
    plugwatch.privacy.pseudonymise (type `reporter`), computed here since the store sits below it."""
    return PSEUDONYM + hmac.new(secret, f"reporter\x1f{key}".encode(), hashlib.sha256).hexdigest()


def _reporter(session: Session, key: str, actor: str, now: datetime | None = None) -> Reporter:
    found = session.scalars(select(Reporter).where(Reporter.key == key)).first() or _recognise(session, key, actor)
    if found is not None:
        return found
    session.execute(_insert(session, Reporter.__table__).on_conflict_do_nothing(index_elements=["key"]),
                    [{"key": key, "reports": 0, "resolved": 0, "actioned": 0, "trusted_flagger": False,
                      "created_at": now or utcnow()}])
    return session.scalars(select(Reporter).where(Reporter.key == key)).one()


def _recognise(session: Session, key: str, actor: str) -> Reporter | None:
    """The row retention pseudonymised for `key`, given its handle back: the person reports again, the
    new report needs the handle (retaliation checks, `reveal`) and the track record is theirs (a
    reporter whose reports keep being dismissed must not start afresh by waiting). Audited."""
    if session.scalar(select(Reporter.id).where(Reporter.pseudonymised_at.is_not(None)).limit(1)) is None:
        return None  # the common case reads no key file
    secret = pseudonym_key(session)
    if secret is None:
        return None
    row = session.scalars(select(Reporter).where(Reporter.key == reporter_pseudonym(key, secret))).first()
    if row is None:
        return None
    row.key, row.pseudonymised_at = key, None
    session.flush()
    audit.append(session, actor, "reporters.recognise", f"reporter:{row.id}", {})
    return row


def file_report(session: Session, *, reporter: str, reason: str, filed_by: str, item_id: str | None = None,
                account_key: str | None = None, text: str = "", source: str = "api", external_id: str | None = None,
                now: datetime | None = None) -> tuple[UserReport, bool]:
    """Store a report and merge it into the item's queue entry. Returns (report, created); a report
    already filed with the same (source, external_id) is returned as it is."""
    now = now or utcnow()
    for name, value in (("reporter", reporter), ("item_id", item_id), ("account", account_key), ("text", text),
                        ("external_id", external_id)):
        if value is not None and _unstorable(value):
            raise ReviewError(f"{name}: {_unstorable(value)}", 422)
    if reason not in REPORTABLE:
        raise ReviewError(f"reason {reason!r} is not a policy reason a report can cite; one of {', '.join(REPORTABLE)}", 422)
    if not item_id and not account_key:
        raise ReviewError("a report names an item (item_id) or an account (account)", 422)
    if external_id:
        found = session.scalars(select(UserReport).where(UserReport.source == source,
                                                         UserReport.external_id == external_id)).first()
        if found is not None and found.filed_by != filed_by:
            # Another feed's report with the same id (two platforms both number theirs 1, 2, …): it is not
            # a resend, and answering with it would drop this report and show that feed's outcome.
            raise ReviewError(f"external_id {external_id!r} is already the id of a report another user "
                              f"({found.filed_by}) filed; give this platform's reports ids of their own "
                              "(e.g. prefixed with its name)", 409)
        if found is not None:
            return found, False
    key = reporter_key(reporter)
    item = None
    if item_id:
        item = session.get(Item, item_id)
        if item is None:
            raise ReviewError(f"no item {item_id} (send the item to /api/ingest first)", 404)
        if account_key and item.account_key != stored_account_key(session, account_key.strip().lower()):
            # The report would go on another account than the one it names: say so, file nothing.
            raise ReviewError(f"item {item_id} is by {item.account_key}, not {account_key}: name the item, "
                              "or the account, or both of the same account", 422)
        account_key = item.account_key
    else:
        account_key = stored_account_key(session, account_key.strip().lower())
        item = _newest_item(session, account_key)
    if account_key and account_key in (key, stored_account_key(session, key)):  # in either form
        raise ReviewError("an account cannot report itself", 422)
    who = _reporter(session, key, filed_by, now)
    who.reports += 1
    report = UserReport(reporter_id=who.id, item_id=item.id if item else None, account_key=account_key, reason=reason,
                        text=(text or "")[:MAX_TEXT], source=source, external_id=external_id, filed_by=filed_by,
                        created_at=now)
    session.add(report)
    session.flush()
    if item is not None:
        merge_into_queue(session, item, now)
    return report, True


def stored_account_key(session: Session, key: str) -> str:
    """The stored account a report names: as given, or, for a handle given without its server
    ("mastodon:localplug", where accounts are stored as handle@server), the one stored account of that
    handle. Else as given: a report may come before the account's first post."""
    platform, _, handle = key.partition(":")
    if handle.startswith("@"):  # "mastodon:@localplug", as people write a handle
        handle = handle.lstrip("@")
        key = f"{platform}:{handle}"
    if session.get(Account, key) is not None:
        return key
    if platform and handle and "@" not in handle:
        pattern = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "@%"
        found = session.scalars(select(Account.key).where(Account.key.like(pattern, escape="\\")).limit(2)).all()
        if len(found) == 1:
            return found[0]
    return key


def _newest_item(session: Session, account_key: str) -> Item | None:
    return session.scalars(select(Item).where(Item.account_key == account_key)
                           .order_by(Item.received_at.desc(), Item.id.desc()).limit(1)).first()


def merge_into_queue(session: Session, item: Item, now: datetime) -> ReviewTask | None:
    """The item's one queue entry, made if it had none, its priority raised by its reports. A task
    already decided keeps its decision: the new reports get its outcome."""
    record = dict(item.record or {})
    record["id"] = item.id
    queue_records(session, [record], now)
    task = session.scalars(select(ReviewTask).where(ReviewTask.item_id == item.id)).one()
    if task.state == "decided":
        last = session.scalars(select(Decision).where(Decision.item_id == item.id)
                               .order_by(Decision.id.desc()).limit(1)).first()
        if last is not None:
            record_outcome(session, last)
        return task
    rows = session.execute(select(Reporter).join(UserReport, UserReport.reporter_id == Reporter.id)
                           .where(UserReport.item_id == item.id).distinct()).scalars().all()
    bonus = report_bonus([accuracy(r) for r in rows], any(r.trusted_flagger for r in rows))
    followers = session.scalar(select(Account.followers).where(Account.key == item.account_key)) \
        if item.account_key else None
    base = base_priority(item.score, followers, item.reach, item.offer_kind)
    task.priority = priority_key(base + bonus, task.reopened_at or task.created_at)
    return task


# -- outcomes and the reporters' track record --------------------------------------------------------

def outcome_of(action: str) -> str | None:
    spec = ACTIONS.get(action)
    if spec is None or not spec.final:
        return None
    return "action_taken" if spec.confirms else "no_action"


def record_outcome(session: Session, decision: Decision) -> int:
    """After-decision hook: the reports on the decided item get its outcome (an appeal that changes it
    changes theirs), and their reporters' counts follow. Returns how many reports changed."""
    outcome = outcome_of(decision.action)
    if outcome is None:
        return 0
    reports = session.scalars(select(UserReport).where(UserReport.item_id == decision.item_id,
                                                       (UserReport.outcome.is_(None)) | (UserReport.outcome != outcome))
                              .order_by(UserReport.id)).all()
    for report in reports:
        who = session.get(Reporter, report.reporter_id)
        if report.outcome is None:
            who.resolved += 1
        elif report.outcome == "action_taken":
            who.actioned -= 1
        if outcome == "action_taken":
            who.actioned += 1
        report.outcome, report.outcome_at = outcome, decision.created_at
        report.feedback_sent_at, report.feedback_error = None, None  # the reporter is told again
    return len(reports)


def on_decision(session: Session, decision: Decision) -> None:
    record_outcome(session, decision)


def outcome_view(report: UserReport) -> dict[str, Any]:
    """What the platform may tell the reporter: whether action was taken, and nothing of the other
    account's history."""
    return {"id": report.id, "source": report.source, "external_id": report.external_id,
            "state": "decided" if report.outcome else "open", "outcome": report.outcome,
            "outcome_at": report.outcome_at.isoformat() if report.outcome_at else None,
            "created_at": report.created_at.isoformat()}


def outcomes(session: Session, *, since_id: int = 0, source: str | None = None, decided_only: bool = True,
             limit: int = 500) -> list[dict[str, Any]]:
    q = select(UserReport).where(UserReport.id > since_id)
    if source:
        q = q.where(UserReport.source == source)
    if decided_only:
        q = q.where(UserReport.outcome.is_not(None))
    return [outcome_view(r) for r in session.scalars(q.order_by(UserReport.id).limit(limit))]


def feedback_due(session: Session, source: str, limit: int = 100) -> list[UserReport]:
    """Decided reports from `source` whose reporter was not yet told through the platform."""
    return list(session.scalars(select(UserReport).where(
        UserReport.source == source, UserReport.outcome.is_not(None), UserReport.feedback_sent_at.is_(None),
        UserReport.external_id.is_not(None)).order_by(UserReport.id).limit(limit)))


# -- what reviewers see, and who may see more -----------------------------------------------------------

def _blank(text: str, keys: Iterable[str]) -> str:
    for key in keys:
        handle = key.split(":", 1)[1]
        names = {handle, handle.split("@", 1)[0]} if "@" in handle else {handle}
        for name in sorted(names, key=len, reverse=True):
            if len(name) >= 3:
                text = re.sub(r"@?" + re.escape(name), HIDDEN, text, flags=re.IGNORECASE)
    return text


def item_summary(session: Session, item_id: str) -> dict[str, Any] | None:
    """Reports on the item and retaliation flags on it, without anyone's identity."""
    rows = session.execute(select(UserReport, Reporter.key, Reporter.trusted_flagger)
                           .join(Reporter, Reporter.id == UserReport.reporter_id)
                           .where(UserReport.item_id == item_id).order_by(UserReport.id)).all()
    flags = session.scalars(select(RetaliationFlag).where(RetaliationFlag.item_id == item_id)
                            .order_by(RetaliationFlag.id)).all()
    if not rows and not flags:
        return None
    keys = {k for _, k, _ in rows}
    reasons: dict[str, int] = {}
    for r, _, _ in rows:
        reasons[r.reason] = reasons.get(r.reason, 0) + 1
    return {
        "count": len(rows), "reporters": len(keys), "reasons": reasons,
        "trusted_flagger": any(t for _, _, t in rows),
        "texts": [_blank(r.text, keys) for r, _, _ in rows if r.text][:20],
        "retaliation": [{"kind": f.kind, "threat_words": f.threat_words, "report_id": f.report_id,
                         "note": "possible retaliation against someone who reported this account"} for f in flags],
    }


def check_may_open(session: Session, item_id: str, role: str) -> None:
    """A post flagged as retaliation names, or answers, a person who reported its author: only the roles
    that may see reporters (`reports.reveal`) open it; for anyone else it is a 403."""
    if allowed("reports.reveal", role):
        return
    if session.scalar(select(RetaliationFlag.id).where(RetaliationFlag.item_id == item_id).limit(1)) is not None:
        raise ReviewError("This post is flagged as possible retaliation against someone who reported its author; "
                          "a lead handles it.", 403)


def reveal(session: Session, item_id: str, actor: str) -> list[dict[str, Any]]:
    """Who reported the item (and who a retaliating post is aimed at). Callers check the role
    (`reports.reveal`); every call is audited."""
    if _unstorable(item_id):
        raise ReviewError(f"no reports on {item_id!r}", 404)
    report_ids = set(session.scalars(select(UserReport.id).where(UserReport.item_id == item_id)))
    report_ids |= set(session.scalars(select(RetaliationFlag.report_id).where(RetaliationFlag.item_id == item_id)))
    if not report_ids:
        raise ReviewError(f"no reports on or retaliation flags for {item_id}", 404)
    rows = session.execute(select(UserReport, Reporter).join(Reporter, Reporter.id == UserReport.reporter_id)
                           .where(UserReport.id.in_(sorted(report_ids))).order_by(UserReport.id)).all()
    audit.append(session, actor, "reports.reveal", item_id, {"reports": sorted(report_ids)})
    # None: retention replaced the handle (`identity_removed_at`); the pseudonym means nothing to a reader
    return [{"report_id": r.id, "reporter": None if who.pseudonymised_at else who.key,
             "identity_removed_at": who.pseudonymised_at.isoformat() if who.pseudonymised_at else None,
             "trusted_flagger": who.trusted_flagger, "trusted_name": who.trusted_name, "reports": who.reports, "accuracy": round(accuracy(who), 3),
             "reason": r.reason, "source": r.source, "created_at": r.created_at.isoformat()} for r, who in rows]


def set_trusted(session: Session, key: str, name: str | None, actor: str) -> Reporter:
    """Mark a reporter a trusted flagger under the organisation's designated `name` (None: unmark)."""
    who = _reporter(session, reporter_key(key), actor)
    who.trusted_flagger, who.trusted_name = name is not None, (name or None)
    audit.append(session, actor, "reporters.trust", f"reporter:{who.id}", {"trusted": who.trusted_flagger})
    return who


def notice_source(session: Session, item_id: str) -> tuple[str, str | None] | None:
    """The DSA source type of a decision on the item, and a trusted flagger's public name: None when
    nobody reported it (plugwatch found it itself)."""
    rows = session.execute(select(Reporter.trusted_flagger, Reporter.trusted_name)
                           .join(UserReport, UserReport.reporter_id == Reporter.id)
                           .where(UserReport.item_id == item_id)).all()
    if not rows:
        return None
    trusted = sorted({name for flag, name in rows if flag and name})
    if trusted:
        return "SOURCE_TRUSTED_FLAGGER", trusted[0]
    return "SOURCE_ARTICLE_16", None


def report_counts(session: Session) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(UserReport)) or 0
    open_ = session.scalar(select(func.count()).select_from(UserReport).where(UserReport.outcome.is_(None))) or 0
    flags = session.scalar(select(func.count()).select_from(RetaliationFlag)) or 0
    return {"reports": total, "open_reports": open_, "retaliation_flags": flags}


# -- after an ingest: waiting account reports, retaliation -------------------------------------------

def after_ingest(session: Session, result) -> None:
    ids = list(getattr(result, "ids", None) or ())
    if not ids:
        return
    items: list[Item] = []
    for chunk in _chunks(sorted(ids)):
        items.extend(session.scalars(select(Item).where(Item.id.in_(chunk), Item.account_key.is_not(None))))
    authors = sorted({i.account_key for i in items})
    reports: list[tuple[UserReport, str, datetime | None]] = []
    for chunk in _chunks(authors):
        reports.extend(session.execute(select(UserReport, Reporter.key, Reporter.pseudonymised_at)
                                       .join(Reporter, Reporter.id == UserReport.reporter_id)
                                       .where(UserReport.account_key.in_(chunk)).order_by(UserReport.id)).all())
    if not reports:
        return
    now = utcnow()
    by_author: dict[str, list[tuple[UserReport, str | None]]] = {}
    for r, key, pseudonymised in reports:
        # a pseudonym names nobody a post could mention or answer: no retaliation check for it
        by_author.setdefault(r.account_key, []).append((r, None if pseudonymised else key))
    _attach_waiting(session, items, by_author, now)
    _flag_retaliation(session, items, by_author, now)


def _attach_waiting(session, items, by_author, now) -> None:
    newest: dict[str, Item] = {}
    for item in items:
        if item.account_key in by_author:
            newest[item.account_key] = item  # stored in input order: the last is the newest
    for author, item in newest.items():
        waiting = [r for r, _ in by_author[author] if r.item_id is None]
        for r in waiting:
            r.item_id = item.id
        if waiting:
            session.flush()
            merge_into_queue(session, item, now)


def _flag_retaliation(session, items, by_author, now) -> None:
    parents = sorted({i.reply_to for i in items if i.reply_to and i.account_key in by_author})
    parent_author: dict[str, str | None] = {}
    for chunk in _chunks(parents):
        parent_author.update(session.execute(select(Item.id, Item.account_key).where(Item.id.in_(chunk))).all())
    for item in items:
        when = item.created_at or item.received_at
        for report, key in by_author.get(item.account_key, ()):
            if key is None or report.item_id == item.id or when < report.created_at:
                continue
            threats = sorted({m.lower() for m in _THREAT.findall(item.text or "")})
            if item.reply_to and parent_author.get(item.reply_to) == key and threats:
                kind = "reply"
            elif _mentions(item.text or "", key):
                kind = "mention"
            else:
                continue
            _raise_flag(session, item, report, kind, threats, now)
            break  # one flag per post is enough for a lead to look


def _mentions(text: str, key: str) -> bool:
    handle = key.split(":", 1)[1]
    names = {handle} | ({handle.split("@", 1)[0]} if "@" in handle else set())
    return any(re.search(r"@" + re.escape(n) + r"(?![\w.@-]*\w)", text, flags=re.IGNORECASE) for n in names if len(n) >= 2)


def _raise_flag(session: Session, item: Item, report: UserReport, kind: str, threats: list[str], now) -> None:
    exists = session.scalar(select(RetaliationFlag.id).where(RetaliationFlag.item_id == item.id,
                                                             RetaliationFlag.report_id == report.id))
    if exists:
        return
    session.add(RetaliationFlag(item_id=item.id, report_id=report.id, kind=kind, threat_words=threats, created_at=now))
    record = dict(item.record or {})
    record["id"] = item.id
    queue_records(session, [record], now)
    followers = session.scalar(select(Account.followers).where(Account.key == item.account_key))
    base = base_priority(item.score, followers, item.reach, item.offer_kind) + report_bonus([], True)
    # To a lead: a reviewer does not see it in the queue, and its author's next post waits for nobody.
    session.execute(update(ReviewTask).where(ReviewTask.item_id == item.id, ReviewTask.state != "decided")
                    .values(required_role=LEAD, open_state="escalated", priority=priority_key(base, now),
                            state=_escalated_state())
                    .execution_options(synchronize_session=False))
    audit.append(session, "intake", "retaliation.flag", item.id, {"report": report.id, "kind": kind})
    session.flush()


def _escalated_state():
    from sqlalchemy import case

    return case((ReviewTask.state == "claimed", "claimed"), else_="escalated")
