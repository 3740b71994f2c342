"""`plugwatch networks`: accounts, seller networks, campaigns and displacement from scanned items."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from plugwatch.commands.common import (
    EXIT_NOTHING,
    RejectWriter,
    check_mapped_columns,
    check_source_options,
    err,
    fail,
    report_networks,
)
from plugwatch.model import RECORD_FIELDS as FIELDS


def _events(values: list[str] | None) -> list[tuple[date, str]]:
    out = []
    for value in values or []:
        day, _, label = value.partition(":")
        try:
            out.append((date.fromisoformat(day.strip()), label.strip() or day.strip()))
        except ValueError:
            fail(f"--event takes DATE:label with an ISO date, e.g. 2025-03-10:ban wave; got {value!r}")
    return out


def networks(
    inputs: Annotated[list[str], typer.Argument(help="Raw exports (any format scan reads) or scan output JSONL.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the outputs.")],
    graph: Annotated[bool, typer.Option("--graph", help="Also write the identity graph as graph.graphml.")] = False,
    period: Annotated[str, typer.Option(help="Displacement period: week or month.")] = "week",
    event: Annotated[
        list[str] | None, typer.Option(help="Mark a date on the plot: DATE:label (e.g. 2025-03-10:ban). Repeatable.")
    ] = None,
    format: Annotated[str | None, typer.Option("--format", "-f", help="Force an input format (as scan).")] = None,
    field: Annotated[list[str] | None, typer.Option(
        "--field", help=f"OURS=THEIRS field map (as scan), OURS one of {', '.join(FIELDS)}.")] = None,
    platform: Annotated[str, typer.Option(help="Platform name for generic files without one.")] = "generic",
    region: Annotated[str | None, typer.Option(help="Default region for national phone numbers.")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Rejected records (default OUT/rejects.jsonl).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Flag items scoring at least this (raw inputs).")] = None,
    model: Annotated[Path | None, typer.Option(help="Model file (default: the shipped one).")] = None,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Score raw inputs with the cheap signals only (no text models).")
    ] = False,
    min_cap: Annotated[int, typer.Option(help="Frequency rule: identifiers on more than max(MIN_CAP, "
                                         "CAP_SHARE x accounts) accounts do not link.")] = 50,
    cap_share: Annotated[float, typer.Option(help="Frequency rule: share of all accounts.")] = 0.001,
    campaign_accounts: Annotated[int, typer.Option(help="Distinct accounts a campaign needs.")] = 5,
    similarity: Annotated[float, typer.Option(help="Estimated Jaccard two campaign texts need (0..1).")] = 0.3,
    bot_replies: Annotated[int, typer.Option(help="Replies an account needs to be a reply bot.")] = 10,
    bot_rate: Annotated[float, typer.Option(help="Replies per day a reply bot needs (when dated).")] = 5.0,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", help="Run on Dask: local (a worker per core), local:N, or tcp://HOST:8786; same outputs.")] = None,
    partition_size: Annotated[str, typer.Option(
        "--partition-size", help="With --cluster: input per partition, e.g. 64MB.")] = "64MB",
) -> None:
    """Account scores, seller networks across platforms, campaigns and bots, and where the trade moves.

    Writes accounts.jsonl, networks.jsonl, campaigns.jsonl, displacement.csv, displacement.png and
    summary.json into OUT (and graph.graphml with --graph)."""
    from plugwatch.detect.lazy import LazyDetector
    from plugwatch.detect.model import ModelError
    from plugwatch.network.campaigns import BotRule
    from plugwatch.network.inputs import RecordReader, drop_byproducts, stale_parts
    from plugwatch.network.pipeline import Settings, analyse, write_outputs
    from plugwatch.sources import SourceOptions

    if period not in ("week", "month"):
        fail(f"--period is week or month, got {period!r}")
    field_map, region = check_source_options(format, field, region, threshold)
    if not 0.0 < similarity <= 1.0:
        fail(f"--similarity must be in (0, 1], got {similarity}")
    if min_cap < 1 or not 0.0 <= cap_share <= 1.0:
        fail("--min-cap must be at least 1 and --cap-share between 0 and 1")
    if campaign_accounts < 2 or bot_replies < 1:
        fail("--campaign-accounts must be at least 2 and --bot-replies at least 1")
    if not bot_rate >= 0:  # also NaN; 0 asks no rate of a reply bot
        fail(f"--bot-rate is replies per day, 0 or more, got {bot_rate}")
    events = _events(event)
    inputs, byproducts = drop_byproducts(inputs)
    if byproducts:
        err.print(f"skipped {len(byproducts)} file(s) a scan leaves beside its output, which hold no posts "
                  f"(rejects files, _SUCCESS): {', '.join(byproducts[:3])}{' ...' if len(byproducts) > 3 else ''}")
    problem = stale_parts(inputs)
    if problem:
        fail(problem)
    check_mapped_columns(inputs, format, field_map)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"cannot create {out}: {e.strerror}")
    reject_path = rejects or out / "rejects.jsonl"
    reject_path.unlink(missing_ok=True)
    settings = Settings(period=period, min_cap=min_cap, cap_share=cap_share, campaign_accounts=campaign_accounts,
                        campaign_threshold=similarity,
                        bots=BotRule(min_replies=bot_replies, min_rate=bot_rate))
    if cluster is not None:
        from plugwatch.commands.cluster_run import networks_on_cluster

        networks_on_cluster(inputs, out, cluster, partition_size, settings, reject_path, graph=graph, events=events,
                            format=format, field_map=field_map, platform=platform, region=region, model=model,
                            threshold=threshold, use_model=not no_model)
        return
    writer = RejectWriter(reject_path)
    own = frozenset(os.path.realpath(p) for p in [reject_path, *out.glob("*")])
    options = SourceOptions(format=format, field_map=field_map, default_platform=platform, keep_raw=False,
                            skip_files=own)
    detector = LazyDetector(model=model, threshold=threshold, use_model=not no_model)  # loaded by the first raw item
    reader = RecordReader(inputs, options, writer, detector, region)
    started = time.perf_counter()
    try:
        result = analyse(reader, settings, reader.texts if reader.rereadable() else None)
    except ModelError as e:
        fail(str(e))
    finally:
        writer.close()
    if result.items == 0:
        err.print(f"nothing could be read ({writer.count} rejected)")
        raise typer.Exit(EXIT_NOTHING)
    try:
        paths = write_outputs(result, out, graphml=graph, events=events)
    except OSError as e:
        fail(f"cannot write to {out}: {e.strerror}")
    templates = sum(c.type == "template" for c in result.campaigns)
    report_networks(started, out, paths, reject_path, items=result.items, scored=reader.scored,
                    prescored=reader.prescored, offers=result.offers, accounts=len(result.table),
                    networks=len(result.graph.networks), templates=templates, bots=len(result.campaigns) - templates,
                    dropped=len(result.graph.dropped), cap=result.graph.cap, rejected=writer.count)


def register(app: typer.Typer) -> None:
    app.command("networks")(networks)
