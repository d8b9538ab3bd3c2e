#!/usr/bin/env bash
# The DP model of Samples/dp-model/README.md: a Fashion-MNIST model trained with DP-SGD at
# epsilon 10 (delta 1e-5) on all 60,000 training images, measured beside a model trained the
# same way without DP (same steps, batch and learning rate) and beside the shipped model:
# FID/precision/recall against the 10,000 test images, TSTR accuracy, and the membership audit.
#
# Run from anywhere after `swift build -c release`, with Fashion-MNIST imported as class folders:
#   diffuse import fashion-mnist --out data/fashion-train
#   diffuse import fashion-mnist --split test --out data/fashion-test
# About three hours on two cores (the DP training about 75 minutes on one core, the plain one
# about 45). Intermediate files go to out/dp-model/ (set WORK to move them). Arguments choose
# parts: data, train-dp, train-plain, measure (default: all); MODELS (default "dp-eps10 plain-400
# shipped") chooses which models measure covers.
set -euo pipefail
cd "$(dirname "$0")/../.."

diffuse=${DIFFUSE:-.build/release/diffuse}
train=${TRAIN:-data/fashion-train}
test=${TEST:-data/fashion-test}
work=${WORK:-out/dp-model}
samples=Samples/dp-model
mkdir -p "$work" "$samples"
parts=("${@:-data train-dp train-plain measure}")
# shellcheck source=../support.sh
source Samples/support.sh

# TSTR's real sets (200 a class, as in the README's TSTR table) and the audit's 500 + 500.
if wants data; then
    rm -rf "$work"/{train-2k,test-2k,members-500,test-500}
    take "$train" "$work/train-2k" 200
    take "$test" "$work/test-2k" 200
    take "$train" "$work/members-500" 50
    take "$test" "$work/test-500" 50
fi

# Both trainings: the shipped model's objective (v-prediction, cosine betas), tiny preset,
# 400 steps of 256 (1.7 epochs), peak learning rate 5e-4 after 40 warm-up steps. DP: expected
# batch 256 by Poisson sampling (sample rate 256/60,000), each image's gradient clipped to 1,
# noise for epsilon 10 at delta 1e-5 after 400 steps.
common=(--data "$train" --resolution 28 --channels 1 --steps 400 --batch-size 256 --learning-rate 5e-4
        --warmup-steps 40 --seed 0 --prediction-type v_prediction --beta-schedule squaredcos_cap_v2)
if wants train-dp; then
    rm -rf "$work/dp-eps10"
    "$diffuse" train "${common[@]}" --out "$work/dp-eps10" --dp-max-grad-norm 1 --dp-delta 1e-5 --dp-epsilon 10
    cp "$work/dp-eps10/privacy.json" "$samples/dp-eps10-privacy.json"
    cp "$work/dp-eps10/loss.svg" "$samples/dp-eps10-loss.svg"
fi
if wants train-plain; then
    rm -rf "$work/plain-400"
    "$diffuse" train "${common[@]}" --out "$work/plain-400"
    cp "$work/plain-400/loss.svg" "$samples/plain-400-loss.svg"
fi

# Each model: 200 images a class (DPM-Solver++ 2M, 20 steps, seed 777, no guidance), evaluated
# against the 10,000 test images, used for TSTR, and the model audited with 500 of its training
# images against 500 test images.
if wants measure; then
    for name in ${MODELS:-dp-eps10 plain-400 shipped}; do
        model=$work/$name
        [ "$name" = shipped ] && model=Models/fashion-mnist
        rm -rf "$work/samples-$name"
        "$diffuse" sample --model "$model" --per-class 200 --scheduler dpmpp-2m --steps 20 --seed 777 \
            --out "$work/samples-$name"
        # The first 8 of each class again (image i of a class depends only on seed, class and i),
        # as a grid to commit: one column a class.
        rm -rf "$work/grid-$name"
        "$diffuse" sample --model "$model" --per-class 8 --scheduler dpmpp-2m --steps 20 --seed 777 \
            --out "$work/grid-$name" --grid "$samples/$name-grid.png"
        "$diffuse" evaluate --real "$test" --fake "$work/samples-$name" \
            --json "$samples/evaluate-$name.json" --markdown "$samples/evaluate-$name.md"
        # The shipped model's TSTR (the README's table) and audit (Samples/leakage/audit-shipped.md)
        # were measured on these same sets with these seeds.
        [ "$name" = shipped ] && continue
        "$diffuse" tstr --train "$work/train-2k" --synthetic "$work/samples-$name" --test "$work/test-2k" --epochs 5 \
            --json "$samples/tstr-$name.json" --markdown "$samples/tstr-$name.md"
        "$diffuse" audit --model "$model" --members "$work/members-500" --non-members "$work/test-500" \
            --json "$samples/audit-$name.json" --markdown "$samples/audit-$name.md"
    done
fi
