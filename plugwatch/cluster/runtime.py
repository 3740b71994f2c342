"""Connecting to a Dask cluster, and what each worker process keeps between tasks.

`--cluster local` starts a cluster on this machine with one single-threaded worker process per core
(`local:N`: N workers); `--cluster tcp://HOST:8786` joins a running scheduler (`dask scheduler` on one
machine, `dask worker tcp://HOST:8786 --nthreads 1` on the others). Inputs and the output folder must be
at the same path on every machine (a shared file system).
"""

from __future__ import annotations

import os
import threading

from plugwatch.errors import UserError

MISSING = ("--cluster needs dask, distributed and pyarrow: pip install 'plugwatch[cluster]'")


def parse_cluster(spec: str) -> tuple[str, int | str]:
    """("local", workers) or ("remote", address); UserError for anything else."""
    if spec == "local" or spec.startswith("local:"):
        _, _, n = spec.partition(":")
        if not n:
            return "local", os.cpu_count() or 1
        if not n.isdigit() or int(n) < 1:
            raise UserError(f"--cluster local:N takes a number of workers of 1 or more, got {spec!r}")
        return "local", int(n)
    if spec.startswith(("tcp://", "tls://")) and len(spec) > 6:
        return "remote", spec
    raise UserError(f"--cluster is local, local:N or a scheduler address such as tcp://HOST:8786, got {spec!r}")


CONNECT_TIMEOUT = 5.0  # seconds: a scheduler that does not answer a TCP connect by then is not there


def reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """UserError unless a TCP connection to the scheduler at `address` (tcp:// or tls://HOST:PORT) opens
    within `timeout` seconds: Dask's client would otherwise retry for its whole 30 s timeout before
    saying the same."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(address)
        host, port = parts.hostname, parts.port or 8786
    except ValueError as e:
        raise UserError(f"--cluster {address!r} is not a scheduler address such as tcp://HOST:8786: {e}") from None
    if not host:
        raise UserError(f"--cluster {address!r} is not a scheduler address such as tcp://HOST:8786")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        why = "no answer" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise UserError(f"cannot reach the Dask scheduler at {address}: {why} (within {timeout:g} s); is "
                        f"`dask scheduler` running there and port {port} open?") from None
    _answers_as_scheduler(address, port, timeout)


def _answers_as_scheduler(address: str, port: int, timeout: float) -> None:
    """UserError unless what accepted the connection completes Dask's handshake within `timeout` seconds.
    Dask's client waits for that answer without any time limit, so a port where something else listens
    (the dashboard's 8787, a web server, a silent service) would hang the command for ever."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    async def probe() -> None:
        comm = await connect(address, timeout=timeout, **Security().get_connection_args("client"))
        await comm.close()

    try:
        asyncio.run(asyncio.wait_for(probe(), timeout))
    except TimeoutError:
        raise UserError(f"{address} accepted a connection but did not answer as a Dask scheduler within "
                        f"{timeout:g} s; is port {port} the scheduler's (8786 by default; 8787 is its "
                        "dashboard)?") from None
    except Exception as e:  # noqa: BLE001 - whatever a server that is not Dask's says, or how it hangs up
        raise UserError(f"{address} did not answer as a Dask scheduler: {type(e).__name__}: {e}") from None


class Cluster:
    """A client on the cluster `spec` names (and the local cluster it started, closed with it)."""

    def __init__(self, spec: str, dashboard: str | None = ":8787"):
        kind, where = parse_cluster(spec)
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserError(MISSING) from None
        import logging

        logging.getLogger("distributed").setLevel(logging.ERROR)
        self.local = None
        if kind == "local":
            # One thread per worker process: the detector's caches are not made for concurrent batches,
            # and the model's numpy work is pinned to one thread per worker.
            self.local = LocalCluster(n_workers=int(where), threads_per_worker=1, processes=True,
                                      dashboard_address=dashboard, silence_logs=logging.ERROR,
                                      env={k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                            "MKL_NUM_THREADS")})
            self.client = Client(self.local)
        else:
            reachable(str(where))
            try:
                self.client = Client(str(where), timeout="30s")
            except OSError as e:
                raise UserError(f"cannot reach the Dask scheduler at {where}: {e}") from None
            except Exception as e:  # noqa: BLE001 - something answered that is not a Dask scheduler
                raise UserError(f"{where} did not answer as a Dask scheduler: {type(e).__name__}: {e}") from None

    @property
    def dashboard(self) -> str | None:
        try:
            return self.client.dashboard_link
        except Exception:  # noqa: BLE001 - no dashboard (bokeh missing): progress still shows here
            return None

    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- per worker process ------------------------------------------------------------------------------
_detectors: dict[tuple, object] = {}
_lock = threading.Lock()


def detector(model: str | None, threshold: float | None, use_model: bool):
    """The detector for these settings, loaded once per worker process (on its first batch) and reused
    by every task that process runs."""
    from pathlib import Path

    from plugwatch.detect.lazy import LazyDetector

    key = (model, threshold, use_model)
    with _lock:
        found = _detectors.get(key)
        if found is None:
            found = _detectors[key] = LazyDetector(model=Path(model) if model else None, threshold=threshold,
                                                   use_model=use_model)
    return found


_pictures: dict[tuple, tuple] = {}


def image_detector(base, read_pictures: bool, banks: tuple[str, ...], cache: str | None, region: str | None):
    """`base` with the image channel around it (pictures hashed, read by OCR, matched against `banks`), as
    `scan` without --cluster has it. The picture reader (its OCR models and cache) and the banks are kept
    per worker process; the channel itself is new per partition."""
    from pathlib import Path

    from plugwatch.cluster.plan import stamp
    from plugwatch.images.bank import load_bank
    from plugwatch.images.channel import ImageDetector
    from plugwatch.images.ocr import PictureReader

    key = (read_pictures, cache, tuple((b, stamp(b)) for b in banks))
    with _lock:
        found = _pictures.get(key)
        if found is None:
            reader = PictureReader(ocr=read_pictures, cache_dir=Path(cache) if cache else None)
            found = _pictures[key] = (reader, tuple(load_bank(Path(b))[0] for b in banks))
    reader, loaded = found
    return ImageDetector(base, reader, loaded, region=region)
