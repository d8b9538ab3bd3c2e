#!/usr/bin/env python3
"""DP-SGD training speed in PyTorch: Opacus on diffusers' UNet2DModel, beside plain training of
the same model; the reference for Benchmarks/DPBenchmark (run both with run_dp_benchmark.sh).

For each case (the tiny preset as shipped, 28x28 gray and 32x32 RGB, batch 64):
  plain_images_per_s   a plain training step (forward, MSE against the noise, backward, clipping
                       of the whole gradient to norm 1, AdamW) as pytorch_reference.py times it.
  dp_images_per_s      the same step under Opacus (PrivacyEngine.make_private, per-sample
                       gradients by its hooks, per-sample clipping to 1, noise multiplier 1,
                       a fixed batch of 64: the time of a step does not depend on Poisson sizes).
  slowdown             plain / dp images per second.
Medians of --repeats steps after one warm-up step, torch.set_num_threads(--threads).

    ../venv/bin/pip install opacus
    ../venv/bin/python Benchmarks/pytorch_dp_reference.py [--batch 64] [--repeats 5] [--threads 2] [--json FILE]
"""
import argparse
import json
import os
import sys
import warnings

import torch
from diffusers import DDPMScheduler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import build_optimizer, build_unet, loss_and_backward, median_seconds, train_step  # noqa: E402

CASES = [(28, 1), (32, 3)]


def measure(resolution, channels, batch, repeats):
    from opacus import PrivacyEngine

    torch.manual_seed(0)
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    unet = build_unet("tiny", resolution, channels)
    optimizer = build_optimizer(unet)
    plain = batch / median_seconds(lambda: train_step(unet, optimizer, scheduler, batch, channels, resolution), repeats)

    unet = build_unet("tiny", resolution, channels)
    optimizer = build_optimizer(unet)
    data = torch.utils.data.TensorDataset(torch.zeros(batch * 4, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=batch)
    engine = PrivacyEngine()
    private, optimizer, _ = engine.make_private(module=unet, optimizer=optimizer, data_loader=loader,
                                                noise_multiplier=1.0, max_grad_norm=1.0, poisson_sampling=False)

    def private_step():
        # Opacus clips and noises each image's gradient in optimizer.step(): no whole-gradient clipping.
        loss_and_backward(private, scheduler, batch, channels, resolution)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    dp = batch / median_seconds(private_step, repeats)
    return {"case": f"tiny/preset {resolution}x{resolution}x{channels}", "plain_images_per_s": plain,
            "dp_images_per_s": dp, "slowdown": plain / dp}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # Opacus' and torch's notes on hooks, not about the timing
    results = [measure(r, c, args.batch, args.repeats) for r, c in CASES]
    for r in results:
        print(f"{r['case']}: plain {r['plain_images_per_s']:.1f} img/s, Opacus {r['dp_images_per_s']:.1f} img/s, "
              f"slowdown {r['slowdown']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "batch": args.batch, "cases": results}, f, indent=1)


if __name__ == "__main__":
    main()
