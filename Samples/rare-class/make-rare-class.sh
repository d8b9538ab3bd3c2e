#!/usr/bin/env bash
# The rare-class experiment of Samples/rare-class/README.md: three Fashion-MNIST classes cut to 5%,
# a conditional model trained on that imbalanced set, the missing rare images generated, and a
# classifier's accuracy on the real test images before and after adding them, against topping
# the rare classes up by repeating their real images, and against the balanced real set.
#
# Run from anywhere after `swift build -c release`, with Fashion-MNIST imported as class folders:
#   diffuse import fashion-mnist --out data/fashion-train
#   diffuse import fashion-mnist --split test --out data/fashion-test
# About 1 h 15 min on two cores (35 min training, 6 min sampling, 30 min of classifiers).
# Intermediate files go to out/rare-class/ (set WORK to move them). Arguments choose parts:
# data, generator, synthetic, tstr (default: all four, in that order).
set -euo pipefail
cd "$(dirname "$0")/../.."

diffuse=${DIFFUSE:-.build/release/diffuse}
train=${TRAIN:-data/fashion-train}
test=${TEST:-data/fashion-test}
work=${WORK:-out/rare-class}
samples=Samples/rare-class
per_class=600   # images of a common class (the first of the training split)
rare_count=30   # images of a rare class: 5% of per_class
rare=(Bag Sandal Shirt)
missing=$((per_class - rare_count))
mkdir -p "$work" "$samples"
parts=("${@:-data generator synthetic tstr}")
# shellcheck source=../support.sh
source Samples/support.sh
is_rare() { [[ " ${rare[*]} " == *" $1 "* ]]; }

# balanced: the first 600 training images of every class. imbalanced: the same with the rare
# classes cut to their first 30. repeated: the 30 real images of each rare class, each copied 19
# times (570 a class), the plain way to top a rare class up.
if wants data; then
    rm -rf "$work/balanced" "$work/imbalanced" "$work/repeated"
    for class_folder in "$train"/*/; do
        class=$(basename "$class_folder")
        keep=$per_class
        if is_rare "$class"; then keep=$rare_count; fi
        mkdir -p "$work/balanced/$class" "$work/imbalanced/$class"
        find "$class_folder" -maxdepth 1 -name '*.png' -printf '%f\n' | sort | sed -n "1,${per_class}p" > "$work/files"
        while read -r file; do cp "$class_folder/$file" "$work/balanced/$class/"; done < "$work/files"
        head -n "$keep" "$work/files" | while read -r file; do cp "$class_folder/$file" "$work/imbalanced/$class/"; done
        if is_rare "$class"; then
            mkdir -p "$work/repeated/$class"
            for copy in $(seq 1 $((missing / rare_count))); do
                for file in "$work/imbalanced/$class"/*.png; do cp "$file" "$work/repeated/$class/$copy-$(basename "$file")"; done
            done
        fi
    done
    rm "$work/files"
fi

# The generator: the tiny preset on the imbalanced set alone, with class dropout 0.1 (the
# default) so that it can be guided.
if wants generator; then
    rm -rf "$work/generator"
    "$diffuse" train --data "$work/imbalanced" --out "$work/generator" --resolution 28 --channels 1 --steps 2000 --seed 0
    cp "$work/generator/loss.svg" "$samples/generator-loss.svg"
fi

# The missing images: 570 of each rare class, guided at W = 2.
if wants synthetic; then
    counts=$(IFS=,; echo "${rare[*]/%/=$missing}")   # Bag=570,Sandal=570,Shirt=570
    rm -rf "$work/synthetic"
    "$diffuse" sample --model "$work/generator" --class-counts "$counts" --scheduler ddim --steps 20 \
        --guidance-scale 2 --seed 777 --batch-size 100 --out "$work/synthetic" --grid "$samples/synthetic-grid.png"
fi

# The classifier (the evaluator network, 5 epochs, seeds 0-2) on each training set, tested on
# all 10,000 real test images. Each run's TRTR row is the imbalanced set alone ("before"), its
# augmented row the set with the top-up ("after"); the balanced run's TRTR is the upper bound.
if wants tstr; then
    for run in imbalanced:synthetic imbalanced:repeated balanced:synthetic; do
        real=${run%:*} extra=${run#*:}
        "$diffuse" tstr --train "$work/$real" --synthetic "$work/$extra" --test "$test" --seeds 3 --epochs 5 \
            --json "$samples/tstr-$real-$extra.json" --markdown "$samples/tstr-$real-$extra.md"
    done
fi
