#!/usr/bin/env bash
# The gray-floor experiments of Samples/gray-floor/README.md: where the shipped Fashion-MNIST
# model's gray backgrounds come from. Each variant draws 1,000 images (100 a class, seed 777) and is
# measured against the 10,000 test images by `diffuse evaluate` (exactly-black pixels, the
# pixel-histogram distances, FID/precision/recall in the shipped evaluator's features).
#
# Run from anywhere after `swift build -c release`, with Fashion-MNIST imported as class folders:
#   diffuse import fashion-mnist --split test --out data/fashion-test
# Intermediate files go to out/gray-floor/ (set WORK to move them). Arguments choose variants
# (default: all of them); MODEL (default Models/fashion-mnist) chooses the model.
set -euo pipefail
cd "$(dirname "$0")/../.."

diffuse=${DIFFUSE:-.build/release/diffuse}
test=${TEST:-data/fashion-test}
work=${WORK:-out/gray-floor}
model=${MODEL:-Models/fashion-mnist}
samples=Samples/gray-floor
mkdir -p "$work" "$samples/reports"

# A copy of the model whose scheduler config has the given JSON keys changed: a sampling
# setting, the weights are the same.
variant_model() {
    local name=$1 edit=$2
    rm -rf "$work/model-$name"
    cp -r "$model" "$work/model-$name"
    python3 - "$work/model-$name/scheduler/scheduler_config.json" "$edit" <<'PY'
import json, sys
path, edit = sys.argv[1], json.loads(sys.argv[2])
config = json.load(open(path))
config.update(edit)
json.dump(config, open(path, "w"), indent=2)
PY
}

# measure NAME SCHEDULER-CONFIG-EDIT SAMPLE-FLAGS...
measure() {
    local name=$1 edit=$2
    shift 2
    variant_model "$name" "$edit"
    rm -rf "$work/samples-$name"
    "$diffuse" sample --model "$work/model-$name" --count 1000 --batch-size 100 --seed 777 --out "$work/samples-$name" \
        --raw "$work/raw-$name.npy" "$@"
    "$diffuse" evaluate --real "$test" --fake "$work/samples-$name" --json "$samples/reports/$name.json"
}

variants=("${@:-ddim50 ddim50-leading ddim50-linspace ddim50-noclip ddim50-alpha0 ddim200 dpmpp20 dpmpp20-linspace dpmpp20-sigmamin ddpm1000}")
for v in ${variants[*]}; do
    case $v in
        # The card's sampler setting: trailing spacing, the last model call at t = 19.
        ddim50) measure "$v" '{}' --scheduler ddim --steps 50 ;;
        # Leading spacing: the last call at t = 0, the first at t = 980.
        ddim50-leading) measure "$v" '{}' --scheduler ddim --steps 50 --timestep-spacing leading ;;
        # Linspace: from t = 999 down to t = 0.
        ddim50-linspace) measure "$v" '{}' --scheduler ddim --steps 50 --timestep-spacing linspace ;;
        ddim50-noclip) measure "$v" '{"clip_sample": false}' --scheduler ddim --steps 50 ;;
        # The last step lands on alphas_cumprod[0] instead of 1: a little predicted noise is
        # added back.
        ddim50-alpha0) measure "$v" '{"set_alpha_to_one": false}' --scheduler ddim --steps 50 ;;
        # More steps: the last call at t = 4.
        ddim200) measure "$v" '{}' --scheduler ddim --steps 200 ;;
        # The README's sampler: the last call at t = 49, then sigma 0.
        dpmpp20) measure "$v" '{}' --scheduler dpmpp-2m --steps 20 ;;
        dpmpp20-linspace) measure "$v" '{}' --scheduler dpmpp-2m --steps 20 --timestep-spacing linspace ;;
        # The last step ends at the smallest training sigma instead of 0.
        dpmpp20-sigmamin) measure "$v" '{"final_sigmas_type": "sigma_min"}' --scheduler dpmpp-2m --steps 20 ;;
        # Ancestral sampling through all 1,000 timesteps (slow: about 25 minutes on two cores).
        ddpm1000) measure "$v" '{}' --scheduler ddpm --steps 1000 ;;
        *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
done
