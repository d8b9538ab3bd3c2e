#!/usr/bin/env bash
# The gray-floor experiments of Samples/gray-floor/README.md: where the shipped Fashion-MNIST
# model's gray backgrounds come from. Each variant draws 1,000 images (100 a class, seed 777) and is
# measured against the 10,000 test images by `diffuse evaluate` (exactly-black pixels, the
# pixel-histogram distances, FID/precision/recall in the shipped evaluator's features).
#
# Run from anywhere after `swift build -c release`, with Fashion-MNIST imported as class folders:
#   diffuse import fashion-mnist --split test --out data/fashion-test
#   diffuse import fashion-mnist --out data/fashion-train      (for the fine-tuning variants)
# Intermediate files go to out/gray-floor/ (set WORK to move them). Arguments choose variants
# (default: the sampling ones; tuned-minsnr, tuned-plain and then tuned-plain-raw fine-tune the
# model first, about 13 minutes each); MODEL (default Models/fashion-mnist) chooses the model and
# REPORTS (default Samples/gray-floor/reports) the folder for its reports.
set -euo pipefail
cd "$(dirname "$0")/../.."

diffuse=${DIFFUSE:-.build/release/diffuse}
train=${TRAIN:-data/fashion-train}
test=${TEST:-data/fashion-test}
work=${WORK:-out/gray-floor}
model=${MODEL:-Models/fashion-mnist}
samples=Samples/gray-floor
reports=${REPORTS:-$samples/reports}
mkdir -p "$work" "$reports"

# A copy of the model FROM whose scheduler config has the given JSON keys changed: a sampling
# setting, the weights are the same.
variant_model() {
    local name=$1 from=$2 edit=$3
    rm -rf "$work/model-$name"
    cp -r "$from" "$work/model-$name"
    python3 - "$work/model-$name/scheduler/scheduler_config.json" "$edit" <<'PY'
import json, sys
path, edit = sys.argv[1], json.loads(sys.argv[2])
config = json.load(open(path))
config.update(edit)
json.dump(config, open(path, "w"), indent=2)
PY
}

# measure NAME SCHEDULER-CONFIG-EDIT SAMPLE-FLAGS... (of $model)
measure() {
    measure_model "$1" "$model" "${@:2}"
}

# measure_model NAME MODEL SCHEDULER-CONFIG-EDIT SAMPLE-FLAGS...
measure_model() {
    local name=$1 from=$2 edit=$3
    shift 3
    variant_model "$name" "$from" "$edit"
    rm -rf "$work/samples-$name"
    "$diffuse" sample --model "$work/model-$name" --count 1000 --batch-size 100 --seed 777 --out "$work/samples-$name" \
        --raw "$work/raw-$name.npy" "$@"
    "$diffuse" evaluate --real "$test" --fake "$work/samples-$name" --json "$reports/$name.json"
}

# fine_tune NAME STEPS WARMUP SEED FLAGS...: MODEL fine-tuned into WORK/NAME with learning rate
# 1e-4, batches of 64 and class dropout 0.1, unless that run is already there.
fine_tune() {
    local name=$1 steps=$2 warmup=$3 seed=$4
    shift 4
    if [ ! -f "$work/$name/training_state/state.safetensors" ]; then
        "$diffuse" train --data "$train" --out "$work/$name" --init-from "$model" --steps "$steps" --batch-size 64 \
            --learning-rate 1e-4 --warmup-steps "$warmup" --seed "$seed" "$@"
    fi
}

# The shipped model fine-tuned for 1,000 steps (a 17th of its training) under a loss weighting
# given by the flags, then sampled with DDIM 50 as saved (clip_sample true, as the binary of these
# runs saved every model) and without clipping.
tuned() {
    local name=$1
    shift
    fine_tune "$name" 1000 100 1 "$@"
    measure_model "$name-ddim50" "$work/$name" '{"clip_sample": true}' --scheduler ddim --steps 50
    measure_model "$name-noclip" "$work/$name" '{"clip_sample": false}' --scheduler ddim --steps 50
}

# MODEL fine-tuned 600 more steps (seed 2) with the given timestep-bias flags, then sampled with
# DPM-Solver++ (2M) 20; its one-call denoising of real images goes beside the report.
biased() {
    local name=$1
    shift
    fine_tune "$name" 600 50 2 "$@"
    measure_model "$name-dpmpp20" "$work/$name" '{}' --scheduler dpmpp-2m --steps 20
    denoise_real "$reports/$name-denoise-real.md" "$work/$name"
}

# denoise_real FILE MODEL: the one-call denoising table of denoise_real.py into FILE (PYTHON: an
# environment with torch and diffusers).
denoise_real() {
    "${PYTHON:-python3}" "$samples/denoise_real.py" "$2" "$test" 50 > "$1"
}

variants=("${@:-ddim50 ddim50-leading ddim50-noclip dpmpp20 dpmpp20-linspace}")
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
        # Ancestral sampling through all 1,000 timesteps (slow: an hour on two cores; not in the default list).
        ddpm1000) measure "$v" '{}' --scheduler ddpm --steps 1000 ;;
        # Fine-tuning under the weighting the model was trained with (Min-SNR, gamma 5: in terms
        # of the predicted image, weight min(SNR, 5), so the low-noise timesteps count no more
        # than the middle ones)...
        tuned-minsnr) tuned "$v" --min-snr-gamma 5 ;;
        # ... and under plain v-prediction MSE (weight SNR + 1 on the predicted image: the
        # low-noise timesteps count thousands of times more).
        tuned-plain) tuned "$v" ;;
        # The plain fine-tune's raw weights in place of their exponential moving average.
        tuned-plain-raw)
            python3 Samples/gray-floor/raw_weights.py "$work/tuned-plain" "$work/tuned-plain-raw"
            measure_model "$v-noclip" "$work/tuned-plain-raw" '{"clip_sample": false}' --scheduler ddim --steps 50 ;;
        # The card's target protocol (Samples/fashion-mnist/make-samples.sh, evaluation: 200 a class,
        # seed 1) with the last step ending at sigma_0 instead of 0.
        targets-sigmamin)
            variant_model "$v" "$model" '{"final_sigmas_type": "sigma_min"}'
            rm -rf "$work/samples-$v"
            "$diffuse" sample --model "$work/model-$v" --scheduler dpmpp-2m --steps 20 --per-class 200 --batch-size 100 \
                --seed 1 --out "$work/samples-$v"
            "$diffuse" evaluate --real "$test" --fake "$work/samples-$v" --json "$reports/$v.json" ;;
        # One call of the model on noised real test images, per timestep: its precision at low noise.
        denoise-real) denoise_real "$reports/denoise-real.md" "$model" ;;
        # Dynamic thresholding against clipping, run in diffusers (Diffuse refuses thresholding).
        thresholding) "${PYTHON:-python3}" "$samples/thresholding.py" "$model" 200 > "$reports/thresholding.txt" ;;
        # 600 more steps with uniform timesteps (the control), and with the lowest tenth (t < 100)
        # drawn 10 times as often: 53% of the draws.
        bias-uniform) biased "$v" ;;
        bias-earlier10) biased "$v" --timestep-bias-strategy earlier --timestep-bias-multiplier 10 --timestep-bias-portion 0.1 ;;
        # Training length: 4,000 more uniform steps (4.3 epochs, about 50 minutes on two cores).
        longer-4000)
            fine_tune "$v" 4000 100 3
            measure_model "$v-dpmpp20" "$work/$v" '{}' --scheduler dpmpp-2m --steps 20
            denoise_real "$reports/$v-denoise-real.md" "$work/$v" ;;
        *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
done
