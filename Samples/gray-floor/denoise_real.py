#!/usr/bin/env python3
"""How exactly the model denoises the backgrounds of *real* images in one call.

Usage: denoise_real.py MODEL TEST_FOLDER [PER_CLASS] (needs torch, diffusers, numpy and Pillow,
in a virtual environment outside the project).

Takes PER_CLASS (default 50) test images of every class, noises each at t in TIMESTEPS with the
model's own schedule (x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps, seed 0), asks the model
for v with the image's class, and turns that into the predicted image
x0_hat = sqrt(alpha_bar) x_t - sqrt(1 - alpha_bar) v, as the last step of DPM-Solver++ or DDIM
does. It prints, per t, for the pixels that are exactly black in the real image: the mean and
standard deviation of x0_hat in 0-255 levels and the share that comes out black once written as
a PNG (clamped, x / 2 + 0.5 times 255, rounded); and the share of all pixels that come out black.

If the model's one-call prediction from a real x_t already spreads the background over several
levels, the samples' gray floor is the model's precision at low noise; if it stays at black, the
spread comes from the sampling trajectory (the x_t a sampler reaches is not a real one).
"""
import json
import pathlib
import sys

import numpy as np
import torch
from diffusers import DDPMScheduler, UNet2DModel
from PIL import Image

TIMESTEPS = [0, 9, 19, 49, 99, 199, 299]

model = pathlib.Path(sys.argv[1])
test = pathlib.Path(sys.argv[2])
per_class = int(sys.argv[3]) if len(sys.argv) > 3 else 50

unet = UNet2DModel.from_pretrained(model / "unet").eval()
scheduler = DDPMScheduler.from_pretrained(model / "scheduler")
assert scheduler.config.prediction_type == "v_prediction", "this script reads v-prediction models"
alphas_cumprod = scheduler.alphas_cumprod.double()
class_names = json.loads((model / "class_names.json").read_text())

images, labels = [], []
for label, name in enumerate(class_names):
    if name is None:  # the "no class" row of guidance
        continue
    for path in sorted((test / name).glob("*.png"))[:per_class]:
        images.append(np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 127.5 - 1)
        labels.append(label)
x0 = torch.tensor(np.stack(images))[:, None]
labels = torch.tensor(labels)
black = x0 == -1
generator = torch.Generator().manual_seed(0)
noise = torch.randn(x0.shape, generator=generator, dtype=torch.float64)


def as_png_levels(x):
    return ((x / 2 + 0.5).clamp(0, 1) * 255).round()


print(f"{len(images)} test images, {black.double().mean().item():.1%} of their pixels black")
print("| t | sigma/alpha | background x0_hat mean ± sd (levels) | background kept black | all pixels black |")
print("|---|---|---|---|---|")
for t in TIMESTEPS:
    a = alphas_cumprod[t]
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    with torch.no_grad():
        v = torch.cat([unet(x_t[i:i + 100].float(), torch.full((len(x_t[i:i + 100]),), t),
                            class_labels=labels[i:i + 100]).sample.double()
                       for i in range(0, len(x_t), 100)])
    x0_hat = a.sqrt() * x_t - (1 - a).sqrt() * v
    background = (x0_hat[black] + 1) * 127.5
    levels = as_png_levels(x0_hat)
    print(f"| {t} | {((1 - a) / a).sqrt().item():.4f} | {background.mean().item():.2f} ± {background.std().item():.2f} "
          f"| {(levels[black] == 0).double().mean().item():.1%} | {(levels == 0).double().mean().item():.1%} |")
