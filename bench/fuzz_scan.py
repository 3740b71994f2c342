"""Fuzz `plugwatch scan` with N mutated exports (default 10,000) and count its exit codes.

Each case is a seed from examples/ or tests/fixtures/sources/ with a few random edits (byte flips, cuts,
NUL, CR, lone surrogates, invalid UTF-8, huge fields, deep nesting) and maybe a whole-file change (UTF-16,
Latin-1, gzip, corrupt gzip): see tests/fuzz_inputs.py. Cases run through the real command line app
in-process (typer's CliRunner), so 10,000 take minutes rather than the hours 10,000 processes would;
the detector is loaded once and reused (the model file is the same for every case). Exit 1, or any
exception that escapes, is a crash: its input is saved to --save (default fuzz-crashes/) for
tests/fuzz_corpus/.

    python3 bench/fuzz_scan.py                       # 10,000 cases, seed 1, with the model
    python3 bench/fuzz_scan.py -n 2000 --seed 7 --no-model
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

import plugwatch.commands.scan as scan_command  # noqa: E402
from plugwatch.cli import app  # noqa: E402
from tests.fuzz_inputs import load_seeds, random_case  # noqa: E402


def reuse_detector() -> None:
    """Load the model once: every case would load the same file again."""
    load = scan_command.load_detector
    cache: dict = {}

    def cached(model, threshold, no_model=False):
        key = (model, threshold, no_model)
        if key not in cache:
            cache[key] = load(model, threshold, no_model)
        return cache[key]

    scan_command.load_detector = cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="how many mutated inputs")
    parser.add_argument("--seed", type=int, default=1, help="random seed (the same seed gives the same cases)")
    parser.add_argument("--no-model", action="store_true", help="identifiers only (faster)")
    parser.add_argument("--save", type=Path, default=Path("fuzz-crashes"), help="folder for inputs that crashed")
    args = parser.parse_args()
    reuse_detector()
    rng = random.Random(args.seed)
    seeds = load_seeds()
    runner = CliRunner()
    codes: collections.Counter[int] = collections.Counter()
    crashes = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(args.n):
            name, content = random_case(rng, seeds)
            path = Path(tmp) / f"{case}-{name}"
            path.write_bytes(content)
            extra = ["--no-model"] if args.no_model else []
            result = runner.invoke(app, ["scan", str(path), "-o", str(Path(tmp) / "out.jsonl"), *extra])
            escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
            code = 1 if escaped else result.exit_code
            codes[code] += 1
            if code == 1:
                crashes += 1
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"crash-{args.seed}-{case}-{name}").write_bytes(content)
                if crashes <= 5 and result.exc_info:
                    traceback.print_exception(*result.exc_info, limit=4)
            path.unlink()
            if (case + 1) % 1000 == 0:
                print(f"  {case + 1:,} cases, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    took = time.perf_counter() - started
    print(f"{args.n:,} mutated inputs ({'--no-model' if args.no_model else 'with the model'}, seed {args.seed}) "
          f"in {took:.0f} s")
    for code in sorted(codes):
        print(f"  exit {code}: {codes[code]:,}")
    if crashes:
        print(f"{crashes} crashing inputs saved to {args.save}/")
        sys.exit(1)


if __name__ == "__main__":
    main()
