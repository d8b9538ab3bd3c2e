#!/usr/bin/env python3
"""Writes the PNG files and expected pixel arrays that ImagingTests/PNGTests.swift reads.

Run from anywhere with a Python that has numpy and Pillow:

    /work/venv/bin/python Tests/Fixtures/make_png_fixtures.py

It (re)writes Tests/Fixtures/png/ next to this script; the output is deterministic, so running
it again leaves the files unchanged.

The PNG files are written by hand (`write_png` below) rather than by Pillow, because Pillow
cannot write interlaced PNGs or 16-bit colour ones, and so that every row filter
(None, Sub, Up, Average, Paeth), split IDAT chunks and colour chunks (gAMA, sRGB, cHRM, iCCP)
appear. Sizes are odd (9x7 mostly) so that Adam7 passes and sub-byte rows end part-way.

Expected arrays, for every good file NAME:
  expected/NAME.L.bin    height * width bytes: what the decoder must return for channels 1
  expected/NAME.RGB.bin  height * width * 3 bytes, HWC: the same for channels 3
  index.json             NAME -> width, height, bitDepth, colorType, interlaced

For bit depths up to 8 they are Pillow's `Image.open(f).convert("L")` and `.convert("RGB")`
arrays; the script also recomputes them from the samples it wrote (luma
(19595 R + 38470 G + 7471 B + 0x8000) >> 16 as in Pillow's Convert.c, alpha and tRNS dropped,
palette looked up, low-bit gray scaled by 255 / (2**depth - 1)) and checks that the two agree.
For 16-bit files Pillow clips or keeps the high byte, so the expected arrays come from the raw
16-bit samples instead: each sample becomes round(v / 257), then the same luma formula.

Bad files under bad/ (the tests expect each to throw a FileFormatError):
  empty.png             zero bytes
  not_png.png           text, wrong signature
  huge_dimensions.png   IHDR declares 2**30 x 2**30 RGB, valid CRC, tiny IDAT
  too_wide.png          a valid 70000 x 1 gray image: wider than the 2**16 limit
  bad_idat_crc.png      gray8 whose IDAT CRC is wrong
  flipped_idat.png      gray8 with one IDAT data byte flipped (libpng may notice the garbled
                        data before it reaches the CRC)
  bad_zlib.png          IDAT holds bytes that are not a zlib stream, with a valid CRC
  bad_ihdr_crc.png      IHDR's CRC is wrong
  bad_bit_depth.png     IHDR declares bit depth 3 for RGB, valid CRC
  no_idat.png           IHDR then IEND
  short_idat.png        the zlib stream holds fewer rows than the image has
Truncations of every length, and single flipped bytes, are made by the tests themselves from
gray8_plain.png (a 9x7 gray file holding only IHDR, one IDAT and IEND) and a few good files.
"""

import json
import os
import struct
import warnings
import zlib

import numpy as np
from PIL import Image, ImageCms

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "png")

GRAY, RGB, PALETTE, GRAY_ALPHA, RGBA = 0, 2, 3, 4, 6
CHANNELS = {GRAY: 1, RGB: 3, PALETTE: 1, GRAY_ALPHA: 2, RGBA: 4}
COLOR_NAMES = {GRAY: "gray", RGB: "RGB", PALETTE: "palette", GRAY_ALPHA: "gray+alpha", RGBA: "RGBA"}

# Adam7 passes as (first column, first row, column step, row step).
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


# ---------------------------------------------------------------------------------------------
# A small PNG writer


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def ihdr(width, height, depth, color, interlaced):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 1 if interlaced else 0))


def pack_row(samples, depth):
    """One row of samples (width x channels ints) as PNG bytes, without the filter byte."""
    flat = [int(v) for v in np.asarray(samples).reshape(-1)]
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in flat)
    if depth == 8:
        return bytes(flat)
    per_byte = 8 // depth
    out = bytearray()
    for start in range(0, len(flat), per_byte):
        group = flat[start:start + per_byte]
        byte = 0
        for i, v in enumerate(group):
            byte |= v << (8 - depth * (i + 1))
        out.append(byte)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, raw, prev, bpp):
    """Applies PNG filter `kind` (0-4) to `raw` given the previous raw row `prev`."""
    out = bytearray([kind])
    for i, x in enumerate(raw):
        a = raw[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((x - predictor) & 0xFF)
    return bytes(out)


def image_data(samples, depth, interlaced):
    """The filtered, uncompressed image data; the filter type cycles 0-4 row by row."""
    height, width = samples.shape[:2]
    channels = samples.shape[2]
    bpp = max(1, channels * depth // 8)
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    data = bytearray()
    row_number = 0
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue  # empty passes are left out altogether
        prev = bytes(len(pack_row(sub[0], depth)))
        for row in sub:
            raw = pack_row(row, depth)
            data += filter_row(row_number % 5, raw, prev, bpp)
            prev = raw
            row_number += 1
    return bytes(data)


def write_png(name, samples, depth, color, interlaced=False, palette=None, trns=None,
              extra=(), idat_pieces=1):
    """Writes png/NAME.png from `samples` (height x width x channels ints, as stored)."""
    samples = np.asarray(samples)
    height, width = samples.shape[:2]
    parts = [b"\x89PNG\r\n\x1a\n", ihdr(width, height, depth, color, interlaced)]
    parts += list(extra)
    if palette is not None:
        parts.append(chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1))))
    if trns is not None:
        parts.append(chunk(b"tRNS", trns))
    stream = zlib.compress(image_data(samples, depth, interlaced), 9)
    # Split the stream over several IDAT chunks (one of them empty) when asked.
    cuts = [len(stream) * i // idat_pieces for i in range(idat_pieces + 1)]
    for start, end in zip(cuts, cuts[1:]):
        parts.append(chunk(b"IDAT", stream[start:end]))
    if idat_pieces > 1:
        parts.insert(-1, chunk(b"IDAT", b""))
    parts.append(chunk(b"IEND", b""))
    data = b"".join(parts)
    with open(os.path.join(OUT, name + ".png"), "wb") as f:
        f.write(data)
    return data


# ---------------------------------------------------------------------------------------------
# Expected pixels


def luma(rgb):
    """Pillow's ITU-R 601-2 luma: (19595 R + 38470 G + 7471 B + 0x8000) >> 16."""
    rgb = rgb.astype(np.int64)
    return ((rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16).astype(np.uint8)


def to_8bit(samples, depth, color):
    """Samples as 8-bit values: low-bit gray scaled up, 16-bit rounded (v / 257)."""
    samples = samples.astype(np.int64)
    if depth == 16:
        return ((samples + 128) // 257).astype(np.uint8)  # round(v / 257); never a tie
    if depth < 8 and color != PALETTE:
        return (samples * (255 // (2 ** depth - 1))).astype(np.uint8)
    return samples.astype(np.uint8)


def expected_from_samples(samples, depth, color, palette):
    """(L, RGB) arrays computed from the stored samples by the decoding rules."""
    values = to_8bit(samples, depth, color)
    if color == PALETTE:
        rgb = np.asarray(palette, dtype=np.uint8)[values[..., 0]]
    elif color in (GRAY, GRAY_ALPHA):
        rgb = np.repeat(values[..., :1], 3, axis=2)
    else:
        rgb = values[..., :3]
    gray = values[..., 0] if color in (GRAY, GRAY_ALPHA) else luma(rgb)
    return gray, rgb


INDEX = {}


def add(name, samples, depth, color, interlaced=False, palette=None, **options):
    """Writes a good fixture and its expected arrays, checked against Pillow below 16 bits."""
    samples = np.asarray(samples)
    write_png(name, samples, depth, color, interlaced, palette, **options)
    gray, rgb = expected_from_samples(samples, depth, color, palette)
    if depth <= 8:
        with Image.open(os.path.join(OUT, name + ".png")) as im, warnings.catch_warnings():
            # Pillow suggests converting palette images with tRNS to RGBA; we mean to drop it.
            warnings.simplefilter("ignore")
            pillow_gray = np.asarray(im.convert("L"))
            pillow_rgb = np.asarray(im.convert("RGB"))
        assert np.array_equal(pillow_gray, gray), f"{name}: L differs from Pillow"
        assert np.array_equal(pillow_rgb, rgb), f"{name}: RGB differs from Pillow"
    height, width = samples.shape[:2]
    with open(os.path.join(OUT, "expected", name + ".L.bin"), "wb") as f:
        f.write(np.ascontiguousarray(gray, dtype=np.uint8).tobytes())
    with open(os.path.join(OUT, "expected", name + ".RGB.bin"), "wb") as f:
        f.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
    INDEX[name] = {"width": width, "height": height, "bitDepth": depth,
                   "colorType": COLOR_NAMES[color], "interlaced": interlaced}


# 16-bit values around the rounding boundaries of v / 257: 257k + 128 rounds down, + 129 up.
EDGE16 = [0, 65535, 128, 129, 257 * 100 + 128, 257 * 100 + 129, 32767, 32768, 255, 256]


def random_samples(rng, height, width, channels, depth):
    top = 2 ** depth
    samples = rng.integers(0, top, size=(height, width, channels))
    if depth == 16:
        flat = samples.reshape(-1)
        flat[:len(EDGE16)] = EDGE16
    return samples


def make_good():
    rng = np.random.default_rng(20240611)
    h, w = 7, 9
    kinds = [(GRAY, d) for d in (1, 2, 4, 8, 16)] + [(GRAY_ALPHA, 8), (GRAY_ALPHA, 16), (RGB, 8),
             (RGB, 16), (RGBA, 8), (RGBA, 16)] + [(PALETTE, d) for d in (1, 2, 4, 8)]
    for color, depth in kinds:
        for interlaced in (False, True):
            prefix = COLOR_NAMES[color].replace("+", "_").lower()
            name = f"{prefix}{depth}{'_interlaced' if interlaced else ''}"
            palette = None
            if color == PALETTE:
                entries = min(2 ** depth, 200)  # an 8-bit palette need not be full
                palette = rng.integers(0, 256, size=(entries, 3))
                samples = rng.integers(0, entries, size=(h, w, 1))
            else:
                samples = random_samples(rng, h, w, CHANNELS[color], depth)
            add(name, samples, depth, color, interlaced, palette, idat_pieces=3 if interlaced else 1)

    # Transparency chunks are ignored: alpha is dropped, never composited.
    palette = rng.integers(0, 256, size=(16, 3))
    add("palette4_trns", rng.integers(0, 16, size=(h, w, 1)), 4, PALETTE, palette=palette,
        trns=bytes([0, 128, 255, 7]))
    palette = rng.integers(0, 256, size=(256, 3))
    add("palette8_trns_interlaced", rng.integers(0, 256, size=(h, w, 1)), 8, PALETTE, True,
        palette=palette, trns=bytes(range(0, 256, 3)))
    samples = rng.integers(0, 256, size=(h, w, 1))
    add("gray8_trns", samples, 8, GRAY, trns=struct.pack(">H", int(samples[0, 0, 0])))
    samples = rng.integers(0, 256, size=(h, w, 3))
    add("rgb8_trns", samples, 8, RGB, trns=struct.pack(">HHH", *[int(v) for v in samples[1, 1]]))
    samples = random_samples(rng, h, w, 1, 16)
    add("gray16_trns", samples, 16, GRAY, trns=struct.pack(">H", int(samples[0, 1, 0])))

    # Colour chunks change nothing: the samples are the pixels.
    def gama(gamma):
        return chunk(b"gAMA", struct.pack(">I", round(gamma * 100000)))

    chrm = chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))
    add("gray8_gamma1", rng.integers(0, 256, size=(h, w, 1)), 8, GRAY, extra=[gama(1.0)])
    add("rgb8_gamma045", rng.integers(0, 256, size=(h, w, 3)), 8, RGB, extra=[gama(0.45455), chrm])
    add("gray16_gamma1", random_samples(rng, h, w, 1, 16), 16, GRAY, extra=[gama(1.0)])
    add("rgb16_gamma045_interlaced", random_samples(rng, h, w, 3, 16), 16, RGB, True,
        extra=[gama(0.45455)])
    add("rgba16_gamma1", random_samples(rng, h, w, 4, 16), 16, RGBA, extra=[gama(1.0)])
    add("rgb8_srgb", rng.integers(0, 256, size=(h, w, 3)), 8, RGB,
        extra=[chunk(b"sRGB", b"\x00"), gama(0.45455), chunk(b"tEXt", b"Comment\x00fixture")])
    add("rgb16_iccp", random_samples(rng, h, w, 3, 16), 16, RGB, extra=[iccp_chunk()])

    # Edge sizes: a single pixel (Adam7 passes 2-7 empty) and rows that end mid-byte.
    add("rgb8_1x1_interlaced", rng.integers(0, 256, size=(1, 1, 3)), 8, RGB, True)
    add("gray1_1x1", np.array([[[1]]]), 1, GRAY)
    add("gray2_3x2_interlaced", rng.integers(0, 4, size=(2, 3, 1)), 2, GRAY, True)
    add("gray1_13x9_interlaced", rng.integers(0, 2, size=(9, 13, 1)), 1, GRAY, True)


def iccp_chunk():
    """An iCCP chunk holding lcms's sRGB profile, its creation date fixed for determinism."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
    return chunk(b"iCCP", b"sRGB\x00\x00" + zlib.compress(bytes(profile), 9))


# ---------------------------------------------------------------------------------------------
# Bad files


def make_bad():
    bad = os.path.join(OUT, "bad")

    def save(name, data):
        with open(os.path.join(bad, name), "wb") as f:
            f.write(data)

    signature = b"\x89PNG\r\n\x1a\n"
    iend = chunk(b"IEND", b"")
    gray = np.arange(63).reshape(7, 9, 1) * 4
    rows = image_data(gray, 8, False)
    good = signature + ihdr(9, 7, 8, GRAY, False) + chunk(b"IDAT", zlib.compress(rows)) + iend

    save("empty.png", b"")
    save("not_png.png", b"this is a text file, not a PNG image\n")
    save("huge_dimensions.png", signature + ihdr(1 << 30, 1 << 30, 8, RGB, False)
         + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + iend)
    save("too_wide.png", signature + ihdr(70000, 1, 8, GRAY, False)
         + chunk(b"IDAT", zlib.compress(b"\x00" * 70001, 9)) + iend)
    flipped = bytearray(good)
    flipped[good.index(b"IEND") - 8] ^= 0x01  # the last byte of IDAT's CRC
    save("bad_idat_crc.png", bytes(flipped))
    flipped = bytearray(good)
    flipped[good.index(b"IDAT") + 10] ^= 0x40
    save("flipped_idat.png", bytes(flipped))
    save("bad_zlib.png", signature + ihdr(9, 7, 8, GRAY, False)
         + chunk(b"IDAT", bytes(range(200, 256)) * 2) + iend)
    broken = bytearray(good)
    broken[8 + 8 + 13] ^= 0x01  # first byte of IHDR's CRC
    save("bad_ihdr_crc.png", bytes(broken))
    save("bad_bit_depth.png", signature + chunk(b"IHDR", struct.pack(">IIBBBBB", 9, 7, 3, RGB, 0, 0, 0))
         + chunk(b"IDAT", zlib.compress(rows)) + iend)
    save("no_idat.png", signature + ihdr(9, 7, 8, GRAY, False) + iend)
    save("short_idat.png", signature + ihdr(9, 7, 8, GRAY, False)
         + chunk(b"IDAT", zlib.compress(rows[:3 * 10])) + iend)
    # Damage libpng calls benign and passes over unless told not to: a zlib stream holding more
    # than the image, and palette indices past the end of the palette.
    save("extra_zlib_data.png", signature + ihdr(9, 7, 8, GRAY, False)
         + chunk(b"IDAT", zlib.compress(rows + bytes(10000))) + iend)
    indices = np.arange(63).reshape(7, 9, 1) % 5
    save("palette_index_out_of_range.png", signature + ihdr(9, 7, 8, PALETTE, False)
         + chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255])) + chunk(b"IDAT", zlib.compress(image_data(indices, 8, False))) + iend)
    with open(os.path.join(OUT, "gray8_plain.png"), "wb") as f:
        f.write(good)  # the file the truncation and corruption tests start from


def main():
    for folder in ("", "expected", "bad"):
        os.makedirs(os.path.join(OUT, folder), exist_ok=True)
    make_good()
    make_bad()
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(INDEX, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(INDEX)} good fixtures and the bad ones to {OUT}")


if __name__ == "__main__":
    main()
