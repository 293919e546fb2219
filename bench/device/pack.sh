#!/usr/bin/env bash
# Packs what a GPU machine without Node.js needs for the llmeval2 quality table and the engine-speed table
# (bench/llmeval2-experiment.md, "On a GPU machine"): training plans of every method with the test part inside,
# engine-speed plans, and a float16 copy of the base, into .carry/ (ignored by git), under the device tool's
# 64 MiB. Run from the repository root after `npm run build`.
set -euo pipefail
BASE=${BASE:-../shared/bases/bge-small-zh-v1.5}
DATA=${DATA:-../shared/data/llmeval2-zh}
PRESET=${PRESET:-tiny}
METHODS=${METHODS:-single,mean,wco,uwo,dmoerm}
PY=${REWARDLENS_PYTHON:-.tools/torch-venv/bin/python}
grep -qx '/.carry/' .git/info/exclude 2>/dev/null || echo '/.carry/' >> .git/info/exclude
rm -rf .carry && mkdir -p .carry/pack
node dist/bench/llmeval2-experiment.js --train "$DATA" --preset "$PRESET" --base "$BASE" --backend torch --methods "$METHODS" --seed 1 --plans-only 2> .carry/plans.log
plans=$(sed -n 's/^train them with: python bench\/device\/train-plans.py \([^ ]*\) .*/\1/p' .carry/plans.log)
cp -r "$plans" .carry/pack/plans
node dist/bench/engine-speed.js --plans-only .carry/pack --base "$BASE" --data "$DATA" --records 200 --steps 200
tar czf .carry/plans.tgz -C .carry/pack .
vocabs=(); for v in .carry/pack/*/vocab.json .carry/pack/plans/*/vocab.json; do vocabs+=(--vocab "$v"); done
"$PY" bench/device/half-base.py "$BASE" .carry/base "${vocabs[@]}"
rm -rf .carry/pack
du -sh .carry
echo "device: python3 bench/device/train-plans.py .carry/plans.tgz --base .carry/base --out \$OUT --max-minutes 6   (carry: .carry)"
echo "then:   node dist/bench/llmeval2-experiment.js --train $DATA --preset $PRESET --base $BASE --backend torch --methods $METHODS --seed 1 --results RESULTS.json"
