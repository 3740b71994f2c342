"""Time and memory of `plugwatch networks` on a large, already-scanned stream.

Generates (deterministically, from --seed) scan-output JSONL: --items items by --accounts accounts on
six platforms over one year. 10% of the accounts sell: they post menus with contacts (Telegram, then
Signal after a dated takedown, Wickr, phones, wallets) and are grouped into networks of 1-5 accounts
that share one of these; a bot farm of 60 accounts posts one templated pitch in replies; everyone
else posts ordinary text, some with generic links (t.me/telegram, instagram.com, bit.ly). Then runs
`plugwatch networks FILE --out DIR --graph` as a child process and prints items/s, wall time and the
child's peak resident memory (the kernel's accounting), and checks the seller networks it found
against the generated truth.

    python3 bench/networks_bench.py                        # 1,000,000 items, 100,000 accounts
    python3 bench/networks_bench.py --items 100000 --accounts 10000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PLATFORMS = ("x", "instagram", "telegram", "reddit", "tiktok", "bluesky")
START = datetime(2024, 7, 1, tzinfo=UTC)
SHIFT = datetime(2025, 1, 13, tzinfo=UTC)
WORDS = ("the game last night was great coffee morning weekend trip photos friends family work meeting "
         "new album music concert tickets weather rain sunny beach city park dog cat dinner recipe pasta "
         "book reading movie series episode season finale training gym run marathon project launch team "
         "happy birthday congrats thanks sharing thread love this so true agree totally lol really").split()
PRODUCTS = ("exotic za", "gelato", "runtz", "fishscale", "blues m30", "xanax bars", "molly caps", "lsd tabs",
            "ketamine", "lean", "thc carts", "wax", "shroom bars", "dmt", "oxy 30s", "adderall", "coke", "meth")
BOT_PITCH = ("{o} {p} {e} {c} @bench_microdose for the menu, {s}", dict(
    o=["Struggling with anxiety?", "Dealing with depression?", "Tired of low mood?", "Anxiety or depression?"],
    p=["our microdose capsules", "our micro-dose caps", "these microdose shroom capsules", "our psilocybin caps"],
    e=["changed my life", "really helped me", "turned things around for me", "changed everything"],
    c=["DM tele", "message tele", "order on tele"],
    s=["discreet shipping worldwide", "stealth shipping EU and US", "discreet worldwide shipping"]))


def _ident(kind: str, canonical: str, value: str) -> dict:
    return {"type": kind, "value": value, "canonical": canonical, "valid": True, "span": [-1, -1]}


def _contact(seller: int, net: int, when: datetime, r: random.Random) -> tuple[str, list[dict]]:
    """The contact line of an offer and its identifiers; network members share their network's ids."""
    x = r.random()
    if x < 0.25:
        return f"wickr: net{net}ice", [_ident("wickr", f"wickr:net{net}ice", f"net{net}ice")]
    if x < 0.35:
        phone = f"+1202555{net % 10000:04d}" if net < 10000 else f"+1310555{net % 10000:04d}"
        return f"text {phone}", [_ident("phone", phone, phone)]
    if x < 0.4:
        wallet = f"btc:bc1qbench{net:030d}"
        return f"btc {wallet[4:]}", [_ident("btc", wallet, wallet[4:])]
    if when < SHIFT or x < 0.55:
        return f"tele: @shop_{net}", [_ident("telegram", f"telegram:shop_{net}", f"@shop_{net}")]
    return f"signal: shop{net}.{seller % 90 + 10}", [_ident("signal", f"signal:shop{net}.{seller % 90 + 10}",
                                                            f"shop{net}.{seller % 90 + 10}")]


def generate(path: Path, items: int, accounts: int, seed: int) -> dict:
    r = random.Random(seed)
    sellers = accounts // 10
    bots = min(60, accounts // 50)  # under the frequency cap: larger farms are found as campaigns only
    # sellers 0..sellers-1 grouped into networks of 1-5 accounts (a network of 1 is a lone seller)
    network_of, net, i = [], 0, 0
    while i < sellers:
        size = r.choice((1, 1, 2, 3, 4, 5))
        network_of.extend([net] * min(size, sellers - i))
        i += size
        net += 1
    truth: dict[int, list[str]] = {}
    names = [f"{PLATFORMS[a % len(PLATFORMS)]}:user{a:06d}" for a in range(accounts)]
    for a in range(sellers, sellers + bots):
        names[a] = f"x:bot{a:06d}"  # the farm posts on X, where its Telegram contact is off-platform
    for a in range(sellers):
        truth.setdefault(network_of[a], []).append(names[a])
    # each seller writes in a way of its own: a menu and a few words of its own around it
    menus = [f"{' '.join(r.choices(WORDS, k=4))} {' / '.join(r.sample(PRODUCTS, 3))} {' '.join(r.choices(WORDS, k=3))}"
             for _ in range(sellers)]
    span = 365 * 86400
    with path.open("w", encoding="utf-8") as fh:
        for n in range(items):
            x = r.random()
            when = START + timedelta(seconds=int(r.random() * span))
            reply_to = None
            if x < 0.2:  # an offer by a seller
                a = r.randrange(sellers)
                line, ids = _contact(a, network_of[a], when, r)
                text = f"{menus[a]} {r.randint(10, 99)} each, {r.choice(['ships', 'drops', 'meetups'])} {line}"
                score, flagged = 0.9, True
            elif x < 0.22 and bots:  # the bot farm's pitch, as replies
                a = sellers + r.randrange(bots)
                template, slots = BOT_PITCH
                text = template.format(**{k: r.choice(v) for k, v in slots.items()})
                ids = [_ident("telegram", "telegram:bench_microdose", "@bench_microdose")]
                score, flagged = 0.8, True
                reply_to = f"x:{r.randrange(items)}"
            else:
                a = sellers + bots + r.randrange(accounts - sellers - bots)
                text = " ".join(r.choices(WORDS, k=r.randint(4, 25)))
                ids = []
                if r.random() < 0.03:
                    text += " https://t.me/telegram instagram.com"
                    ids = [_ident("url", "https://t.me/telegram", "https://t.me/telegram"),
                           _ident("domain", "t.me", "t.me"), _ident("domain", "instagram.com", "instagram.com")]
                score, flagged = 0.02, False
            for ident in ids:  # spans as scan writes them: the contact stands where it is written
                at = text.find(ident["value"])
                ident["span"] = [at, at + len(ident["value"])] if at >= 0 else [-1, -1]
            platform = names[a].split(":", 1)[0]
            rec = {"id": f"{platform}:{n}", "platform": platform, "item_kind": "reply" if reply_to else "post",
                   "author": names[a], "created_at": when.isoformat().replace("+00:00", "Z"), "text": text,
                   "url": None, "reply_to": reply_to, "identifiers": ids, "score": score, "flagged": flagged,
                   "kind": "offer" if flagged else None, "drugs": [], "reasons": [],
                   "account": {"handle": names[a].split(":", 1)[1], "native_id": None, "display_name": None,
                               "bio": None, "created_at": None, "followers": None}}
            fh.write(json.dumps(rec) + "\n")
    return {"networks": sorted(sorted(m) for m in truth.values() if len(m) > 1), "bots": bots}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="Keep the generated data and outputs.")
    args = parser.parse_args()
    if args.accounts < 100 or args.items < args.accounts:
        sys.exit("bench: needs at least 100 accounts and as many items as accounts")
    work = Path(tempfile.mkdtemp(prefix="pw-networks-bench-"))
    try:
        data = work / "scanned.jsonl"
        t = time.perf_counter()
        truth = generate(data, args.items, args.accounts, args.seed)
        print(f"generated {args.items:,} scanned items by {args.accounts:,} accounts in "
              f"{time.perf_counter() - t:.0f}s ({data.stat().st_size / 1e6:,.0f} MB)")
        out = work / "out"
        cmd = [sys.executable, "-m", "plugwatch.cli", "networks", str(data), "--out", str(out), "--graph"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            sys.exit(f"bench: plugwatch networks failed ({proc.returncode}):\n{proc.stderr}")
        print(proc.stderr.strip())
        found = sorted(json.loads(line)["members"] for line in (out / "networks.jsonl").open(encoding="utf-8"))
        bot_net = [m for m in found if len(m) == truth["bots"] and m[0].startswith("x:bot")]
        # a farm larger than the frequency cap loses its network (the shared contact is dropped) but not
        # its campaign
        expect_bot_net = truth["bots"] <= max(50, -(-args.accounts // 1000))
        sellers = [m for m in found if m not in bot_net]
        campaigns = [json.loads(line) for line in (out / "campaigns.jsonl").open(encoding="utf-8")]
        templates = [c for c in campaigns if c["type"] == "template"]
        print(f"seller networks: {len(sellers):,} found, {len(truth['networks']):,} true, "
              f"exactly equal: {sellers == truth['networks']}; bot farm network: {len(bot_net) == 1} "
              f"(expected {expect_bot_net}); "
              f"template campaigns: {len(templates)} (largest {max((c['accounts'] for c in templates), default=0)} "
              f"accounts)")
        print(f"networks: {args.items:,} items, {args.accounts:,} accounts: wall {wall:.1f}s, "
              f"{args.items / wall:,.0f} items/s, peak RSS {max(peak, before) / 1024:,.0f} MB")
        if args.keep:
            print(f"kept {work}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
