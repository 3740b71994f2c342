"""`plugwatch rules backtest` on a small fixture whose figures were worked out by hand (see the table)."""

from __future__ import annotations

import json

from cli_helpers import cli
from test_rules import WICKR, write_rule
from test_store import record

from plugwatch import wiring
from plugwatch.store import review, users

# id  identifier  account age  posted      flagged  final decision   matches the rule?
# 1   wickr       1 day        2025-03-02  yes      remove           yes (actioned)
# 2   wickr       1 day        2025-03-02  yes      dismiss          yes (dismissed)
# 3   wickr       1 day        2025-03-02  no       - (not queued)   yes (adds to the queue)
# 4   wickr       5 years      2025-03-02  yes      remove           no
# 5   telegram    1 day        2025-03-02  yes      warn             no
# 6   wickr       2 days       2025-03-03  yes      remove           yes (actioned)
# 7   wickr       2 days       2025-03-03  yes      - (pending)      yes (undecided)
ROWS = [(1, "wickr", "2025-03-01", "2025-03-02", True, "remove"),
        (2, "wickr", "2025-03-01", "2025-03-02", True, "dismiss"),
        (3, "wickr", "2025-03-01", "2025-03-02", False, None),
        (4, "wickr", "2020-03-01", "2025-03-02", True, "remove"),
        (5, "telegram", "2025-03-01", "2025-03-02", True, "warn"),
        (6, "wickr", "2025-03-01", "2025-03-03", True, "remove"),
        (7, "wickr", "2025-03-01", "2025-03-03", True, None)]
REASONS = {"remove": "drug_sale", "warn": "drug_sale", "dismiss": "not_drugs"}


def _fixture(db_url):
    st = wiring.open_store(db_url)
    recs = []
    for n, kind, born, posted, flagged, _ in ROWS:
        rec = record(n, author=f"x:acc{n}", flagged=flagged, score=0.9 if flagged else 0.2,
                     idents=[(kind, f"handle{n}")])
        rec["kind"] = "offer"
        rec["account"]["created_at"] = f"{born}T10:00:00+00:00"
        rec["created_at"] = f"{posted}T10:00:00+00:00"
        recs.append(rec)
    with st.session() as s:
        review.ingest_records(s, recs)
        ann = users.add_user(s, "ann", "reviewer")[0]
        for n, *_, action in ROWS:
            if action:
                review.claim(s, ann, f"x:{n}")
                review.decide(s, ann, f"x:{n}", action, REASONS[action])
    st.dispose()


def test_backtest_figures_match_the_hand_count(db_url, tmp_path):
    _fixture(db_url)
    write_rule(tmp_path, "wickr-new-account", WICKR.replace("MODE", "shadow"))
    out = cli("rules", "backtest", tmp_path / "wickr-new-account.yaml", "--db", db_url, "--json")
    assert out.exit_code == 0, out.stderr
    r = json.loads(out.stdout)
    assert (r["items"], r["matches"], r["decided"], r["actioned"]) == (7, 5, 3, 2)
    assert r["precision"] == 0.6667 and (r["actioned_items"], r["coverage"]) == (4, 0.5)
    assert r["dismissed_ids"] == ["x:2"]
    assert r["queue_per_day"] == {"2025-03-02": {"matches": 3, "added": 1}, "2025-03-03": {"matches": 2, "added": 0}}
    assert r["mean_added_per_day"] == 0.5
    since = json.loads(cli("rules", "backtest", tmp_path / "wickr-new-account.yaml", "--db", db_url, "--json",
                           "--since", "2025-03-03").stdout)
    assert (since["items"], since["matches"], since["decided"], since["precision"], since["coverage"]) == \
        (2, 2, 1, 1.0, 1.0)
    text = cli("rules", "backtest", tmp_path / "wickr-new-account.yaml", "--db", db_url).stdout
    assert "precision: 66.7% (2 of 3 decided matches were actioned)" in text
    assert "dismissed by reviewers: 1: x:2" in text


def test_backtest_of_a_broken_rule_is_one_line_naming_file_and_line(db_url, tmp_path):
    write_rule(tmp_path, "bad", "description: x\nowner: y\nwhen: verdict.score >\naction: review\n")
    out = cli("rules", "backtest", tmp_path / "bad.yaml", "--db", db_url)
    assert out.exit_code == 2 and "bad.yaml:3: rule bad: syntax error at column 16" in " ".join(out.stderr.split())
