#!/usr/bin/env bash
# The leakage experiment of Samples/leakage/README.md: does `diffuse audit` see a model give its
# training set away? A model trained for many epochs on 500 Fashion-MNIST images, against the
# shipped model (60,000 images, about 21 epochs), each audited with 500 of its training images
# against 500 test images; and the small model's samples checked for copies with evaluate --train.
#
# Run from anywhere after `swift build -c release`, with Fashion-MNIST imported as class folders:
#   diffuse import fashion-mnist --out data/fashion-train
#   diffuse import fashion-mnist --split test --out data/fashion-test
# About an hour on two cores (35 min training). Intermediate files go to out/leakage/ (set WORK
# to move them). Arguments choose parts: data, train, audit, copies (default: all four).
set -euo pipefail
cd "$(dirname "$0")/../.."

diffuse=${DIFFUSE:-.build/release/diffuse}
train=${TRAIN:-data/fashion-train}
test=${TEST:-data/fashion-test}
work=${WORK:-out/leakage}
samples=Samples/leakage
per_class=50    # 500 images in all
mkdir -p "$work" "$samples"
parts=("${@:-data train audit copies}")
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }

# first <n> images of each class of <from> into <to>
take() {
    local from=$1 to=$2 n=$3
    for class_folder in "$from"/*/; do
        local class
        class=$(basename "$class_folder")
        mkdir -p "$to/$class"
        find "$class_folder" -maxdepth 1 -name '*.png' -printf '%f\n' | sort | sed -n "1,${n}p" |
            while read -r file; do cp "$class_folder/$file" "$to/$class/"; done
    done
}

# members-500: the small model's training set (the first 50 training images of each class; the
# shipped model trained on them too). test-500: the first 50 test images of each class, held out.
if wants data; then
    rm -rf "$work/members-500" "$work/test-500"
    take "$train" "$work/members-500" "$per_class"
    take "$test" "$work/test-500" "$per_class"
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
