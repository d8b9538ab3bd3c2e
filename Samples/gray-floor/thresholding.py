#!/usr/bin/env python3
"""Dynamic thresholding (Saharia et al. 2022, "Imagen") against clipping, in diffusers itself.

Usage: thresholding.py MODEL [COUNT] (needs torch, diffusers and numpy, in a virtual
environment outside the project; Diffuse refuses `thresholding` in scheduler configs).

Samples COUNT images (default 200, image i of class i mod 10, one seed) with diffusers'
DDIMScheduler, 50 steps, on the model's config, changing only how the predicted image is bounded
at each step: not at all, clip_sample, and thresholding with sample_max_value 1 (diffusers'
default) and 1.5. Prints the share of exactly-black pixels once written as PNGs (real images:
50%) and the largest difference from the clipped run.
"""
import json
import pathlib
import sys

import torch
from diffusers import DDIMScheduler, UNet2DModel

model = pathlib.Path(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
unet = UNet2DModel.from_pretrained(model / "unet").eval()
classes = [name for name in json.loads((model / "class_names.json").read_text()) if name is not None]
labels = torch.arange(count) % len(classes)
noise = torch.randn((count, 1, 28, 28), generator=torch.Generator().manual_seed(777))
variants = {
    "no bound (clip_sample false)": {"clip_sample": False},
    "clip_sample": {"clip_sample": True},
    "thresholding, sample_max_value 1": {"clip_sample": False, "thresholding": True, "sample_max_value": 1.0},
    "thresholding, sample_max_value 1.5": {"clip_sample": False, "thresholding": True, "sample_max_value": 1.5},
}
results = {}
for name, settings in variants.items():
    scheduler = DDIMScheduler.from_pretrained(model / "scheduler", **settings)
    scheduler.set_timesteps(50)
    x = noise.clone()
    with torch.no_grad():
        for t in scheduler.timesteps:
            v = torch.cat([unet(x[i:i + 100], t, class_labels=labels[i:i + 100]).sample for i in range(0, count, 100)])
            x = scheduler.step(v, t, x).prev_sample
    results[name] = x
    levels = ((x / 2 + 0.5).clamp(0, 1) * 255).round()
    print(f"{name}: {(levels == 0).double().mean().item():.1%} black")
clipped = results["clip_sample"]
for name, x in results.items():
    print(f"{name}: largest difference from clip_sample {(x - clipped).abs().max().item():.2e}")
