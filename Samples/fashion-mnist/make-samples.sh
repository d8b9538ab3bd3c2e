#!/usr/bin/env bash
# Remakes the files of Samples/fashion-mnist/ from the shipped model, Models/fashion-mnist:
# the evaluation table of its card (2,000 samples a sampler, 200 a class, against the 10,000
# test images, and the real-vs-real floor), a grid per sampler, the guidance sweep and the
# `diffuse compare` report, all in the shipped evaluator's features (fashion-mnist-evaluator-v2).
#
# Run from anywhere after `swift build -c release`, with Fashion-MNIST imported as class folders:
#   diffuse import fashion-mnist --out data/fashion-train
#   diffuse import fashion-mnist --split test --out data/fashion-test
# About 50 minutes on two cores. Intermediate images go to out/shipped-samples/ (set WORK to
# move them). Arguments choose parts: floor, evaluation, guidance, grids, compare (default: all,
# in that order).
set -euo pipefail
cd "$(dirname "$0")/../.."

diffuse=${DIFFUSE:-.build/release/diffuse}
train=${TRAIN:-data/fashion-train}
test=${TEST:-data/fashion-test}
work=${WORK:-out/shipped-samples}
model=Models/fashion-mnist
evaluator=Models/fashion-mnist-evaluator-v2
samples=Samples/fashion-mnist
mkdir -p "$work" "$samples/grids"
parts=("${@:-floor evaluation guidance grids compare}")
# shellcheck source=../support.sh
source Samples/support.sh

# The floor: 2,000 real training images (the first of the training split) against the test split.
if wants floor; then
    rm -rf "$work/train-2000"
    "$diffuse" import fashion-mnist --limit 2000 --out "$work/train-2000"
    "$diffuse" evaluate --real "$test" --fake "$work/train-2000" --evaluator "$evaluator" \
        --json "$samples/evaluation-floor.json"
fi

# The card's samplers: 2,000 images each as a labelled set (200 a class, so that the evaluator's
# class can be checked against the asked one), memorization against all training images; the
# last row guided at the card's recommended scale (GUIDANCE, default 2).
if wants evaluation; then
    for row in dpmpp-2m:20:1 ddim:50:1 "dpmpp-2m:20:${GUIDANCE:-2}"; do
        IFS=: read -r scheduler steps scale <<< "$row"
        name=$scheduler-$steps$([[ $scale == 1 ]] || echo "-w$scale")
        rm -rf "$work/$name"
        "$diffuse" sample --model "$model" --scheduler "$scheduler" --steps "$steps" --guidance-scale "$scale" \
            --per-class 200 --batch-size 100 --seed 1 --out "$work/$name"
        "$diffuse" evaluate --real "$test" --fake "$work/$name" --train "$train" --evaluator "$evaluator" \
            --pairs "$samples/closest-pairs-$name.png" --json "$samples/evaluation-$name.json"
    done
fi

# Guidance scales side by side (DPM-Solver++ 2M, 20 steps, 500 images a row): the card's
# recommended scale comes from here.
if wants guidance; then
    "$diffuse" compare --model "$model" --real "$test" --evaluator "$evaluator" --count 500 --batch-size 100 \
        --grid-count 50 --seed 0 --out "$samples/guidance" --schedulers dpmpp-2m:20 --guidance 1,1.5,2,3,4
fi

# A grid per sampler: 100 images, ten of each class (column j is class j), the same noise in each,
# each pixel shown as 3x3.
if wants grids; then
    for row in ddim:50 dpmpp-2m:20 dpmpp-3m:20 unipc:20 euler:50 euler-a:50 heun:25 pndm:40; do
        scheduler=${row%:*} steps=${row#*:}
        # Heun's trapezoid step from t = 999 (sigma 20,291 on these capped cosine betas) makes
        # noise: it samples with leading spacing, which starts lower (Samples/README.md).
        spacing=()
        if [[ $scheduler == heun ]]; then spacing=(--timestep-spacing leading); fi
        "$diffuse" sample --model "$model" --scheduler "$scheduler" --steps "$steps" --count 100 --batch-size 100 \
            --seed 0 "${spacing[@]}" --out "$work/grid-$scheduler-$steps" --grid "$samples/grids/$scheduler-$steps.png" \
            --grid-scale 3
    done
fi

# Every sampler side by side, 300 images a row.
if wants compare; then
    "$diffuse" compare --model "$model" --real "$test" --evaluator "$evaluator" --count 300 --batch-size 100 \
        --grid-count 50 --seed 0 --out "$samples/compare" \
        --schedulers ddpm:1000,ddim:50,ddim:20,ddim:10,dpmpp-2m:20,dpmpp-2m:10,dpmpp-3m:10,unipc:10,euler-karras:10,euler:50,euler:20,euler-a:50,heun:10,pndm:20
fi
