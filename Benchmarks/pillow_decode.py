"""The work of `dataset-benchmark`, done with Pillow: find the PNGs of a class-folder tree, open
each, convert to L or RGB, resize the shorter side and centre-crop when the size differs (as
torchvision's Resize + CenterCrop would), and keep the pixels as uint8 arrays. Prints images per
second, median of the runs, for one process and for a pool of `--workers` processes (what a
PyTorch DataLoader with that many workers does).

    ../venv/bin/python Benchmarks/pillow_decode.py FOLDER [--resolution 28] [--channels 1] [--repeats 5] [--workers 2]
"""
import argparse
import multiprocessing
import os
import statistics
import time

import numpy as np
from PIL import Image


def list_pngs(folder):
    found = []
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                if f.read(8) == b"\x89PNG\r\n\x1a\n":
                    found.append(path)
    return sorted(found)


def load(path, resolution, mode):
    image = Image.open(path).convert(mode)
    if image.size != (resolution, resolution):
        width, height = image.size
        short, long = min(width, height), max(width, height)
        size = (resolution, int(resolution * long / short))
        image = image.resize(size if width <= height else size[::-1], Image.BILINEAR)
        left = int(round((image.size[0] - resolution) / 2.0))
        top = int(round((image.size[1] - resolution) / 2.0))
        image = image.crop((left, top, left + resolution, top + resolution))
    return np.asarray(image, dtype=np.uint8)


def load_all(arguments):
    paths, resolution, mode = arguments
    return [load(p, resolution, mode) for p in paths]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--resolution", type=int, default=28)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    mode = "L" if args.channels == 1 else "RGB"

    for workers in (1, args.workers):
        rates = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            paths = list_pngs(args.folder)
            if workers == 1:
                images = load_all((paths, args.resolution, mode))
            else:
                shards = [(paths[i::workers], args.resolution, mode) for i in range(workers)]
                with multiprocessing.Pool(workers) as pool:
                    images = [image for shard in pool.map(load_all, shards) for image in shard]
            rates.append(len(images) / (time.perf_counter() - start))
        print(f"Pillow, {workers} process{'es' if workers > 1 else ''}: {len(images)} images, "
              f"{statistics.median(rates):.0f} images/s (median of {args.repeats}; min {min(rates):.0f}, max {max(rates):.0f})")


if __name__ == "__main__":
    main()
