"""Checks that diffusers loads a model folder written by `diffuse train` and samples what
`diffuse sample` samples.

    diffuse sample --model MODEL --out /tmp/ours --scheduler ddim --steps 10 --count 8 \
        --latents LATENTS.npy --raw OURS.npy
    ../venv/bin/python Tests/Fixtures/check_diffusers_loads.py MODEL LATENTS.npy OURS.npy [--steps 10]

It writes LATENTS.npy first when the file is missing (standard normal, N x C x H x W for 8
images), so run it once before `diffuse sample` to create them. It loads the folder with
DDPMPipeline.from_pretrained, turns its scheduler into a DDIMScheduler with from_config (as
DDIMPipeline does), runs the same DDIM loop from the same latents (class i mod K for a
class-conditional model), and prints the largest difference from our raw samples.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMPipeline

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("latents")
parser.add_argument("ours")
parser.add_argument("--steps", type=int, default=10)
args = parser.parse_args()

pipeline = DDPMPipeline.from_pretrained(args.model)
unet = pipeline.unet.eval()
config = unet.config
if not os.path.exists(args.latents):
    shape = (8, config.in_channels, config.sample_size, config.sample_size)
    np.save(args.latents, np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    print(f"wrote {args.latents}; now run diffuse sample with --latents {args.latents}")
    sys.exit(0)

latents = torch.from_numpy(np.load(args.latents))
scheduler = DDIMScheduler.from_config(pipeline.scheduler.config)
scheduler.set_timesteps(args.steps)
labels = None
if config.num_class_embeds:
    labels = torch.arange(latents.shape[0]) % config.num_class_embeds
sample = latents * scheduler.init_noise_sigma
with torch.no_grad():
    for t in scheduler.timesteps:
        output = unet(sample, t, class_labels=labels).sample
        sample = scheduler.step(output, t, sample).prev_sample
ours = np.load(args.ours)
difference = np.abs(ours - sample.numpy()).max()
scale = np.abs(sample.numpy()).max()
print(json.dumps({"model": args.model, "steps": args.steps, "images": int(latents.shape[0]),
                  "max_abs_difference": float(difference), "sample_scale": float(scale)}))
sys.exit(0 if difference <= 1e-3 * max(scale, 1.0) else 1)
