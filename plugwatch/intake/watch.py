"""`plugwatch watch SOURCE`: one connector and its scoring loop, until stopped (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading

from plugwatch.intake.config import SourceConfig
from plugwatch.intake.runner import Runner

log = logging.getLogger(__name__)


def connector(cfg: SourceConfig, runner: Runner, store):
    """The connector for `cfg`, resuming from the checkpoint in the store."""
    cursor = runner.cursor()
    if cfg.kind == "jetstream":
        from plugwatch.intake.jetstream import Jetstream

        return Jetstream(cfg, runner, cursor)
    from plugwatch.intake.mastodon import MastodonConnector

    return MastodonConnector(cfg, runner, store, cursor)


def run_connector(conn) -> None:
    if asyncio.iscoroutinefunction(conn.run):
        asyncio.run(conn.run())
    else:
        conn.run()


def watch(store, detector, cfg: SourceConfig, stop: threading.Event | None = None, handle_signals: bool = False) -> Runner:
    """Read `cfg`'s stream into `store` until `stop` is set (or a signal comes); what was read is
    scored and stored before returning."""
    runner = Runner(store, detector, cfg)
    if stop is not None:
        runner.stop = stop
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: runner.stop.set())
    scoring = runner.start()
    try:
        run_connector(connector(cfg, runner, store))
    finally:
        runner.stop.set()
        scoring.join()
    return runner
