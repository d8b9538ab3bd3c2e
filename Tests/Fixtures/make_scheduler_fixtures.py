"""Make diffusers reference fixtures for the Swift DDPM and DDIM scheduler tests.

Writes into Tests/Fixtures/diffusion/schedulers/:
- alphas_cumprod.safetensors: scheduler.alphas_cumprod for every beta schedule
  (also with rescale_betas_zero_snr and non-default ranges).
- timesteps.safetensors: set_timesteps results for (spacing, steps_offset,
  num_inference_steps) combinations, DDPM and DDIM, plus per spacing the sums
  of the timesteps for every count from 1 to 1000 ("sums.<spacing>").
- ddim.safetensors: multi-step DDIM trajectories (eta 0, and eta > 0 with the
  variance noise given explicitly).
- ddpm.safetensors: DDPM steps (mean, variance, full step with given noise)
  and multi-step DDPM trajectories with given noise.

Run from the project root:

    /work/venv/bin/python Tests/Fixtures/make_scheduler_fixtures.py

Made with torch 2.15.0+cu132, diffusers 0.42.1, numpy 2.4.6, safetensors 0.8.0
(the versions actually used are also stored in every file's metadata under
the key "made_by").

Conventions:
- Everything runs in float32, as diffusers runs on the CPU; inputs are drawn
  from a torch.Generator with a fixed seed and stored as used.
- The stand-in "model" is model_output(x, t) = 0.25 * x + sin(t / 100) * c
  for a stored tensor c (sin in double, then float32), so the Swift tests can
  evaluate it exactly.
- Each case's metadata entry (keyed by the case name) is JSON: "config" (the
  keyword arguments given to the scheduler: unset keys take its defaults),
  "steps" (num_inference_steps, or null when set_timesteps is not called)
  and the step options.
- Tensor names are "<case>.<tensor>". A trajectory stores "x" (the start),
  "c", "timesteps" and "samples" (the sample after each step, stacked); with
  noise, "noise" holds the noise of each step, stacked.
- diffusers' trailing spacing yields num_inference_steps + 1 timesteps, the
  last one -1, for 62 of the counts 1 ... 1000 (61 among them) because of
  np.arange's float length; the fixtures keep the first num_inference_steps.
"""

import json
import math
from pathlib import Path

import diffusers
import numpy as np
import safetensors
import torch
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.schedulers import scheduling_ddpm
from safetensors.torch import save_file

OUT_DIR = Path(__file__).resolve().parent / "diffusion" / "schedulers"
SEED = 0
SHAPE = (2, 2, 3, 3)
MADE_BY = (
    f"torch {torch.__version__}, diffusers {diffusers.__version__}, "
    f"numpy {np.__version__}, safetensors {safetensors.__version__}"
)


def save(name, tensors, metadata):
    tensors = {k: torch.as_tensor(v).to(torch.float32).contiguous() for k, v in tensors.items()}
    metadata = {k: json.dumps(v) for k, v in metadata.items()} | {"made_by": MADE_BY}
    save_file(tensors, str(OUT_DIR / f"{name}.safetensors"), metadata=metadata)


def model_output(x, t, c):
    """The stand-in model: 0.25 x + sin(t / 100) c, in float32."""
    return 0.25 * x + c * math.sin(t / 100)


def first_timesteps(scheduler, steps):
    """set_timesteps(steps), keeping at most `steps` timesteps (see the module note)."""
    scheduler.set_timesteps(steps)
    scheduler.timesteps = scheduler.timesteps[:steps]
    return scheduler.timesteps


def make_alphas_cumprod():
    cases = {
        "linear": {},
        "scaled_linear": {"beta_schedule": "scaled_linear"},
        "scaled_linear_sd": {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012},
        "cosine": {"beta_schedule": "squaredcos_cap_v2"},
        "sigmoid": {"beta_schedule": "sigmoid"},
        "linear_zero_snr": {"rescale_betas_zero_snr": True},
        "scaled_linear_zero_snr": {"beta_schedule": "scaled_linear", "rescale_betas_zero_snr": True},
        "cosine_zero_snr": {"beta_schedule": "squaredcos_cap_v2", "rescale_betas_zero_snr": True},
        "sigmoid_zero_snr": {"beta_schedule": "sigmoid", "rescale_betas_zero_snr": True},
        "linear_101": {"num_train_timesteps": 101, "beta_start": 0.001, "beta_end": 0.05},
        "sigmoid_37": {"beta_schedule": "sigmoid", "num_train_timesteps": 37},
    }
    tensors, metadata = {}, {}
    for case, config in cases.items():
        tensors[case] = DDPMScheduler(**config).alphas_cumprod
        metadata[case] = {"config": config}
    save("alphas_cumprod", tensors, metadata)


def make_timesteps():
    cases = {}
    for name, cls in (("ddpm", DDPMScheduler), ("ddim", DDIMScheduler)):
        for spacing, offset in (("leading", 0), ("leading", 1), ("trailing", 0), ("linspace", 0)):
            for steps in (1, 3, 7, 10, 50, 61):
                config = {"timestep_spacing": spacing, "steps_offset": offset}
                cases[f"{name}_{spacing}_offset{offset}_{steps}"] = (cls, config, steps)
    for spacing in ("leading", "trailing", "linspace"):
        cases[f"ddpm_{spacing}_offset0_1000"] = (DDPMScheduler, {"timestep_spacing": spacing}, 1000)
        cases[f"ddim_{spacing}_100train_29"] = (
            DDIMScheduler, {"timestep_spacing": spacing, "num_train_timesteps": 100}, 29)
    cases["ddpm_default_50"] = (DDPMScheduler, {}, 50)
    cases["ddim_default_50"] = (DDIMScheduler, {}, 50)
    tensors, metadata = {}, {}
    for case, (cls, config, steps) in cases.items():
        tensors[case] = first_timesteps(cls(**config), steps)
        metadata[case] = {"config": config, "steps": steps}
    for spacing in ("leading", "trailing", "linspace"):
        scheduler = DDPMScheduler(timestep_spacing=spacing)
        tensors[f"sums.{spacing}"] = torch.tensor(
            [first_timesteps(scheduler, n).sum().item() for n in range(1, 1001)], dtype=torch.float64)
    save("timesteps", tensors, metadata)


def run_ddim(scheduler, steps, x, c, eta, use_clipped, noise):
    samples = []
    for k, t in enumerate(first_timesteps(scheduler, steps)):
        out = model_output(x, t.item(), c)
        variance_noise = None if noise is None else noise[k]
        x = scheduler.step(out, t, x, eta=eta, use_clipped_model_output=use_clipped,
                           variance_noise=variance_noise).prev_sample
        samples.append(x)
    return torch.stack(samples)


def make_ddim():
    cases = {  # name: (config, steps, eta, use_clipped_model_output)
        "eps_linear": ({}, 10, 0.0, False),
        "eps_linear_noclip": ({"clip_sample": False}, 10, 0.0, False),
        "eps_linear_clipped_output": ({}, 10, 0.0, True),
        "eps_linear_alpha_not_one": ({"set_alpha_to_one": False, "clip_sample": False}, 10, 0.0, False),
        "eps_scaled_linear_offset": (
            {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "steps_offset": 1,
             "clip_sample": False, "set_alpha_to_one": False}, 20, 0.0, False),
        "eps_cosine_linspace": ({"beta_schedule": "squaredcos_cap_v2", "timestep_spacing": "linspace"}, 15, 0.0, False),
        "v_linear": ({"prediction_type": "v_prediction"}, 10, 0.0, False),
        "v_scaled_linear_noclip": (
            {"prediction_type": "v_prediction", "beta_schedule": "scaled_linear", "clip_sample": False}, 20, 0.0, False),
        "v_cosine": ({"prediction_type": "v_prediction", "beta_schedule": "squaredcos_cap_v2"}, 12, 0.0, False),
        "v_zero_snr_trailing": (
            {"prediction_type": "v_prediction", "rescale_betas_zero_snr": True, "timestep_spacing": "trailing",
             "clip_sample": False}, 10, 0.0, False),
        "v_zero_snr_trailing_clip": (
            {"prediction_type": "v_prediction", "rescale_betas_zero_snr": True, "timestep_spacing": "trailing",
             "beta_schedule": "scaled_linear"}, 16, 0.0, True),
        "sample_linear": ({"prediction_type": "sample"}, 10, 0.0, False),
        "sample_cosine_noclip": (
            {"prediction_type": "sample", "beta_schedule": "squaredcos_cap_v2", "clip_sample": False}, 20, 0.0, False),
        "sample_scaled_linear_range": (
            {"prediction_type": "sample", "beta_schedule": "scaled_linear", "clip_sample_range": 0.5}, 10, 0.0, True),
        "eps_linear_eta": ({}, 8, 0.7, False),
        "eps_linear_eta1_noclip": ({"clip_sample": False, "set_alpha_to_one": False}, 5, 1.0, False),
        "v_cosine_eta_trailing": (
            {"prediction_type": "v_prediction", "beta_schedule": "squaredcos_cap_v2",
             "timestep_spacing": "trailing"}, 6, 0.5, True),
    }
    gen = torch.Generator().manual_seed(SEED)
    tensors, metadata = {}, {}
    for case, (config, steps, eta, use_clipped) in cases.items():
        x = torch.randn(SHAPE, generator=gen)
        c = torch.randn(SHAPE, generator=gen) * 0.8
        noise = torch.randn((steps, *SHAPE), generator=gen) if eta > 0 else None
        scheduler = DDIMScheduler(**config)
        samples = run_ddim(scheduler, steps, x, c, eta, use_clipped, noise)
        tensors |= {f"{case}.x": x, f"{case}.c": c, f"{case}.timesteps": scheduler.timesteps,
                    f"{case}.samples": samples}
        if noise is not None:
            tensors[f"{case}.noise"] = noise
        metadata[case] = {"config": config, "steps": steps, "eta": eta, "use_clipped_model_output": use_clipped}
    save("ddim", tensors, metadata)


class GivenNoise:
    """Stands in for diffusers' randn_tensor in the DDPM module: returns the given noise, in order."""

    def __init__(self, noise):
        self.noise, self.calls = noise, 0

    def __call__(self, shape, **kwargs):
        value = self.noise[self.calls]
        self.calls += 1
        return value.reshape(shape).clone()


def ddpm_step(scheduler, out, t, x, noise):
    """scheduler.step with the variance noise `noise` (zeros for the mean)."""
    scheduling_ddpm.randn_tensor = GivenNoise(noise[None])
    return scheduler.step(out, t, x).prev_sample


def make_ddpm():
    # Single steps at four timesteps of the schedule (the first, the middle one and the last two),
    # stacked along a new first axis: name: (config, steps, or None for the 1000-step schedule
    # without set_timesteps). "variance" is _get_variance(t) for fixed_large, else for fixed_small.
    step_cases = {}
    for prediction in ("epsilon", "v_prediction", "sample"):
        for clip in (True, False):
            for steps in (None, 50):
                name = f"{prediction}_{'clip' if clip else 'noclip'}_{steps or 'full'}"
                step_cases[name] = ({"prediction_type": prediction, "clip_sample": clip}, steps)
    for variance in ("fixed_large", "fixed_small_log"):
        for steps in (None, 50):
            step_cases[f"{variance}_{steps or 'full'}"] = ({"variance_type": variance}, steps)
    step_cases["sigmoid_50"] = ({"beta_schedule": "sigmoid"}, 50)
    step_cases["sigmoid_fixed_large_full"] = ({"beta_schedule": "sigmoid", "variance_type": "fixed_large"}, None)
    step_cases["scaled_linear_trailing_v_20"] = (
        {"beta_schedule": "scaled_linear", "timestep_spacing": "trailing", "prediction_type": "v_prediction"}, 20)
    step_cases["cosine_linspace_range_30"] = (
        {"beta_schedule": "squaredcos_cap_v2", "timestep_spacing": "linspace", "clip_sample_range": 0.5}, 30)

    gen = torch.Generator().manual_seed(SEED)
    tensors, metadata = {}, {}
    for case, (config, steps) in step_cases.items():
        scheduler = DDPMScheduler(**config)
        timesteps = scheduler.timesteps if steps is None else first_timesteps(scheduler, steps)
        chosen = [timesteps[0], timesteps[len(timesteps) // 2], timesteps[-2], timesteps[-1]]
        stacked = {name: [] for name in ("t", "x", "model_output", "noise", "mean", "sample", "variance")}
        variance_type = "fixed_large" if config.get("variance_type") == "fixed_large" else "fixed_small"
        for t in chosen:
            x = torch.randn(SHAPE, generator=gen)
            out = torch.randn(SHAPE, generator=gen)
            noise = torch.randn(SHAPE, generator=gen)
            mean = ddpm_step(scheduler, out, t, x, torch.zeros(SHAPE))
            sample = ddpm_step(scheduler, out, t, x, noise)
            variance = scheduler._get_variance(t, variance_type=variance_type)
            for name, value in (("t", t), ("x", x), ("model_output", out), ("noise", noise), ("mean", mean),
                                ("sample", sample), ("variance", variance)):
                stacked[name].append(torch.as_tensor(value, dtype=torch.float32))
        tensors |= {f"{case}.{name}": torch.stack(values) for name, values in stacked.items()}
        metadata[case] = {"config": config, "steps": steps}

    # Trajectories with the stand-in model and given noise.
    trajectory_cases = {
        "run_eps_leading_20": ({}, 20),
        "run_v_trailing_61": ({"prediction_type": "v_prediction", "timestep_spacing": "trailing",
                               "beta_schedule": "squaredcos_cap_v2"}, 61),
        "run_sample_offset_large_25": ({"prediction_type": "sample", "steps_offset": 1,
                                        "variance_type": "fixed_large", "clip_sample": False}, 25),
        "run_v_zero_snr_small_log_10": ({"rescale_betas_zero_snr": True, "timestep_spacing": "trailing",
                                           "variance_type": "fixed_small_log", "prediction_type": "v_prediction"}, 10),
    }
    for case, (config, steps) in trajectory_cases.items():
        scheduler = DDPMScheduler(**config)
        x = torch.randn(SHAPE, generator=gen)
        c = torch.randn(SHAPE, generator=gen) * 0.8
        noise = torch.randn((steps, *SHAPE), generator=gen)
        given = GivenNoise(noise)
        scheduling_ddpm.randn_tensor = given
        start, samples = x, []
        for t in first_timesteps(scheduler, steps):
            x = scheduler.step(model_output(x, t.item(), c), t, x).prev_sample
            samples.append(x)
        tensors |= {f"{case}.x": start, f"{case}.c": c, f"{case}.timesteps": scheduler.timesteps,
                    f"{case}.noise": noise, f"{case}.samples": torch.stack(samples)}
        metadata[case] = {"config": config, "steps": steps, "noise_calls": given.calls}
    save("ddpm", tensors, metadata)


if __name__ == "__main__":
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    make_alphas_cumprod()
    make_timesteps()
    make_ddim()
    make_ddpm()
