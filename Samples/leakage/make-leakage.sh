#!/usr/bin/env bash
# The leakage experiment of Samples/leakage/README.md: does `diffuse audit` see a model give its
# training set away? Two models trained for many epochs on few Fashion-MNIST images (500 images
# for 256 epochs; 100 images for 1,280 epochs), against the shipped model (60,000 images, about
# 21 epochs), each audited with its training images against as many test images; and the small
# models' samples checked for copies with evaluate --train.
#
# Run from anywhere after `swift build -c release`, with Fashion-MNIST imported as class folders:
#   diffuse import fashion-mnist --out data/fashion-train
#   diffuse import fashion-mnist --split test --out data/fashion-test
# About two and a half hours on two cores (66 + 44 min training). Intermediate files go to
# out/leakage/ (set WORK to move them). Arguments choose parts: data, train, audit, copies,
# and train-100, audit-100, copies-100 for the 100-image model (default: all).
set -euo pipefail
cd "$(dirname "$0")/../.."

diffuse=${DIFFUSE:-.build/release/diffuse}
train=${TRAIN:-data/fashion-train}
test=${TEST:-data/fashion-test}
work=${WORK:-out/leakage}
samples=Samples/leakage
per_class=50    # 500 images in all
mkdir -p "$work" "$samples"
parts=("${@:-data train audit copies train-100 audit-100 copies-100}")
# shellcheck source=../support.sh
source Samples/support.sh

# members-500: the small model's training set (the first 50 training images of each class; the
# shipped model trained on them too). test-500: the first 50 test images of each class, held out.
# members-100 and test-100: the first 10 of each class, likewise.
if wants data; then
    rm -rf "$work/members-500" "$work/test-500" "$work/members-100" "$work/test-100"
    take "$train" "$work/members-500" "$per_class"
    take "$test" "$work/test-500" "$per_class"
    take "$train" "$work/members-100" 10
    take "$test" "$work/test-100" 10
fi

# The small model: the tiny preset, 2,000 steps of 64 (256 epochs of the 500 images).
if wants train; then
    rm -rf "$work/small-model"
    "$diffuse" train --data "$work/members-500" --out "$work/small-model" --resolution 28 --channels 1 --steps 2000 --seed 0
    cp "$work/small-model/loss.svg" "$samples/small-model-loss.svg"
fi

# Both models audited: the same 500 training images (members of both) against the 500 test images.
if wants audit; then
    "$diffuse" audit --model "$work/small-model" --members "$work/members-500" --non-members "$work/test-500" \
        --json "$samples/audit-small.json" --markdown "$samples/audit-small.md" --roc "$samples/audit-small-roc.svg"
    "$diffuse" audit --model Models/fashion-mnist --members "$work/members-500" --non-members "$work/test-500" \
        --json "$samples/audit-shipped.json" --markdown "$samples/audit-shipped.md" --roc "$samples/audit-shipped-roc.svg"
fi

# Copies: 500 samples of the small model (50 a class) against its training images.
if wants copies; then
    rm -rf "$work/small-samples"
    "$diffuse" sample --model "$work/small-model" --per-class 50 --scheduler ddim --steps 50 --seed 1 --batch-size 100 \
        --out "$work/small-samples"
    "$diffuse" evaluate --real "$work/test-500" --fake "$work/small-samples" --train "$work/members-500" \
        --pairs "$samples/small-closest-pairs.png" --json "$samples/evaluate-small.json"
fi

# The 100-image model: the shipped model's recipe (v-prediction, cosine betas), a higher peak
# learning rate, 4,000 steps of 32 (1,280 epochs of its 100 images).
if wants train-100; then
    rm -rf "$work/small-100-model"
    "$diffuse" train --data "$work/members-100" --out "$work/small-100-model" --resolution 28 --channels 1 \
        --steps 4000 --batch-size 32 --learning-rate 3e-4 --prediction-type v_prediction \
        --beta-schedule squaredcos_cap_v2 --seed 0
    cp "$work/small-100-model/loss.svg" "$samples/small-100-model-loss.svg"
fi

if wants audit-100; then
    "$diffuse" audit --model "$work/small-100-model" --members "$work/members-100" --non-members "$work/test-100" \
        --json "$samples/audit-small-100.json" --markdown "$samples/audit-small-100.md" --roc "$samples/audit-small-100-roc.svg"
    "$diffuse" audit --model Models/fashion-mnist --members "$work/members-100" --non-members "$work/test-100" \
        --json "$samples/audit-shipped-100.json" --markdown "$samples/audit-shipped-100.md"
fi

# Copies: 100 samples of the 100-image model (10 a class) against its training images.
if wants copies-100; then
    rm -rf "$work/small-100-samples"
    "$diffuse" sample --model "$work/small-100-model" --per-class 10 --scheduler ddim --steps 50 --seed 1 \
        --out "$work/small-100-samples"
    "$diffuse" evaluate --real "$work/test-100" --fake "$work/small-100-samples" --train "$work/members-100" \
        --pairs "$samples/small-100-closest-pairs.png" --json "$samples/evaluate-small-100.json"
    # The same question in pixels, against held-out images as the baseline (numpy and pillow:
    # set PYTHON to a virtual environment's python that has them).
    "${PYTHON:-python3}" "$samples/pixel_nearest.py" "$work/members-100" "$work/small-100-samples" "$work/test-100" \
        > "$samples/pixel-nearest-100.md"
fi
