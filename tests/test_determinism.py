"""The same post gives the same record in every process: nothing may depend on the order of a set of
strings, which Python's hash seed changes per process (cluster workers are separate processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A phrase listed under two cues ("need a plug": invitation and request): the order of their reasons
# once followed a set's order, and differed between hash seeds 3 and 4.
POST = '{"id": "1", "text": "anyone know if wickr frostyice is legit?? where can i buy xanax near me, need a plug"}\n'


def scan_with_seed(tmp_path: Path, seed: int) -> str:
    src = tmp_path / "post.jsonl"
    src.write_text(POST, encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": str(seed),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", str(src)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=True)
    return proc.stdout


def test_a_scan_is_the_same_whatever_the_hash_seed(tmp_path):
    first = scan_with_seed(tmp_path, 3)
    assert "need a plug" in first
    assert all(scan_with_seed(tmp_path, seed) == first for seed in (4, 5, 6))
