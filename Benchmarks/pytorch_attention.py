"""PyTorch's scaled-dot-product attention on the shapes `conv-benchmark --only attention` times,
to read beside it (batch 64, heads of channels / heads, the U-Net's attention layers).

For each (positions L, channels, heads): "sampling" is one call of
torch.nn.functional.scaled_dot_product_attention under torch.no_grad(); "training" is the same
call on inputs that require gradients, then backward from a random output gradient. Medians of
--repeats timed runs after one warm-up, time.perf_counter, torch.set_num_threads(--threads).

    ../venv/bin/python Benchmarks/pytorch_attention.py [--repeats 5] [--threads 2]
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

SHAPES = [(256, 64, 8), (196, 64, 8), (64, 64, 8), (49, 64, 8), (256, 128, 16), (64, 128, 16), (64, 64, 1)]


def median_ms(run, repeats):
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} threads, batch 64, median of {args.repeats}")
    print("| positions L | channels | heads (d) | sampling ms | GFLOP/s | training fwd + bwd ms | GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for length, channels, heads in SHAPES:
        d = channels // heads
        q, k, v = (torch.randn(64, heads, length, d) for _ in range(3))
        grad = torch.randn(64, heads, length, d)

        def sampling():
            with torch.no_grad():
                F.scaled_dot_product_attention(q, k, v)

        def training():
            qq, kk, vv = (t.clone().requires_grad_() for t in (q, k, v))
            F.scaled_dot_product_attention(qq, kk, vv).backward(grad)

        flops = 4 * 64 * length * length * channels
        s, t = median_ms(sampling, args.repeats), median_ms(training, args.repeats)
        print(f"| {length} | {channels} | {heads} ({d}) | {s:.2f} | {flops / s / 1e6:.0f} | {t:.2f} | {3 * flops / t / 1e6:.0f} |")


if __name__ == "__main__":
    main()
