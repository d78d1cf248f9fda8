#!/usr/bin/env bash
# Reasoning RL with verifiable rewards, end to end on built-in sample data (CPU is fine):
# s1-style selection of math problems (recipes/s1_math_selection.yaml) -> SFT on their worked
# solutions -> GRPO rewarded by answer checking (curate select's: GSM8K ####, \boxed{},
# numeric and LaTeX equivalence, Math-Verify) -> accuracy before and after.
# The tiny model learns the answer format, not arithmetic: this shows the pipeline. On a GPU,
# set MODEL to an instruct model (e.g. Qwen/Qwen2.5-Math-1.5B-Instruct) to skip the SFT step.
# Usage: recipes/s1_grpo.sh [OUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-s1_grpo_run}"
mkdir -p "$out"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" HF_HUB_DISABLE_TELEMETRY=1
started=$SECONDS

echo "== 1. curate: s1-style selection of 16 of the 30 sample problems"
curate run "$here/s1_math_selection.yaml" -o "$out/select" --resume
problems="$out/select/s1_selection.jsonl"

if [[ -z "${MODEL:-}" ]]; then
  echo "== 2. train sft: the tiny model on the selected worked solutions (GSM8K's #### format)"
  curate convert "$problems" -o "$out/solutions.jsonl" --to messages
  train sft --data "$out/solutions.jsonl" --model tiny -o "$out/sft" --max-steps 60 \
    --batch-size 8 --lr 3e-3 --eval-split 0 --overwrite
  MODEL="$out/sft"
fi

echo "== 3. train grpo: 4 answers per problem, rewarded by answer checking, format and length"
train grpo --prompts "$problems" --model "$MODEL" -o "$out/grpo" \
  --rewards accuracy,format,length --num-generations 4 --batch-size 16 \
  --max-completion-length 96 --max-steps 20 --overwrite

echo "== 4. train eval: accuracy on the problems, before and after GRPO"
train eval "$MODEL" --math "$problems" --max-new-tokens 96 -o "$out/eval_before"
train eval "$out/grpo" --math "$problems" --max-new-tokens 96

cat <<DONE

Done in $((SECONDS - started)) s. Under $out/:
  selection         $problems   ($out/select/run.json: what each step kept and removed)
  GRPO run          $out/grpo    (summary.json, rewards.png, README.md)
  accuracy          $out/eval_before/eval.json -> $out/grpo/eval/eval.json
DONE
