#!/usr/bin/env bash
# Writes the seed corpus under Fuzzing/corpus/<target>/: small valid and invalid files of each
# format, copied from the test fixtures and the shipped models, and IDX files made here (Python's
# standard library only). The fuzzer starts from these; run-fuzzers.sh never changes them.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=Fuzzing/corpus
# Crash reproducers (crash-*) are kept: they are regression tests, not seeds made here.
[ -d "$corpus" ] && find "$corpus" -type f ! -name 'crash-*' -delete
mkdir -p "$corpus"/{safetensors,npy,idx,png,unet-config,scheduler-config}

cp Tests/Fixtures/io/*.safetensors Tests/Fixtures/nn/linear.safetensors Tests/Fixtures/nn/group_norm.safetensors \
    "$corpus/safetensors/"
cp Tests/Fixtures/io/*.npy "$corpus/npy/"
mv "$corpus/npy/f4_fortran.npy" "$corpus/npy/bad_f4_fortran.npy"
# Cut short: the header or the data ends early.
head -c 100 Tests/Fixtures/io/mixed.safetensors > "$corpus/safetensors/bad_truncated_header.safetensors"
head -c 500 Tests/Fixtures/io/mixed.safetensors > "$corpus/safetensors/bad_truncated_data.safetensors"
head -c 140 Tests/Fixtures/io/f4_2x3.npy > "$corpus/npy/bad_truncated.npy"
# PNGs of every colour type, bit depth and interlacing the fixtures have, and the broken ones.
find Tests/Fixtures/png -path '*/bad' -prune -o -name '*.png' -size -3k -exec cp {} "$corpus/png/" \;
for bad in Tests/Fixtures/png/bad/*.png; do cp "$bad" "$corpus/png/bad_$(basename "$bad" | sed 's/^bad_//')"; done
cp Models/fashion-mnist/unet/config.json "$corpus/unet-config/shipped.json"
for folder in Tests/Fixtures/diffusion/unet_*/; do
    cp "$folder/config.json" "$corpus/unet-config/$(basename "$folder").json"
done
cp Models/fashion-mnist/scheduler/scheduler_config.json "$corpus/scheduler-config/shipped.json"
cp Tests/Fixtures/diffusion/ddpm_folder/scheduler/scheduler_config.json "$corpus/scheduler-config/ddpm.json"
cat > "$corpus/scheduler-config/dpm-karras.json" <<'JSON'
{"_class_name": "DPMSolverMultistepScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085,
 "beta_end": 0.012, "use_karras_sigmas": true, "solver_order": 3, "final_sigmas_type": "sigma_min",
 "prediction_type": "v_prediction", "lambda_min_clipped": -Infinity, "timestep_spacing": "trailing"}
JSON
cat > "$corpus/scheduler-config/ddim-sigmoid.json" <<'JSON'
{"_class_name": "DDIMScheduler", "num_train_timesteps": 200, "beta_schedule": "sigmoid", "clip_sample": true,
 "clip_sample_range": 1.5, "set_alpha_to_one": false, "steps_offset": 1, "rescale_betas_zero_snr": true,
 "timestep_spacing": "leading", "thresholding": false}
JSON
cat > "$corpus/scheduler-config/euler-sigmas.json" <<'JSON'
{"_class_name": "EulerDiscreteScheduler", "sigma_min": 0.002, "sigma_max": 80.0, "use_karras_sigmas": false,
 "interpolation_type": "linear", "timestep_spacing": "linspace", "prediction_type": "v_prediction"}
JSON
echo '{"beta_end": Infinity}' > "$corpus/scheduler-config/bad_beta_end_infinity.json"
echo '{"prediction_type": null}' > "$corpus/scheduler-config/bad_null_prediction_type.json"
# 14 is not a multiple of 4: the shipped config halves twice.
sed 's/"sample_size" : 28/"sample_size" : 14/' Models/fashion-mnist/unet/config.json > "$corpus/unet-config/bad_sample_size_14.json"
echo '{"norm_num_groups": null}' > "$corpus/unet-config/bad_null_groups.json"

python3 - "$corpus/idx" <<'PY'
import gzip, struct, sys
out = sys.argv[1]
def idx(shape, values):
    return bytes([0, 0, 0x08, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape) + bytes(values)
images = idx([3, 4, 4], [(17 * i) % 256 for i in range(48)])
labels = idx([3], [0, 9, 4])
files = {
    "images-3x4x4": images,
    "labels-3": labels,
    "images-3x4x4.gz": gzip.compress(images, mtime=0),
    "labels-3.gz": gzip.compress(labels, mtime=0),
    "bad_truncated": images[:-5],
    "bad_int32_type": bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 0, 7]),
}
for name, data in files.items():
    open(f"{out}/{name}", "wb").write(data)
PY
du -sh "$corpus"; for t in "$corpus"/*/; do echo "$(basename "$t"): $(ls "$t" | wc -l) files"; done
