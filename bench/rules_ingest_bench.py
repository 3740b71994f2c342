"""What policy rules add to ingest: the same stream with the default rules only (0 added rules) and
with 50 rules loaded (target: under 10% more time).

1. The ingest benchmark itself (bench/ingest_bench.py: `plugwatch serve` on a fresh SQLite file, N items
   posted to /api/ingest in batches of 500), run with and without `PLUGWATCH_RULES` naming the 50 rules.
2. The store path alone, in this process: parse, score with the shipped detector, store and queue with
   `plugwatch.service.ingest.ingest_paths` (what `plugwatch ingest` runs), without HTTP, so the rules'
   share of it is larger.

The stream is ingest_bench's (95% ordinary posts, 5% drug-related, repeating authors). The 50 rules are
a mix (shadow and active; verdict, identifiers, account age, strikes, network, text, reports), most of
which match little. Each setting runs `--repeat` times alternately; the fastest run of each is compared
(the machine is shared: single runs vary by 20%).

    python3 bench/rules_ingest_bench.py                  # 6,000 items over HTTP, 3,000 in process, 3 runs each
    python3 bench/rules_ingest_bench.py --items 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
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


def http_run(items: int, rules: Path | None) -> float:
    """items/s of bench/ingest_bench.py, with the rules folder in the server's environment."""
    env = {k: v for k, v in os.environ.items() if k != "PLUGWATCH_RULES"}
    if rules is not None:
        env["PLUGWATCH_RULES"] = str(rules)
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("ingest_bench.py")), "--items", str(items)],
                         env=env, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"([\d,]+) items/s", out).group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=6000, help="items over HTTP (half as many in process)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rules = tmp / "rules"
    write_rules(rules)
    rates: dict[str, list[float]] = {"0 rules": [], "50 rules": []}
    for _ in range(args.repeat):
        rates["0 rules"].append(http_run(args.items, None))
        rates["50 rules"].append(http_run(args.items, rules))
    base_rate, rules_rate = max(rates["0 rules"]), max(rates["50 rules"])
    print(f"ingest benchmark (HTTP, {args.items:,} items, best of {args.repeat}):")
    print(f"  0 rules (default set)  {base_rate:8,.0f} items/s")
    print(f"  50 rules               {rules_rate:8,.0f} items/s")
    print(f"  overhead of 50 rules: {base_rate / rules_rate - 1:+.1%} more time (target under +10%)")
    args.items //= 2
    data = tmp / "stream.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in make_records(args.items)), encoding="utf-8")
    data.with_name("warm.jsonl").write_text(json.dumps(make_records(1, prefix="warm")[0]) + "\n", encoding="utf-8")
    detector = Detector.load()
    one_run(tmp, "warm", data, detector, None)  # load the encoder and caches once, not in the first timing
    times: dict[str, list[float]] = {"0 rules": [], "50 rules": []}
    for i in range(args.repeat):
        times["0 rules"].append(one_run(tmp, f"base{i}", data, detector, None))
        times["50 rules"].append(one_run(tmp, f"rules{i}", data, detector, rules))
    base, loaded = min(times["0 rules"]), min(times["50 rules"])
    print(f"store path in process (no HTTP, {args.items:,} items, best of {args.repeat}):")
    for name, best in (("0 rules (default set)", base), ("50 rules", loaded)):
        print(f"  {name:22} {args.items / best:8,.0f} items/s ({best:.2f} s)")
    print(f"  overhead of 50 rules: {(loaded - base) / base:+.1%} more time; "
          f"{(loaded - base) / args.items * 1e6:.0f} µs per item")


if __name__ == "__main__":
    main()
