"""Nearest training image in pixel space, for generated images and, as the baseline, held-out real ones.

    python pixel_nearest.py TRAIN_DIR GENERATED_DIR HELD_OUT_DIR

For every image of GENERATED_DIR and HELD_OUT_DIR (PNG, class folders or flat): the Euclidean
distance in pixels (0..1) to its nearest image of TRAIN_DIR, and the ratio of that distance to
the second nearest's. Carlini et al. 2023 call a generation a copy when it is close in pixels
and far closer to one training image than to the rest; Gu et al. 2023 use a ratio below 1/3.
A model that copies puts its samples nearer its training images than unseen real images come.
Needs numpy and pillow (outside the project).
"""
import pathlib
import sys

import numpy as np
from PIL import Image


def load(folder):
    files = sorted(pathlib.Path(folder).rglob("*.png"))
    return np.stack([np.asarray(Image.open(f).convert("L"), dtype=np.float64).ravel() / 255 for f in files])


def nearest(train, queries):
    d = np.sqrt(((queries[:, None, :] - train[None, :, :]) ** 2).sum(-1))
    d.sort(axis=1)
    return d[:, 0], d[:, 0] / d[:, 1]


train, generated, held_out = (load(folder) for folder in sys.argv[1:4])
print(f"{len(train)} training images; distances in pixels of 0..1 over {train.shape[1]} pixels")
print("| images | count | median distance to nearest training image | 10th percentile | median ratio nearest/second | ratio < 1/3 |")
print("|---|---|---|---|---|---|")
for name, queries in (("generated", generated), ("held-out real", held_out)):
    distance, ratio = nearest(train, queries)
    print(f"| {name} | {len(queries)} | {np.median(distance):.2f} | {np.percentile(distance, 10):.2f} | "
          f"{np.median(ratio):.3f} | {(ratio < 1 / 3).sum()} |")
