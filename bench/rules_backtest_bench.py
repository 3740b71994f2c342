"""Backtest speed: `plugwatch rules backtest` over 1,000,000 stored items (target: under a minute, one core).

Fills a fresh SQLite database (in a temporary folder, or --db) with N items written straight into the
tables (ingesting them through the detector would take far longer than the backtest being measured):
100,000 accounts (a tenth created within the last week before their posts), items with 0-2
identifiers (a twentieth Wickr), 5% queued, and final decisions on most queued items. Then runs the
README's Wickr rule over all of them in this process and prints the time, items/s and the figures.

    python3 bench/rules_backtest_bench.py                 # 1,000,000 items
    python3 bench/rules_backtest_bench.py --items 200000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plugwatch import wiring  # noqa: E402
from plugwatch.rules.backtest import run  # noqa: E402
from plugwatch.rules.model import load_bytes  # noqa: E402
from plugwatch.store import users  # noqa: E402
from plugwatch.store.schema import Account, Decision, Item, ReviewTask  # noqa: E402

RULE = b"""description: offers with a Wickr contact from accounts under a week old go to a lead
owner: policy@example.org
when: verdict.kind == "offer" && "wickr" in identifiers.types && account.age_days < 7.0
action: {queue: leads}
mode: shadow
"""
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def fill(store, n: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    n_acc = max(1, n // 10)
    with store.session() as s:
        reviewer = users.add_user(s, "bench-reviewer", "reviewer")[0].id
        s.execute(Account.__table__.insert(), [
            {"key": f"x:a{i}", "platform": "x", "handle": f"a{i}", "followers": rng.randrange(5000),
             "created_at": T0 - timedelta(days=rng.randrange(1, 7) if i % 10 == 0 else rng.randrange(30, 3000)),
             "first_seen": T0, "last_seen": T0} for i in range(n_acc)])
    step = 50_000
    for start in range(0, n, step):
        items, tasks, decisions = [], [], []
        for i in range(start, min(n, start + step)):
            kinds = rng.choices(["wickr", "telegram", "phone", "cashapp"], [1, 8, 6, 5], k=rng.randrange(3))
            idents = [{"type": k, "value": f"{k}{rng.randrange(10 ** 6)}", "canonical": f"{k}{rng.randrange(10 ** 6)}",
                       "valid": True, "span": [0, 4]} for k in kinds]
            flagged = rng.random() < 0.05
            posted = T0 + timedelta(days=rng.randrange(30), seconds=rng.randrange(86400))
            items.append({"id": f"x:{i}", "platform": "x", "account_key": f"x:a{rng.randrange(n_acc)}", "kind": "post",
                          "text": "selling, dm me" if flagged else "ordinary post", "created_at": posted,
                          "received_at": posted, "score": rng.random() if flagged else rng.random() * 0.3,
                          "flagged": flagged, "offer_kind": "offer" if flagged or rng.random() < 0.02 else None,
                          "drugs": ["mdma"] if flagged else [], "reasons": [], "identifiers": idents, "record": {},
                          "reach": None})
            if flagged:
                decided = rng.random() < 0.8
                tasks.append({"id": i + 1, "item_id": f"x:{i}", "group_key": f"x:{i}", "priority": 1.0,
                              "state": "decided" if decided else "pending",
                              "open_state": "decided" if decided else "pending", "created_at": posted})
                if decided:
                    action = "remove" if rng.random() < 0.7 else "dismiss"
                    decisions.append({"item_id": f"x:{i}", "task_id": i + 1, "reviewer_id": reviewer, "action": action,
                                      "policy_reason": "drug_sale" if action == "remove" else "not_drugs",
                                      "note": "", "created_at": posted + timedelta(hours=1)})
        with store.session() as s:
            s.execute(Item.__table__.insert(), items)
            if tasks:
                s.execute(ReviewTask.__table__.insert(), tasks)
            if decisions:
                s.execute(Decision.__table__.insert(), decisions)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--db", help="database URL (default: a SQLite file in a temporary folder)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name) / 'backtest.db'}"
    store = wiring.open_store(url)
    t = time.perf_counter()
    fill(store, args.items)
    print(f"filled {args.items:,} items in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    rule = load_bytes(RULE, "wickr-new-account.yaml", "wickr-new-account")
    t = time.perf_counter()
    with store.session() as s:
        report = run(s, rule)
    took = time.perf_counter() - t
    store.dispose()
    print(f"backtest of {report['items']:,} stored items: {took:.1f} s ({report['items'] / took:,.0f} items/s; "
          f"target under 60 s)")
    print(f"matches {report['matches']:,}, decided {report['decided']:,}, precision {report['precision']}, "
          f"coverage {report['coverage']}, dismissed {report['dismissed']:,}")


if __name__ == "__main__":
    main()
