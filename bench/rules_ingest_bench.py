"""What policy rules add to ingest: the same stream stored with the default rules only (0 added rules)
and with 50 rules loaded (target: under 10% more time).

In this process, on fresh SQLite files: parse, score with the shipped detector, store and queue N
items (bench/ingest_bench.py's stream: 95% ordinary posts, 5% drug-related, repeating authors), with
`plugwatch.service.ingest.ingest_paths`, the path `plugwatch ingest` and POST /api/ingest take. The 50
rules are a realistic mix (shadow and active; verdict, identifiers, account age, strikes, network,
text, reports), most of which match little. Each setting runs `--repeat` times alternately; the
fastest run of each is compared.

    python3 bench/rules_ingest_bench.py                  # 3,000 items, 2 runs each
    python3 bench/rules_ingest_bench.py --items 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_bench import make_records  # noqa: E402

from plugwatch import wiring  # noqa: E402
from plugwatch.detect import Detector  # noqa: E402
from plugwatch.service.ingest import ingest_paths  # noqa: E402

CONDITIONS = [
    'verdict.kind == "offer" && "wickr" in identifiers.types && account.age_days < {n}.0',
    'verdict.score > 0.{n} && identifiers.count > 1',
    '"{drug}" in verdict.drugs && account.followers > {n}00',
    'account.strikes >= {k} && verdict.flagged',
    'network.size > {k} && verdict.score > 0.5',
    'post.text.contains("{word}") && verdict.kind == "offer"',
    'identifiers.max_accounts > {k} && verdict.kind != ""',
    'reports.count > {k}',
    'verdict.reasons.exists(r, r == "price") && verdict.score > 0.{n}',
    'post.platform == "telegram" && verdict.flagged && account.age_known',
]
DRUGS = ("mdma", "cocaine", "cannabis", "opioids", "benzodiazepines")
WORDS = ("plug", "menu", "delivery", "bulk", "discreet")
ACTIONS = ('{boost: 3}', '{queue: leads}', '{label: watch}', 'review', '{queue: pharmacy, boost: 1}')


def write_rules(folder: Path, n: int = 50) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cond = CONDITIONS[i % len(CONDITIONS)].format(n=1 + i % 9, k=1 + i % 3, drug=DRUGS[i % 5], word=WORDS[i % 5])
        mode = "active" if i % 2 else "shadow"
        (folder / f"rule-{i:02d}.yaml").write_text(
            f"description: bench rule {i}\nowner: bench\nwhen: '{cond}'\naction: {ACTIONS[i % len(ACTIONS)]}\n"
            f"mode: {mode}\n", encoding="utf-8")


def one_run(tmp: Path, tag: str, data: Path, detector, rules: Path | None) -> float:
    url = f"sqlite:///{tmp / f'{tag}.db'}"
    store = wiring.open_store(url, rules=str(rules) if rules else None)
    # Start-up (reading and checking the rule files, recording them) is not ingest: one item first.
    ingest_paths(store, detector, [str(data.with_name("warm.jsonl"))])
    t = time.perf_counter()
    report = ingest_paths(store, detector, [str(data)])
    took = time.perf_counter() - t
    store.dispose()
    (tmp / f"{tag}.db").unlink()
    assert report.stored == report.read, report
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    data = tmp / "stream.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in make_records(args.items)), encoding="utf-8")
    data.with_name("warm.jsonl").write_text(json.dumps(make_records(1, prefix="warm")[0]) + "\n", encoding="utf-8")
    rules = tmp / "rules"
    write_rules(rules)
    detector = Detector.load()
    one_run(tmp, "warm", data, detector, None)  # load the encoder and caches once, not in the first timing
    times: dict[str, list[float]] = {"0 rules": [], "50 rules": []}
    for i in range(args.repeat):
        times["0 rules"].append(one_run(tmp, f"base{i}", data, detector, None))
        times["50 rules"].append(one_run(tmp, f"rules{i}", data, detector, rules))
    base, loaded = min(times["0 rules"]), min(times["50 rules"])
    for name, best in (("0 rules (default set)", base), ("50 rules", loaded)):
        print(f"{name:22} {args.items / best:8,.0f} items/s ({best:.2f} s for {args.items:,} items)")
    print(f"overhead of 50 rules: {(loaded - base) / base:+.1%} (target under +10%)")


if __name__ == "__main__":
    main()
