"""The rule set a running store uses, and what changing it leaves in the audit log.

The folder is read again whenever its files change (name, size, modification time). A folder with
a broken file is refused as a whole: the store keeps the set it had; a process that starts with a
broken folder uses the set this database last loaded (kept in `rule_states`), else the defaults.
So a broken file never takes the service down and never changes routing.

Every rule that appears, changes (its file's SHA-256) or switches mode, and every refused folder, is
an audit entry naming the rule and its hash.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugwatch.rules.model import rule_files
from plugwatch.rules.ruleset import RuleSet, RuleSetError, from_sources, load
from plugwatch.store import audit
from plugwatch.store.rules_tables import RuleState
from plugwatch.store.schema import utcnow

log = logging.getLogger("plugwatch.rules")
ACTOR = "rules"


class RuleBook:
    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self.current: RuleSet | None = None
        self.errors: list = []  # the problems of the last refused load
        self._stamp: tuple | None = None
        self._refused: tuple | None = None
        self._lock = threading.Lock()

    def _stamp_now(self) -> tuple:
        if self.folder is None:
            return ()
        try:
            return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in rule_files(self.folder))
        except OSError:
            return ("missing",)

    def rules(self, session: Session) -> RuleSet:
        """The set to use now (reloaded if the folder changed), its states synced to the database."""
        stamp = self._stamp_now()
        with self._lock:
            if self.current is None or stamp != self._stamp:
                self._reload(session, stamp)
            current = self.current
        sync_states(session, current)
        return current

    def _reload(self, session: Session, stamp: tuple) -> None:
        try:
            self.current = load(self.folder)
            self.errors = []
        except RuleSetError as e:
            self.errors = e.errors
            if self._refused != stamp:
                self._refused = stamp
                for err in e.errors:
                    log.error("rules not loaded, keeping the previous set: %s", err)
                audit.append(session, ACTOR, "rules.refused", f"rules:{self.folder}",
                             {"errors": [str(x) for x in e.errors][:20]})
            if self.current is None:
                self.current = last_loaded(session) or load(None)
        self._stamp = stamp


def last_loaded(session: Session) -> RuleSet | None:
    rows = session.execute(select(RuleState.name, RuleState.path, RuleState.source)
                           .where(RuleState.mode != "gone").order_by(RuleState.name)).all()
    if not rows:
        return None
    try:
        return from_sources([tuple(r) for r in rows])
    except Exception:  # noqa: BLE001 - a stored set this version cannot read: fall back to the defaults
        return None


def _insert_state(session: Session, row: dict) -> bool:
    """Insert a new state unless another process just did (then it wrote the audit entry)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(RuleState).values(**row).on_conflict_do_nothing(index_elements=["name"]).returning(RuleState.name)
    return session.execute(stmt).scalar() is not None


def _update_state(session: Session, state: RuleState, values: dict) -> bool:
    """Conditional on the state read: of two processes seeing the same change, one records it."""
    res = session.execute(update(RuleState).where(RuleState.name == state.name, RuleState.version == state.version,
                                                  RuleState.mode == state.mode).values(**values)
                          .execution_options(synchronize_session=False))
    return res.rowcount == 1


def sync_states(session: Session, ruleset: RuleSet) -> list[str]:
    """Record the set's rules in `rule_states`, with an audit entry for each one that is new, changed
    or switched mode, or that disappeared. Returns the audit actions written."""
    stored = {name: RuleState(name=name, version=v, mode=m, path=p) for name, v, m, p in session.execute(
        select(RuleState.name, RuleState.version, RuleState.mode, RuleState.path))}
    written = []
    now = utcnow()
    for rule in ruleset.rules:
        state = stored.pop(rule.name, None)
        details = {"version": rule.version, "mode": rule.mode, "path": rule.path, "owner": rule.owner}
        if state is None or state.mode == "gone":
            action = "rule.load"
        elif state.version != rule.version:
            action, details["was"] = "rule.change", {"version": state.version, "mode": state.mode}
        elif state.mode != rule.mode:
            action, details["was"] = "rule.mode", {"mode": state.mode}
        else:
            continue
        values = {"version": rule.version, "mode": rule.mode, "path": rule.path[:500], "loaded_at": now,
                  "source": ruleset.sources.get(rule.name, b"").decode("utf-8", "replace")}
        done = (_insert_state(session, {"name": rule.name, **values}) if state is None
                else _update_state(session, state, values))
        if done:
            audit.append(session, ACTOR, action, f"rule:{rule.name}", details, at=now)
            written.append(action)
    for name, state in stored.items():
        if state.mode != "gone" and _update_state(session, state, {"mode": "gone", "loaded_at": now}):
            audit.append(session, ACTOR, "rule.remove", f"rule:{name}", {"version": state.version, "path": state.path},
                         at=now)
            written.append("rule.remove")
    return written
