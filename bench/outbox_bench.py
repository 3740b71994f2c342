"""Decisions through the transactional outbox to a local fake platform: deliveries per second and the
delay from decision to delivery.

Starts a fake platform (a webhook receiver that checks the HMAC signature and applies each
Idempotency-Key once) as its own process on a free loopback port, stores N flagged items in a fresh
SQLite file (or --db), starts `plugwatch worker run` as its own process, and then decides the items
one by one, each in its own transaction (claim, decide: strike, evidence freeze, notice, outbox row,
statement of reasons), as reviewers would, while the worker delivers. Prints the decision rate, the
delivery rate over the run (first decision to last delivery), the delay from decision to delivery
(p50, p95, max), and checks that every decision's effect was applied exactly once.

    python3 bench/outbox_bench.py                     # 10,000 decisions, SQLite
    python3 bench/outbox_bench.py --decisions 2000
    python3 bench/outbox_bench.py --db postgresql://postgres:plugwatch@127.0.0.1/bench --workers 2
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-webhook-secret-0f6c"


def serve_platform(port: int) -> None:
    """The fake platform (run with --serve PORT)."""
    import uvicorn
    from fastapi import FastAPI, Request, Response

    from plugwatch.enforce.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

    app, applied = FastAPI(), {}

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        raw = await request.body()
        if not verify(SECRET, request.headers[TIMESTAMP_HEADER], raw, request.headers[SIGNATURE_HEADER]):
            return Response("bad signature", 401)
        key = request.headers["idempotency-key"]
        applied[key] = applied.get(key, 0) + (0 if key in applied else 1)
        return Response("{}", 200, media_type="application/json")

    @app.get("/applied")
    def count() -> dict:
        return {"keys": len(applied), "max_per_key": max(applied.values(), default=0)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def records(n: int) -> list[dict]:
    return [{"id": f"x:{i}", "platform": "x", "item_kind": "post", "author": f"x:seller{i % 997}",
             "created_at": "2025-03-02T10:00:00+00:00", "text": f"mdma and pills, wickr plug{i}", "url": None,
             "reply_to": None, "identifiers": [], "score": 0.9, "flagged": True, "kind": "offer", "drugs": ["mdma"],
             "reasons": [{"signal": "drug_terms", "meaning": "names a drug", "text": "mdma", "span": [0, 4]}],
             "account": {"handle": f"seller{i % 997}", "native_id": str(i % 997), "display_name": None, "bio": None,
                         "created_at": None, "followers": None}} for i in range(n)]


def main() -> None:
    import faulthandler

    faulthandler.dump_traceback_later(int(os.environ.get("PW_BENCH_STACKS", "0")) or 10**6, exit=False)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decisions", type=int, default=10_000)
    ap.add_argument("--db", help="database URL (default: a new SQLite file in a temporary folder)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve_platform(args.serve)
        return
    sys.path.insert(0, str(ROOT))
    import httpx
    from sqlalchemy import select

    from plugwatch import wiring
    from plugwatch.store import review, users
    from plugwatch.store.enforcement_tables import PlatformEffect
    from plugwatch.store.schema import Decision

    tmp = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    db = args.db or f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PW_BENCH_SECRET": SECRET, "PLUGWATCH_KEY_DIR": str(tmp / "keys"),
           "PLUGWATCH_CONFIG": str(tmp / "site.toml")}
    os.environ.update({k: env[k] for k in ("PW_BENCH_SECRET", "PLUGWATCH_KEY_DIR", "PLUGWATCH_CONFIG")})
    with socket_port() as port:
        pass
    (tmp / "site.toml").write_text(f'[backends.platform]\nkind = "webhook"\nurl = "http://127.0.0.1:{port}/hook"\n'
                                   'secret = { env = "PW_BENCH_SECRET" }\n', encoding="utf-8")
    platform = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env)
    store = wiring.open_store(db)
    with store.session() as s:
        review.ingest_records(s, records(args.decisions))
        lead = users.add_user(s, "bench-lead", "lead")[0]
    workers = [subprocess.Popen([sys.executable, "-m", "plugwatch.cli", "worker", "run", "--db", db, "--poll", "0.05",
                                 "--batch", "50"], env=env, stderr=subprocess.DEVNULL) for _ in range(args.workers)]
    try:
        start = time.monotonic()
        for i in range(args.decisions):
            with store.session() as s:
                review.claim(s, lead, f"x:{i}")
                review.decide(s, lead, f"x:{i}", "remove", "drug_sale")
        decided = time.monotonic() - start
        while True:
            with store.session() as s:
                left = s.query(PlatformEffect).filter(PlatformEffect.state.in_(("pending", "sending", "failed"))).count()
            if not left:
                break
            time.sleep(0.1)
        total = time.monotonic() - start
        applied = httpx.get(f"http://127.0.0.1:{port}/applied").json()
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(30)
        platform.terminate()
        platform.wait(10)
    with store.session() as s:
        rows = s.execute(select(Decision.created_at, PlatformEffect.delivered_at)
                         .join(PlatformEffect, PlatformEffect.decision_id == Decision.id)
                         .where(PlatformEffect.state == "delivered")).all()
    delays = sorted((d - c).total_seconds() for c, d in rows)
    p95 = delays[int(0.95 * (len(delays) - 1))]
    print(json.dumps({"decisions": args.decisions, "delivered": len(delays), "database": store.dialect, "workers": args.workers,
                      "decisions_per_s": round(args.decisions / decided, 1),
                      "deliveries_per_s": round(len(delays) / total, 1),
                      "delay_p50_s": round(statistics.median(delays), 3), "delay_p95_s": round(p95, 3),
                      "delay_max_s": round(delays[-1], 3),
                      "applied_once": applied["keys"] == args.decisions and applied["max_per_key"] == 1}, indent=2))
    store.dispose()


class socket_port:
    """A free loopback port."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc) -> None:
        return None


if __name__ == "__main__":
    main()
