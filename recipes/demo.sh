#!/usr/bin/env bash
# The main job, end to end on built-in sample data with the tiny offline model (CPU is fine):
# curate (recipes/demo.yaml) -> simulated A/B votes -> preference pairs -> train sft -> dpo.
# Every line is a command you can run yourself. Usage: recipes/demo.sh [OUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-demo_run}"
mkdir -p "$out"
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False
started=$SECONDS

echo "== 1. curate: messy Alpaca sample -> clean SFT conversations (recipes/demo.yaml)"
curate run "$here/demo.yaml" -o "$out/curate"
curate report "$out/curate" -o "$out/curate_report.html"

echo "== 2. label: seeded SIMULATED votes (not people) on the A/B items, preference pairs"
rm -f "$out/labels.sqlite"*
label import "$out/curate/items.jsonl" -d "$out/labels.sqlite" --overlap 3
label simulate -d "$out/labels.sqlite" --labelers 5 --seed 0 --policy quality --accuracy 0.85
# Simulated votes are left out of exports and reports unless asked for: here they are the point.
label export -d "$out/labels.sqlite" -o "$out/prefs.jsonl" --format dpo --min-agreement 0.6 \
  --include-simulated
label report -d "$out/labels.sqlite" -o "$out/label_report.html" --include-simulated

echo "== 3. train: SFT on the curated conversations, then DPO on the exported pairs"
train sft --data "$out/curate/sft.jsonl" --model tiny -o "$out/sft" --max-steps 40 --batch-size 16 \
  --lr 3e-3 --overwrite
train dpo --data "$out/prefs.jsonl" --model "$out/sft" -o "$out/dpo" --max-steps 30 \
  --batch-size 8 --overwrite

cat <<EOF

Done in $((SECONDS - started)) s. Everything is under $out/:
  curation report   $out/curate_report.html   (run dir $out/curate: sft.jsonl, items.jsonl)
  labeling report   $out/label_report.html    (votes are simulated: users sim-01..sim-05)
  preference pairs  $out/prefs.jsonl
  SFT model         $out/sft    (summary.json, loss.png)
  DPO model         $out/dpo    (summary.json, loss.png, rewards.png)
Open the labeling app on the demo items (single-user, no login):
  .venv/bin/label serve -d $out/labels.sqlite --open
EOF
