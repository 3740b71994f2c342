"""Live intake: connectors that read platforms' streams into the store through the same scoring
pipeline as ingest, with checkpoints, reconnection, counters and backpressure.

    config.py     [sources.NAME] tables of the site configuration
    buffer.py     events and the bounded buffer between a connector and scoring
    sink.py       events -> items -> scored (fully, or the cheap stage only) -> stored; reports filed
    runner.py     the scoring loop: backpressure, checkpoints, lag, scoring deferred items later
    jetstream.py  Bluesky Jetstream over WebSocket (`websockets`), time cursor
    mastodon.py   Mastodon streaming and admin reports through Mastodon.py
"""
