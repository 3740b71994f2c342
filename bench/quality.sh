#!/usr/bin/env bash
# Reproduces the quality figures in MODEL_CARD.md: the detector and both baselines (a DEA-slang keyword
# filter, TF-IDF character n-grams + logistic regression) on
# (1) the hand-written social-media test set, with evasion,
# (2) short offers and look-alikes under 80 characters,
# (2b) an independent check written by a writer who saw no code, data or test set,
# (3) no-prescription pharmacies next to legitimate pharmacy and medicine text (and an independent set of
#     the same kind: leaflets, pharmacy sites, health talk and news),
# (4) the held-out 20% of the shared proxies (darknet listings, onion paragraphs, Reddit talk),
# (5) posts that name a seller's contact without offering anything (bad-batch alerts, scam reports, news)
#     next to offers that use warning words: a development set and a held-out set,
# (6) every language: English from (1), the others from devdata/v2 (two independent sets for seven),
# (7) everyday posts that name a messaging app or ask for a DM, next to offers that send buyers to one,
# (8) ordinary buy-and-sell posts (fruit, tyres, honey, livestock...) next to drug offers written like them,
# (9) buyers' requests next to offers (a development set and a held-out set), and street-style offers next to
#     ordinary posts using the same words,
# and then every figure the detector-v2 targets name, read from the reports (plugwatch/tools/quality_targets.py).
# Each `plugwatch eval` also groups the detector's errors by slice and by the signals present
# (errors.jsonl in its folder lists each one). No set here is trained on.
# Usage: bash bench/quality.sh [SHARED_DATA_DIR]   (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
out=eval-out
mkdir -p "$out"
# evaluate OUT_SUBDIR HEADING FILE... [eval options]: one set's heading, its `plugwatch eval`, a blank line.
evaluate() {
    local dir=$1 heading=$2
    shift 2
    printf '== %b\n' "$heading"
    plugwatch eval "$@" --data "$data" --out-dir "$out/$dir"
    echo
}
evaluate dev "devdata/test.jsonl (hand-written social-media posts, never trained on)" \
    devdata/test.jsonl --evasion
evaluate short "devdata/v2/test_short.jsonl (offers and look-alikes under 80 characters)" \
    devdata/v2/test_short.jsonl
evaluate fresh "devdata/v2/test3_social.jsonl (an independent check: 240 posts written in one sitting by a writer who saw no\n   code, data or test set; never trained or tuned on)" \
    devdata/v2/test3_social.jsonl
evaluate pharmacy "devdata/v2/test_pharmacy.jsonl (no-prescription pharmacies; legitimate pharmacy and medicine text)" \
    devdata/v2/test_pharmacy.jsonl
evaluate health "devdata/v2/test_health.jsonl (an independent check: leaflets, pharmacy sites, health talk and news, and\n   no-prescription sellers, written by a writer who saw no file of the project; never trained or tuned on)" \
    devdata/v2/test_health.jsonl
evaluate misspelt "devdata/v2/test_misspelt.jsonl (an independent check: offers with misspelt drug names, everyday words one\n   letter from a name, and talk, warnings and requests with misspelt names, by a writer who saw no file of the\n   project; never trained or tuned on)" \
    devdata/v2/test_misspelt.jsonl
echo "== shared proxies, held-out 20%"
plugwatch proxies --data "$data" --part eval -o "$out/proxies-eval.jsonl"
plugwatch eval "$out/proxies-eval.jsonl" --data "$data" --out-dir "$out/proxies"
echo
evaluate dev-warnings "warnings and scam reports naming a seller, development set (used to choose the warning cues)" \
    devdata/dev_warnings.jsonl
evaluate heldout-warnings "warnings and scam reports naming a seller, held-out set (never trained or tuned on)" \
    devdata/heldout_warnings.jsonl
evaluate languages "languages: devdata/test.jsonl and devdata/v2/test_lang_*, test2_lang_* (never trained on)" \
    devdata/test.jsonl devdata/v2/test_lang_*.jsonl devdata/v2/test2_lang_*.jsonl
evaluate contact "devdata/v2/test_contact.jsonl (posts naming a messaging app or asking for a DM; offers redirecting to one;\n   written by a writer who saw no code, data or test set; never trained or tuned on)" \
    devdata/v2/test_contact.jsonl
evaluate market "devdata/v2/test_market.jsonl (ordinary buy-and-sell posts of 20 languages, and drug offers in their style;\n   written by a writer who saw no file of the project; never trained or tuned on)" \
    devdata/v2/test_market.jsonl
evaluate pharmacy-dev "devdata/v2/dev_pharmacy_ml.jsonl (no-prescription sellers and legitimate pharmacy, OTC, patient, warning and news\n   text in 12 languages, by a writer who saw no file of the project; used to check the no-prescription phrases and\n   choose the invitations: a development set)" \
    devdata/v2/dev_pharmacy_ml.jsonl
evaluate requests-dev "devdata/v2/dev_requests.jsonl (buyers' requests and offers in 15 languages, by a writer who saw no file of the\n   project; used to choose the request phrases and conditionals: a development set)" \
    devdata/v2/dev_requests.jsonl
evaluate requests "devdata/v2/test_requests.jsonl (the same kinds by a second writer who saw no file of the project; never\n   trained or tuned on)" \
    devdata/v2/test_requests.jsonl
evaluate street "devdata/v2/test_street.jsonl (short street-style offers, ordinary posts using the same words, requests; 15\n   languages; by a third writer who saw no file of the project; never trained or tuned on)" \
    devdata/v2/test_street.jsonl
echo "== detector-v2 targets (issue 18), plugwatch and both baselines from the runs above"
python -m plugwatch.tools.quality_targets "$out"
