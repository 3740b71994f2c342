"""Rules at ingest: the store's router (which items are queued, how) and what active rules do after.

Per new item: the matching rules are recorded (rule, version, mode, effects); the active ones decide
its route (queued, priority boost, named queue, labels); their holds, automatic
actions and dry-run sends happen in the after-ingest hook, once the task exists. Shadow matches are
recorded and nothing else happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from plugwatch.rules.book import RuleBook
from plugwatch.rules.effects import carry_out
from plugwatch.rules.facts import Lookups, facts_context, from_record
from plugwatch.rules.model import LEADS, Rule
from plugwatch.store.hooks import Route
from plugwatch.store.rules_tables import RuleMatch, TaskRoute

FOLLOWUPS = "rule_followups"  # session.info key: active effects to carry out after the ingest


@dataclass
class Combined:
    """The active matches' effects together: any queues; the first named queue (in file-name order)
    wins; boosts add up; labels join."""
    queues: bool = False
    boost: float = 0.0
    queue: str | None = None
    labels: list[str] = field(default_factory=list)
    two_reviewers: bool = False
    queue_rule: str | None = None  # the rule whose named queue won

    def add(self, rule: Rule) -> None:
        e = rule.action
        self.queues = self.queues or e.queues
        self.boost += e.boost
        if self.queue is None and e.queue is not None:
            self.queue, self.queue_rule = e.queue, rule.name
        self.labels.extend(x for x in e.labels if x not in self.labels)
        self.two_reviewers = self.two_reviewers or e.require_two_reviewers


def combine(rules: list[Rule]) -> Combined:
    out = Combined()
    for rule in rules:
        if rule.mode == "active":
            out.add(rule)
    return out


def router(book: RuleBook):
    """The store's router (plugwatch.store.hooks.Router) over `book`'s rules."""

    def route(session: Session, records: list[dict[str, Any]], now: datetime) -> dict[str, Route]:
        ruleset = book.rules(session)
        need = ruleset.need
        items = [from_record(rec, now) for rec in records]
        lookups = Lookups.load(session, [i["account_key"] for i in items if i["account_key"]],
                               [(x.get("type"), x.get("canonical")) for i in items for x in i["identifiers"] or ()
                                if isinstance(x, dict)], need, now)
        routes: dict[str, Route] = {}
        matches, task_routes, followups = [], [], []
        for item in items:
            hits = ruleset.matching(facts_context(item, lookups, need, len(ruleset.live)))
            got = combine(hits)
            lead_only = got.queue == LEADS
            routes[item["id"]] = Route(review=got.queues, boost=got.boost, lead_only=lead_only,
                                       two_reviewers=got.two_reviewers, routed_by=got.queue_rule if lead_only else None)
            for rule in hits:
                matches.append({"item_id": item["id"], "rule": rule.name, "version": rule.version, "mode": rule.mode,
                                "effects": rule.action.describe(), "decision_id": None, "created_at": now})
                if rule.mode == "active" and (rule.action.apply or rule.action.hold_evidence):
                    followups.append((item["id"], rule))
            if got.queue or got.labels:
                task_routes.append({"item_id": item["id"], "queue": got.queue, "labels": got.labels})
        if matches:
            session.execute(RuleMatch.__table__.insert(), matches)
        if task_routes:
            session.execute(TaskRoute.__table__.insert(), task_routes)
        session.info.setdefault(FOLLOWUPS, []).extend(followups)
        return routes

    return route


def after_ingest(session: Session, result) -> None:
    """After-ingest hook: the active rules' holds, automatic actions and dry-run sends."""
    todo = session.info.pop(FOLLOWUPS, [])
    if not todo:
        return
    carry_out(session, todo)
