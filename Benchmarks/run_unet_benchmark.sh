#!/usr/bin/env bash
# The U-Net benchmark, PyTorch and Diffuse side by side in one run:
#
#   Benchmarks/run_unet_benchmark.sh [PYTHON [OPTIONS...]]   (default PYTHON: ../venv/bin/python)
#
# OPTIONS go to both sides: --presets tiny,small --cases 32x3,28x1 --batch 64 --repeats 5
# --ddim-repeats 2 --skip-ddim.
# PYTHON must have torch and diffusers (a virtual environment outside the project). The
# PyTorch reference runs first and writes its JSON; Diffuse's benchmark then measures the same
# cases and prints both with the ratios (Diffuse / PyTorch for rates, PyTorch / Diffuse for
# times and memory: above 1 means Diffuse is ahead).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-../venv/bin/python}
shift || true
reference=${TMPDIR:-/tmp}/pytorch_reference.json   # kept, to re-read with --pytorch

swift build -c release --product unet-benchmark
"$python" Benchmarks/pytorch_reference.py --threads 2 --json "$reference" "$@"
.build/release/unet-benchmark --pytorch "$reference" "$@"
