#!/usr/bin/env bash
# DP-SGD training against plain training, Diffuse and PyTorch (Opacus) side by side in one run:
#
#   Benchmarks/run_dp_benchmark.sh [PYTHON [--batch 64] [--repeats 5]]   (default PYTHON: ../venv/bin/python)
#
# PYTHON must have torch, diffusers and opacus (a virtual environment outside the project).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-../venv/bin/python}
shift || true
reference=${TMPDIR:-/tmp}/pytorch_dp_reference.json

swift build -c release --product dp-benchmark
"$python" Benchmarks/pytorch_dp_reference.py --threads 2 --json "$reference" "$@"
.build/release/dp-benchmark --pytorch "$reference" "$@"
