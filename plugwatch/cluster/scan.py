"""`plugwatch scan --cluster`: each partition scored on a worker and written as its own file.

OUT/ holds, per partition, `part-00000.jsonl` (or `.parquet`), `part-00000.rejects.jsonl` when it
rejected something, and `.parts/part-00000.json`, the partition's commit record (what it read, with
which settings, its counts and the SHA-256 of its files). Files are written under temporary names and
renamed when whole, the commit record last, so a worker lost mid-partition leaves nothing that looks
done: Dask runs the partition again elsewhere. `_SUCCESS` (JSON) lists every partition, its counts and
digests once all are done. A second run with the same inputs and settings skips the partitions whose
commit record and files check out, and scans the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from plugwatch.cluster import runtime
from plugwatch.cluster.plan import (
    TARGET,
    Part,
    ReadJob,
    group_small,
    input_files,
    needs_planning,
    plan_file,
    stamp,
)
from plugwatch.errors import UserError
from plugwatch.sources import SourceOptions
from plugwatch.sources.run_files import (
    PARTS,
    REJECTS_SUFFIX,
    SUCCESS,
    part_data_format,
    part_index,
    part_name,
)


@dataclass(frozen=True, kw_only=True)
class ScanJob(ReadJob):
    out: str
    out_format: str = "jsonl"  # jsonl | parquet
    # The pictures, as `scan` reads them without --cluster (README, Pictures): hashed and read by OCR
    # (`images`), matched against the banks at these paths, relative media paths resolved under media_dir.
    images: bool = False
    media_dir: str | None = None
    banks: tuple[str, ...] = ()
    image_cache: str | None = None

    def options(self) -> SourceOptions:
        return replace(super().options(), media_dir=self.media_dir)

    def fingerprint(self) -> str:
        """What decides a partition's output, besides its input: a change means scanning again."""
        # the picture cache only saves time: a different one gives the same output
        settings = {k: v for k, v in asdict(self).items() if k not in ("out", "image_cache")}
        if self.model:
            settings["model_stamp"] = stamp(self.model)
        if self.banks:
            settings["bank_stamps"] = [stamp(b) for b in self.banks]
        return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def _digest(path: Path) -> dict[str, Any]:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return {"bytes": path.stat().st_size, "sha256": h.hexdigest()}


def scan_part(index: int, part: dict, job: ScanJob, fingerprint: str) -> dict[str, Any]:
    """Score one partition and commit its files; returns its commit record. Runs on a worker."""
    from plugwatch.scan import reject_record, run_scan

    out = Path(job.out)
    name = part_name(index)
    token = uuid.uuid4().hex[:10]
    data_name = f"{name}.{job.out_format}"
    reject_name = name + REJECTS_SUFFIX
    data_tmp, reject_tmp = out / f".{data_name}.{token}.tmp", out / f".{reject_name}.{token}.tmp"
    detector = runtime.detector(job.model, job.threshold, True) if job.use_model else None
    if (job.images and detector is not None) or job.banks:  # as scan without --cluster does
        detector = runtime.image_detector(detector, job.images, job.banks, job.image_cache, job.region)
    rejects: list = []  # the file is opened on the first reject

    def on_reject(rej) -> None:
        if not rejects:
            rejects.append(reject_tmp.open("w", encoding="utf-8"))
        rejects[0].write(json.dumps(reject_record(rej), ensure_ascii=False) + "\n")

    stream = Part.from_dict(part).read(job.options())
    try:
        if job.out_format == "parquet":
            from plugwatch.sources.parquet import ScanParquetWriter

            writer = ScanParquetWriter(data_tmp)
            try:
                stats = run_scan(stream, None, on_reject, detector, job.region, write_record=writer.write)
            finally:
                writer.close()
        else:
            with data_tmp.open("w", encoding="utf-8") as fh:
                stats = run_scan(stream, fh, on_reject, detector, job.region)
    finally:
        if rejects:
            rejects[0].close()
    files = {data_name: _digest(data_tmp)}
    os.replace(data_tmp, out / data_name)
    if rejects:
        files[reject_name] = _digest(reject_tmp)
        os.replace(reject_tmp, out / reject_name)
    else:
        (out / reject_name).unlink(missing_ok=True)
    record = {
        "partition": name,
        "input": part,
        "job": fingerprint,
        "counts": {"read": stats.read, "rejected": stats.rejected, "flagged": stats.flagged,
                   "requests": stats.requests},
        "reject_reasons": stats.reject_reasons,
        "files": files,
    }
    marker = out / PARTS / f"{name}.json"
    tmp = marker.with_name(f".{name}.{token}.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, marker)
    return record


def plan(inputs: list[str], options: SourceOptions, out_dir: str, client, target: int = TARGET) -> list[Part]:
    """The partitions of `inputs`, in input order (files under `out_dir`, the command's own output, are
    not read); large files are looked into on the cluster."""
    out = os.path.realpath(out_dir)
    own = frozenset(os.path.realpath(p) for p in Path(out).rglob("*")) if os.path.isdir(out) else frozenset()
    entries = [(path, problem, stamp(path)) for path, problem in input_files(inputs, own)]
    big = {path for path, problem, st in entries if not problem and needs_planning(path, st[0], target)}
    futures = {path: client.submit(plan_file, path, options, target, pure=False, retries=3) for path in big}
    planned = {path: f.result() for path, f in futures.items()}
    parts: list[Part] = []
    run: list = []
    for entry in entries:
        if entry[0] in planned and not entry[1]:
            parts.extend(group_small(run, target))
            run = []
            parts.extend(planned[entry[0]])
        else:
            run.append(entry)
    parts.extend(group_small(run, target))
    return parts


def committed(out: Path, index: int, part: Part, fingerprint: str) -> dict[str, Any] | None:
    """The commit record of partition `index` when it is for this input and these settings and its files
    are there with the recorded digests; None when the partition must be scanned (again)."""
    marker = out / PARTS / f"{part_name(index)}.json"
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("input") != part.to_dict() or record.get("job") != fingerprint:
        return None
    if any(stamp(p) != tuple(s) for p, s in zip(part.paths, part.stamps, strict=False)):
        return None  # the input changed since it was planned
    for fname, digest in record.get("files", {}).items():
        path = out / fname
        if not path.is_file() or path.stat().st_size != digest["bytes"] or _digest(path) != digest:
            return None
    return record


@dataclass
class ClusterScan:
    partitions: int = 0
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"read": 0, "rejected": 0, "flagged": 0, "requests": 0})
    reject_files: list[str] = field(default_factory=list)


def _clean(out: Path, keep: int, out_format: str) -> None:
    """Remove files of partitions beyond this plan, data files of the other output format (an earlier
    run's `part-00000.jsonl` beside this run's `part-00000.parquet` would be read twice) and temporary
    files of lost attempts: the folder holds only this run's partitions."""
    for path in list(out.iterdir()) + list((out / PARTS).iterdir()):
        name = path.name
        index = part_index(name)
        if name.startswith(".part-") and name.endswith(".tmp"):
            path.unlink(missing_ok=True)
        elif index is not None and index >= keep:
            path.unlink(missing_ok=True)
        elif path.parent == out and part_data_format(name) not in (None, out_format):
            path.unlink(missing_ok=True)


def check_out_folder(out: Path) -> None:
    """UserError unless `out` can be the output folder: absent, empty, or an earlier cluster scan's."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file: with --cluster it names a folder for the partition files")
    if out.is_dir() and not (out / PARTS).is_dir() and not (out / SUCCESS).exists() and any(out.iterdir()):
        # A run removes the part-* files of its folder that are not its own: in a folder of the user's
        # (a Spark export's part-00000.parquet, the inputs themselves) those are the user's data.
        raise UserError(f"-o {out} already holds files and is not a cluster scan's output folder (it has no "
                        f"{PARTS}/ or {SUCCESS}): a cluster scan removes the part-* files of its folder that are "
                        "not its own; name a new or empty folder")


def run(inputs: list[str], job: ScanJob, cluster: runtime.Cluster, target: int = TARGET,
        on_start: Callable[[int, int], None] | None = None,
        on_done: Callable[[dict], None] | None = None) -> ClusterScan:
    out = Path(job.out)
    check_out_folder(out)
    try:
        (out / PARTS).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create {out}: {e.strerror}") from None
    (out / SUCCESS).unlink(missing_ok=True)
    client = cluster.client
    parts = plan(inputs, job.options(), job.out, client, target)
    fingerprint = job.fingerprint()
    _clean(out, len(parts), job.out_format)
    records: list[dict | None] = [committed(out, i, p, fingerprint) for i, p in enumerate(parts)]
    todo = [i for i, r in enumerate(records) if r is None]
    result = ClusterScan(partitions=len(parts), skipped=len(parts) - len(todo))
    if on_start is not None:
        on_start(len(parts), len(todo))
    run_id = uuid.uuid4().hex[:8]
    futures = {client.submit(scan_part, i, parts[i].to_dict(), job, fingerprint, key=f"scan-{part_name(i)}-{run_id}",
                             retries=3, pure=False): i for i in todo}
    from distributed import as_completed

    failures = []
    for future in as_completed(futures):
        i = futures.pop(future)
        try:
            records[i] = future.result()
        except Exception as e:  # noqa: BLE001 - reported per partition below; the others go on
            failures.append(f"{part_name(i)} ({parts[i].describe()}): {type(e).__name__}: {e}")
            continue
        finally:
            # Let go of the result: a key still wanted is computed again when the worker holding it
            # dies, and that late attempt would write files after the final clean-up below.
            future.release()
        if on_done is not None:
            on_done(records[i])
    if failures:
        raise PartitionsFailed(failures)
    for record in records:
        for k in result.counts:
            result.counts[k] += record["counts"][k]
        result.reject_files += [f for f in record["files"] if f.endswith(REJECTS_SUFFIX)]
    manifest = {
        "format": job.out_format,
        "settings": {k: v for k, v in asdict(job).items() if k != "out"},
        "totals": {**result.counts, "partitions": len(parts)},
        "partitions": records,
    }
    _clean(out, len(parts), job.out_format)  # temporary files of attempts lost with their worker
    tmp = out / f".{SUCCESS}.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, out / SUCCESS)
    return result


class PartitionsFailed(Exception):
    def __init__(self, failures: list[str]):
        super().__init__(f"{len(failures)} partitions failed after retries")
        self.failures = failures
