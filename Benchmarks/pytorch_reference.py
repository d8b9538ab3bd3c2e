"""PyTorch reference numbers for Diffuse's U-Net presets, measured with diffusers' UNet2DModel on
the CPU, to compare against `diffuse` on the same machine.

For each preset (tiny, small), layout and case (32x32 RGB, 28x28 gray) it builds the UNet2DModel
config that Diffuse's benchmark builds and measures it. Layouts (--layouts):

  preset   `UNetPreset.config(resolution:channels:)` as shipped: three levels, attention at the
           lowest one and in the mid block, 32 norm groups, 8 channels per attention head, SiLU.
  heads8   diffusers' defaults for attention and normalization: attention at every level but
           the first (as UNet2DModel's default block types) in heads of 8 channels
           (`attention_head_dim` 8), 8 norm groups; at 32x32 the 64-channel level attends over
           16x16 = 256 positions in 8 heads.

What it measures:

  train_images_per_s   batch / median time of one training step. A step draws x0 uniform in
                       [-1, 1), Gaussian noise and timesteps in [0, 1000), noises x0 with
                       DDPMScheduler.add_noise (linear betas 1e-4..0.02), runs the forward pass,
                       the MSE loss against the noise and the backward pass, clips the gradient
                       norm to 1.0, takes an AdamW step (lr 1e-4, betas (0.95, 0.999), weight
                       decay 1e-6, PyTorch's default implementation) and zeroes the gradients
                       (set_to_none). train_step_s is that median time.
  forward_s            median time of one forward pass of a batch under torch.no_grad().
  ddim50_images_per_s  batch / median time of a whole 50-step DDIM sampling loop (diffusers'
                       DDIMScheduler, default config, eta 0) under torch.no_grad():
                       unet(x, t).sample then scheduler.step(...).prev_sample, 50 times.
  peak_memory_mb       peak resident set of a fresh process (this script re-run with a hidden
                       flag) after building the model and optimizer and taking 3 training steps:
                       resource.getrusage(RUSAGE_SELF).ru_maxrss, so it includes the Python
                       interpreter, torch, diffusers and their libraries, the parameters,
                       gradients, AdamW state, activations kept for backward and the
                       allocator's caches. baseline_memory_mb is the same reading just before
                       the first step (interpreter + libraries + model + empty optimizer);
                       peak - baseline is roughly what training itself adds. MB here is 2^20 bytes.
                       The child is started through /bin/sh so that Linux does not hand it this
                       process's ru_maxrss (it is checked against /proc/self/status VmHWM).
  sampling_peak_memory_mb  the same for sampling: a fresh process builds the model and takes 3
                       DDIM steps of a batch under torch.no_grad().
  forward_gflop,       FLOPs of one forward pass and of one training step's forward + loss +
  train_step_gflop     backward, counted by torch.utils.flop_counter.FlopCounterMode (convs,
                       matmuls and attention at 2 flops per multiply-add; elementwise work,
                       normalisation and the optimizer are not counted).
  *_gflops_per_s       those counts divided by train_step_s and forward_s.

Each timing is the median of --repeats runs after one warm-up run (the DDIM loop: --ddim-repeats
runs after a warm-up of two sampling steps), timed with time.perf_counter. PyTorch runs with
torch.set_num_threads(--threads), 2 by default. Parameter and FLOP counts are exact (they do not
depend on the random inputs, which are seeded anyway); times are as noisy as the machine: with
two OpenMP threads on two cores, any other busy process slows PyTorch down out of proportion.

    ../venv/bin/python Benchmarks/pytorch_reference.py [--presets tiny,small] [--cases 32x3,28x1]
        [--layouts preset,heads8] [--batch 64] [--repeats 5] [--ddim-repeats 2] [--threads 2] [--json FILE]
        [--skip-ddim] [--skip-memory]

Prints a table on stdout (progress on stderr); with --json FILE also writes
{"machine": {...}, "settings": {...}, "cases": [{...one object per preset and case...}]}.
"""
import argparse
import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel
from torch.utils.flop_counter import FlopCounterMode

PRESETS = {
    "tiny": {"block_out_channels": (32, 64, 64), "layers_per_block": 1},
    "small": {"block_out_channels": (64, 128, 128), "layers_per_block": 2},
}
LAYOUTS = {
    "preset": {"down_block_types": ("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
               "up_block_types": ("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"), "norm_num_groups": 32},
    "heads8": {"down_block_types": ("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"),
               "up_block_types": ("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"), "norm_num_groups": 8},
}
DDIM_STEPS = 50
MEMORY_STEPS = 3
MEMORY_PROBE_FLAG = "--memory-probe"  # hidden: PRESET:LAYOUT:RESOLUTION:CHANNELS:WORK, run in a child process


# ---------------------------------------------------------------------------------------------
# Model, optimizer and one training step


def build_unet(preset, resolution, channels, layout="preset"):
    """The UNet2DModel matching Diffuse's benchmark case (diffusers' defaults for everything else)."""
    return UNet2DModel(
        sample_size=resolution,
        in_channels=channels,
        out_channels=channels,
        attention_head_dim=8,
        act_fn="silu",
        **LAYOUTS[layout],
        **PRESETS[preset],
    )


def build_optimizer(unet):
    return torch.optim.AdamW(unet.parameters(), lr=1e-4, betas=(0.95, 0.999), weight_decay=1e-6)


def parameter_count(unet):
    return sum(p.numel() for p in unet.parameters())


def loss_and_backward(unet, noise_scheduler, batch, channels, resolution):
    """Random x0, noise and timesteps, DDPM noising, forward, MSE against the noise, backward."""
    x0 = torch.rand(batch, channels, resolution, resolution) * 2 - 1
    noise = torch.randn_like(x0)
    timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (batch,))
    noisy = noise_scheduler.add_noise(x0, noise, timesteps)
    loss = F.mse_loss(unet(noisy, timesteps).sample, noise)
    loss.backward()
    return loss


def train_step(unet, optimizer, noise_scheduler, batch, channels, resolution):
    loss_and_backward(unet, noise_scheduler, batch, channels, resolution)
    torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


# ---------------------------------------------------------------------------------------------
# Measurements


def median_seconds(run, repeats, warmup=None):
    """Median wall time of `run()` over `repeats` calls, after `warmup()` (default: one `run()`)."""
    (warmup or run)()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_training(unet, batch, channels, resolution, repeats):
    unet.train()
    optimizer = build_optimizer(unet)
    noise_scheduler = DDPMScheduler()
    return median_seconds(lambda: train_step(unet, optimizer, noise_scheduler, batch, channels, resolution), repeats)


def measure_forward(unet, batch, channels, resolution, repeats):
    unet.eval()
    x = torch.randn(batch, channels, resolution, resolution)
    timesteps = torch.randint(0, 1000, (batch,))
    with torch.no_grad():
        return median_seconds(lambda: unet(x, timesteps).sample, repeats)


def ddim_sample(unet, scheduler, x, steps):
    """`steps` DDIM steps from x (the scheduler's timesteps must be set); returns the result."""
    for t in scheduler.timesteps[:steps]:
        x = scheduler.step(unet(x, t).sample, t, x).prev_sample
    return x


def measure_ddim(unet, batch, channels, resolution, repeats):
    unet.eval()
    scheduler = DDIMScheduler()
    scheduler.set_timesteps(DDIM_STEPS)
    x = torch.randn(batch, channels, resolution, resolution)
    with torch.no_grad():
        return median_seconds(lambda: ddim_sample(unet, scheduler, x, DDIM_STEPS), repeats,
                              warmup=lambda: ddim_sample(unet, scheduler, x, 2))


def count_flops(run):
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops()


def measure_flops(unet, batch, channels, resolution):
    """(forward FLOPs, training step FLOPs) for one batch."""
    unet.eval()
    x = torch.randn(batch, channels, resolution, resolution)
    timesteps = torch.randint(0, 1000, (batch,))
    with torch.no_grad():
        forward = count_flops(lambda: unet(x, timesteps))
    unet.train()
    noise_scheduler = DDPMScheduler()
    train = count_flops(lambda: loss_and_backward(unet, noise_scheduler, batch, channels, resolution))
    unet.zero_grad(set_to_none=True)
    return forward, train


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def own_peak_rss_mb():
    """VmHWM from /proc/self/status: the peak of this process's own address space, or None."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


def memory_probe(spec, batch, threads):
    """Child process: print {"baseline_memory_mb", "peak_memory_mb"} for a few training steps
    (WORK train) or a few DDIM steps under torch.no_grad (WORK sample)."""
    preset, layout, resolution, channels, work = spec.split(":")
    resolution, channels = int(resolution), int(channels)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    unet = build_unet(preset, resolution, channels, layout)
    if work == "sample":
        unet.eval()
        scheduler = DDIMScheduler()
        scheduler.set_timesteps(DDIM_STEPS)
        x = torch.randn(batch, channels, resolution, resolution)
        baseline = max_rss_mb()
        with torch.no_grad():
            ddim_sample(unet, scheduler, x, MEMORY_STEPS)
    else:
        unet.train()
        optimizer = build_optimizer(unet)
        noise_scheduler = DDPMScheduler()
        baseline = max_rss_mb()
        for _ in range(MEMORY_STEPS):
            train_step(unet, optimizer, noise_scheduler, batch, channels, resolution)
    peak, own_peak = max_rss_mb(), own_peak_rss_mb()
    if own_peak is not None and abs(peak - own_peak) > 0.05 * own_peak:
        progress(f"warning: ru_maxrss {peak:.0f} MB but VmHWM {own_peak:.0f} MB; ru_maxrss may include a parent's")
    print(json.dumps({"baseline_memory_mb": baseline, "peak_memory_mb": peak}))


def measure_memory(preset, layout, resolution, channels, batch, threads, work="train"):
    """Runs `memory_probe` in a fresh interpreter so this process's memory does not count.

    Linux carries ru_maxrss across execve: a process started straight from this one (subprocess
    and multiprocessing both vfork or fork, then exec) would report at least this process's own
    peak. Started by a shell that forks it (the `; exit $?` keeps the shell from exec-ing it),
    it gets a fresh count.
    """
    probe = [sys.executable, os.path.abspath(__file__), MEMORY_PROBE_FLAG, f"{preset}:{layout}:{resolution}:{channels}:{work}",
             "--batch", str(batch), "--threads", str(threads)]
    command = ["/bin/sh", "-c", '"$@"; exit $?', "sh"] + probe
    result = subprocess.run(command, capture_output=True, text=True)
    sys.stderr.write(result.stderr if result.returncode else "".join(
        line for line in result.stderr.splitlines(keepends=True) if line.startswith("warning")))
    result.check_returncode()
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# One case, the machine, the report


def measure_case(preset, layout, resolution, channels, args):
    torch.manual_seed(0)
    unet = build_unet(preset, resolution, channels, layout)
    case = {"preset": preset, "layout": layout, "resolution": resolution, "channels": channels,
            "batch": args.batch, "parameters": parameter_count(unet)}
    label = f"{preset}/{layout} {resolution}x{resolution}x{channels}"

    progress(f"{label}: flops")
    forward_flops, train_flops = measure_flops(unet, args.batch, channels, resolution)
    progress(f"{label}: training")
    step = measure_training(unet, args.batch, channels, resolution, args.repeats)
    progress(f"{label}: forward")
    forward = measure_forward(unet, args.batch, channels, resolution, args.repeats)
    ddim = None
    if not args.skip_ddim:
        progress(f"{label}: DDIM {DDIM_STEPS} steps")
        ddim = measure_ddim(unet, args.batch, channels, resolution, args.ddim_repeats)
    memory = {"peak_memory_mb": None, "baseline_memory_mb": None}
    sampling_memory = {"peak_memory_mb": None}
    if not args.skip_memory:
        progress(f"{label}: memory (child process)")
        del unet
        gc.collect()
        memory = measure_memory(preset, layout, resolution, channels, args.batch, args.threads)
        sampling_memory = measure_memory(preset, layout, resolution, channels, args.batch, args.threads, "sample")

    case.update({
        "train_images_per_s": args.batch / step,
        "train_step_s": step,
        "forward_s": forward,
        "ddim50_images_per_s": None if ddim is None else args.batch / ddim,
        "peak_memory_mb": memory["peak_memory_mb"],
        "baseline_memory_mb": memory["baseline_memory_mb"],
        "sampling_peak_memory_mb": sampling_memory["peak_memory_mb"],
        "forward_gflop": forward_flops / 1e9,
        "train_step_gflop": train_flops / 1e9,
        "train_gflops_per_s": train_flops / 1e9 / step,
        "forward_gflops_per_s": forward_flops / 1e9 / forward,
    })
    return case


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return platform.processor() or None
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    name = fields.get("model name")
    family, model = fields.get("cpu family"), fields.get("model")
    return f"{name} (family {family}, model {model})" if family and model else name


def build_setting(key):
    """A value from the `Build settings` line of torch.__config__.show(), e.g. BLAS_INFO."""
    match = re.search(rf"\b{key}=([^,\s]+)", torch.__config__.show())
    return match.group(1) if match else None


def machine_info(threads):
    import diffusers
    import numpy
    return {
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "threads": threads,
        "interop_threads": torch.get_num_interop_threads(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "blas": build_setting("BLAS_INFO"),
        "mkl": torch.backends.mkl.is_available(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "parallel_backend": next((line.split(":", 1)[1].strip() for line in torch.__config__.parallel_info().splitlines()
                                  if line.startswith("ATen parallel backend")), None),
        "environment": {k: os.environ.get(k) for k in
                        ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE")},
    }


def format_value(value, digits):
    return "-" if value is None else f"{value:,.{digits}f}"


def print_table(cases):
    columns = [("preset", "preset", None), ("layout", "layout", None), ("case", None, None), ("params", "parameters", 0),
               ("train img/s", "train_images_per_s", 1), ("step s", "train_step_s", 3),
               ("fwd s", "forward_s", 3), ("ddim50 img/s", "ddim50_images_per_s", 2),
               ("peak MB", "peak_memory_mb", 0), ("base MB", "baseline_memory_mb", 0),
               ("sample peak MB", "sampling_peak_memory_mb", 0),
               ("fwd GFLOP", "forward_gflop", 2), ("train GFLOP", "train_step_gflop", 2),
               ("train GFLOP/s", "train_gflops_per_s", 1), ("fwd GFLOP/s", "forward_gflops_per_s", 1)]
    rows = [[title for title, _, _ in columns]]
    for case in cases:
        row = []
        for title, key, digits in columns:
            if key is None:
                row.append(f"{case['resolution']}x{case['resolution']}x{case['channels']}")
            elif digits is None:
                row.append(str(case[key]))
            else:
                row.append(format_value(case[key], digits))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def progress(message):
    print(message, file=sys.stderr, flush=True)


def parse_cases(text):
    """'32x3,28x1' -> [(32, 3), (28, 1)]"""
    cases = []
    for item in text.split(","):
        resolution, channels = item.lower().split("x")
        cases.append((int(resolution), int(channels)))
    return cases


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="tiny,small", help="comma-separated: tiny, small")
    parser.add_argument("--cases", default="32x3,28x1", help="comma-separated RESOLUTIONxCHANNELS")
    parser.add_argument("--layouts", default="preset,heads8", help="comma-separated: preset, heads8")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of training and forward")
    parser.add_argument("--ddim-repeats", type=int, default=2, help="timed 50-step DDIM loops")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--skip-ddim", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(MEMORY_PROBE_FLAG, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    unknown = [p for p in args.presets if p not in PRESETS]
    if unknown:
        parser.error(f"unknown preset(s) {unknown}; choose from {sorted(PRESETS)}")
    args.layouts = [l.strip() for l in args.layouts.split(",") if l.strip()]
    unknown = [l for l in args.layouts if l not in LAYOUTS]
    if unknown:
        parser.error(f"unknown layout(s) {unknown}; choose from {sorted(LAYOUTS)}")
    try:
        args.cases = parse_cases(args.cases)
    except ValueError:
        parser.error("--cases takes RESOLUTIONxCHANNELS items, e.g. 32x3,28x1")
    return args


def main():
    args = parse_arguments()
    if args.memory_probe:
        memory_probe(args.memory_probe, args.batch, args.threads)
        return
    torch.set_num_threads(args.threads)
    machine = machine_info(args.threads)
    settings = {"batch": args.batch, "repeats": args.repeats, "ddim_repeats": args.ddim_repeats,
                "ddim_steps": DDIM_STEPS, "memory_steps": MEMORY_STEPS}
    started = time.perf_counter()
    cases = []
    for preset in args.presets:
        for layout in args.layouts:
            for resolution, channels in args.cases:
                cases.append(measure_case(preset, layout, resolution, channels, args))
                progress(json.dumps(cases[-1]))
                if args.json:  # after every case, so an interrupted run keeps what it measured
                    write_json(args.json, {"machine": machine, "settings": settings, "cases": cases})
    progress(f"total {time.perf_counter() - started:.0f} s")

    print(f"torch {machine['torch']}, diffusers {machine['diffusers']}, {args.threads} threads, "
          f"{machine['cpu_model']}, BLAS {machine['blas']}, batch {args.batch}, "
          f"median of {args.repeats} (DDIM: {args.ddim_repeats})")
    print_table(cases)


def write_json(path, results):
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
