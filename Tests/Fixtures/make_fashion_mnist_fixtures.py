"""Ten real Fashion-MNIST test images, the first of each class, as class folders of PNGs.

Read from Debian's dataset-fashion-mnist IDX files and written with Pillow, in the folder layout
`diffuse import` makes (class names as in the shipped models' class_names.json). The tests use
them to check the shipped model on images it never trained on.

    python3 Tests/Fixtures/make_fashion_mnist_fixtures.py
"""
import gzip
import pathlib

import numpy as np
from PIL import Image

SOURCE = pathlib.Path("/usr/share/datasets/fashion-mnist")
OUT = pathlib.Path(__file__).parent / "fashion-mnist" / "test-10"
# Fashion-MNIST's label order, with "T-shirt/top" spelled as a folder name.
CLASSES = ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(name):
    with gzip.open(SOURCE / name) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


images = read_idx("t10k-images-idx3-ubyte.gz")
labels = read_idx("t10k-labels-idx1-ubyte.gz")
for label, name in enumerate(CLASSES):
    index = int(np.flatnonzero(labels == label)[0])
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(images[index], mode="L").save(folder / f"{index:05d}.png")
    print(f"{name}: test image {index}")
