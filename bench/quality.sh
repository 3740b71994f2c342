#!/usr/bin/env bash
# Reproduces the quality figures in MODEL_CARD.md: the detector and both baselines on
# (1) the hand-written social-media test set, with evasion and per-language recall, and
# (2) the held-out 20% of the shared proxies (darknet listings, onion paragraphs, Reddit talk), and
# (3) posts that name a seller's contact without offering anything (bad-batch alerts, scam reports, news)
#     next to offers that use warning words: a development set and a held-out set.
# Usage: bash bench/quality.sh [SHARED_DATA_DIR]   (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
out=eval-out
mkdir -p "$out"
echo "== devdata/test.jsonl (hand-written social-media posts, never trained on)"
plugwatch eval devdata/test.jsonl --data "$data" --evasion --out-dir "$out/dev"
echo
echo "== shared proxies, held-out 20%"
plugwatch proxies --data "$data" --part eval -o "$out/proxies-eval.jsonl"
plugwatch eval "$out/proxies-eval.jsonl" --data "$data" --out-dir "$out/proxies"
echo
echo "== warnings and scam reports naming a seller, development set (used to choose the warning cues)"
plugwatch eval devdata/dev_warnings.jsonl --data "$data" --out-dir "$out/dev-warnings"
echo
echo "== warnings and scam reports naming a seller, held-out set (never trained or tuned on)"
plugwatch eval devdata/heldout_warnings.jsonl --data "$data" --out-dir "$out/heldout-warnings"
