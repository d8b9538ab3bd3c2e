#!/usr/bin/env python3
"""The table of Samples/gray-floor/README.md from the reports that make-gray-floor.sh wrote.

Usage: summarize.py REPORTS_DIR [WORK_DIR]. For each reports/NAME.json (a `diffuse evaluate
--json` report): exactly-black pixels, the pixel-histogram distances to the real set and the
evaluator's FID, precision, recall and coverage; with WORK_DIR, also the 25th and 40th
percentile of the unclamped final samples (WORK_DIR/raw-NAME.npy) in 0-255 levels, where real
images have 0 and 0 (half of their pixels are exactly black), and the mean and standard
deviation of the unclamped values below 4 levels (the background: real ones are all exactly 0).
"""
import json
import pathlib
import sys

reports = pathlib.Path(sys.argv[1])
work = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else None
names = sorted(p.stem for p in reports.glob("*.json"))
columns = ["variant", "black px", "TV", "W1 (levels)", "FID", "precision", "recall", "coverage"]
if work:
    columns += ["p25 / p40 (levels)", "background mean ± sd (levels)"]
print("| " + " | ".join(columns) + " |")
print("|" + "---|" * len(columns))
first = json.loads((reports / f"{names[0]}.json").read_text())
real_zeros = first["pixels"]["real"]["zeros"] if "real" in first["pixels"] else None
for name in names:
    r = json.loads((reports / f"{name}.json").read_text())
    px = r["pixels"]
    generated_zeros = px["generated"]["zeros"]
    row = [name, f"{100 * generated_zeros:.1f}%", f"{px['difference']['total_variation']:.3f}",
           f"{px['difference']['wasserstein_1']:.2f}", f"{r['fid']:.2f}", f"{r['precision']:.3f}",
           f"{r['recall']:.3f}", f"{r['coverage']:.3f}"]
    raw = work / f"raw-{name}.npy" if work else None
    if raw and raw.exists():
        import numpy as np
        levels = (np.load(raw).astype(np.float64) + 1) * 127.5
        row.append(f"{np.percentile(levels, 25):.1f} / {np.percentile(levels, 40):.1f}")
        background = levels[levels < 4]
        row.append(f"{background.mean():.2f} ± {background.std():.2f}")
    elif work:
        row += ["", ""]
    print("| " + " | ".join(row) + " |")
floor = first["pixels"]["floor"]["largest"]
print(f"\nReal: {100 * real_zeros:.1f}% black" if real_zeros is not None else "")
print(f"Two real sets of {first['pixels']['floor']['images']} differ by up to: TV {floor['total_variation']:.3f}, "
      f"W1 {floor['wasserstein_1']:.2f}, black {100 * floor['zeros']:.2f} points; evaluator floor: FID "
      f"{first['floor']['fid_at_report_sizes']:.2f}, precision {first['floor']['precision']:.3f}, recall {first['floor']['recall']:.3f}, "
      f"coverage {first['floor']['coverage']:.3f}")
