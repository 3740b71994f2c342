"""`scan` and `networks` on a Dask cluster (dask.distributed): inputs cut into partitions, each scored or
aggregated on a worker, results the same as on one machine.

- `plan`: partitions (groups of small files, line ranges of large JSON-lines files, runs of gzip members,
  runs of Parquet row groups), each readable alone with the real line numbers of its records;
- `runtime`: connecting to a cluster (`local`, `local:N`, `tcp://HOST:PORT`) and the detector each worker
  process loads once;
- `scan`: one output file per partition, rejects beside it, a `_SUCCESS` manifest, resume;
- `networks`: per-partition aggregates, shuffled by account and by LSH bucket, then the same networks and
  campaigns as `plugwatch.network.pipeline.analyse`.

Needs `pip install 'plugwatch[cluster]'` (dask, distributed, pyarrow).
"""
