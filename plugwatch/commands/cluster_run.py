"""What `scan --cluster` and `networks --cluster` share on the terminal: sizes, the cluster, progress."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape

from plugwatch.commands.common import EXIT_NOTHING, EXIT_REJECTS, UserError, err, fail, report_networks

_UNITS = {"": 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}


def parse_size(text: str) -> int:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", text.upper())
    if not found or float(found.group(1)) <= 0:
        fail(f"--partition-size takes a size such as 64MB, 500KB or 1GB, got {text!r}")
    unit = found.group(2) if found.group(2) in _UNITS else found.group(2) + "B"
    return max(1, int(float(found.group(1)) * _UNITS[unit]))


@contextmanager
def open_cluster(spec: str):
    from plugwatch.cluster.runtime import Cluster

    try:
        cluster = Cluster(spec)
    except UserError as e:
        fail(str(e))
    try:
        n = cluster.workers()
        board = cluster.dashboard
        err.print(f"cluster: {n} workers" + (f", dashboard {board}" if board else ""))
        yield cluster
    finally:
        cluster.close()


@contextmanager
def partition_progress():
    """(on_start(total, todo), on_done(record)): a progress bar on a terminal, silence otherwise."""
    if not err.is_terminal:
        yield (lambda total, todo: None), (lambda record: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("partitions"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[items]:,} items"),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task("partitions", total=None, items=0)
        items = [0]

        def start(total: int, todo: int) -> None:
            progress.update(task, total=todo)

        def done(record: dict) -> None:
            items[0] += record.get("counts", {}).get("read", record.get("items", 0))
            progress.update(task, advance=1, items=items[0])

        yield start, done


def scan_on_cluster(inputs: list[str], out: Path | None, spec: str, partition_size: str, **settings) -> None:
    from plugwatch.cluster.scan import PartitionsFailed, ScanJob, check_out_folder, run
    from plugwatch.sources.run_files import SUCCESS

    if out is None:
        fail("--cluster needs -o OUTDIR: a folder for the partition files")
    if "-" in inputs:
        fail("--cluster reads files and folders, not standard input (-)")
    target = parse_size(partition_size)
    try:
        check_out_folder(out)  # before a cluster is started or joined
    except UserError as e:
        fail(str(e))
    job = ScanJob(out=str(out), out_format=settings["out_format"], keep_raw=settings["keep_raw"],
                  images=settings["images"], media_dir=settings["media_dir"], banks=settings["banks"],
                  image_cache=settings["image_cache"], **ScanJob.fields_from(settings))
    started = time.perf_counter()
    with open_cluster(spec) as cluster, partition_progress() as (on_start, on_done):
        try:
            result = run(inputs, job, cluster, target, on_start=on_start, on_done=on_done)
        except UserError as e:
            fail(str(e))
        except PartitionsFailed as e:
            for line in e.failures[:10]:
                err.print(f"[bold red]failed[/] {escape(line)}")
            fail(f"{len(e.failures)} partitions failed after retries; run the same command again to retry "
                 "them (complete partitions are kept)", code=1)
    secs = time.perf_counter() - started
    c = result.counts
    if result.partitions and result.skipped == result.partitions:
        # nothing was scanned in this run: a rate would be the earlier run's items over this run's time
        speed = "every partition already complete: nothing scanned again"
    else:
        speed = f"{c['read'] / secs if secs > 0 else 0:,.0f} items/s"
    err.print(f"items read: {c['read']}  rejected: {c['rejected']}  flagged: {c['flagged']}  "
              f"requests: {c['requests']}  ({speed})")
    err.print(f"partitions: {result.partitions} ({result.skipped} already complete, skipped); "
              f"manifest {out / SUCCESS}")
    if c["rejected"]:
        err.print(f"rejected records written to {out}/part-*.rejects.jsonl ({len(result.reject_files)} files)")
    if c["read"] == 0:
        raise typer.Exit(EXIT_NOTHING)
    if c["rejected"]:
        raise typer.Exit(EXIT_REJECTS)


def networks_on_cluster(inputs: list[str], out: Path, spec: str, partition_size: str, settings, reject_path: Path,
                        graph: bool, events, **source) -> None:
    from plugwatch.cluster.networks import NetJob, run
    from plugwatch.detect.model import ModelError

    if "-" in inputs:
        fail("--cluster reads files and folders, not standard input (-)")
    target = parse_size(partition_size)
    if source["model"] is not None and source["use_model"]:
        from plugwatch.commands.common import load_detector

        load_detector(source["model"], source["threshold"])  # an unreadable model file is exit 2 here, once
    job = NetJob(out=str(out), settings=settings, **NetJob.fields_from(source))
    started = time.perf_counter()
    with open_cluster(spec) as cluster, partition_progress() as (on_start, on_done):
        try:
            result = run(inputs, job, cluster, reject_path, target, graphml=graph, events=events,
                         on_start=on_start, on_done=on_done)
        except ModelError as e:
            fail(str(e))
        except OSError as e:
            fail(f"cannot write to {out}: {e.strerror}")
    if result.items == 0:
        err.print(f"nothing could be read ({result.rejected} rejected)")
        raise typer.Exit(EXIT_NOTHING)
    report_networks(started, out, result.paths, reject_path, items=result.items, scored=result.scored,
                    prescored=result.prescored, offers=result.offers, accounts=result.accounts,
                    networks=result.networks, templates=result.templates, bots=result.bots, dropped=result.dropped,
                    cap=result.cap, rejected=result.rejected)
