"""Make diffusers reference fixtures for the Swift Heun and PNDM scheduler tests.

Writes into Tests/Fixtures/diffusion/heun_pndm/:
- heun_schedules.safetensors: HeunDiscreteScheduler's set_timesteps results (the interleaved
  timesteps and sigmas, init_noise_sigma) for (beta schedule, spacing, steps_offset, count).
- heun.safetensors: Heun trajectories for each prediction type, two beta schedules and each
  spacing, plus clip_sample, keys HeunDiscreteScheduler does not have (ignored by from_config)
  and Karras sigmas.
- pndm_schedules.safetensors: PNDMScheduler's timesteps (with their repeats) with and without
  skip_prk_steps for (spacing, steps_offset, count).
- pndm.safetensors: PNDM trajectories, PRK warm-up and PLMS only, for epsilon and v_prediction,
  two beta schedules, each spacing, set_alpha_to_one both ways.

Run from the project root:

    /work/venv/bin/python Tests/Fixtures/make_heun_pndm_fixtures.py

Conventions (as make_euler_fixtures.py):
- Everything in float32 on the CPU; inputs drawn from a torch.Generator with a fixed seed.
- The stand-in model is model_output = 0.3 * m + sin(t / 100) * c, where m is the model
  input that scale_model_input returns, t the timestep and c a stored tensor (sin in double,
  then float32).
- Schedulers are made with from_config(config), as a model folder's scheduler_config.json is
  read: keys the scheduler does not have are ignored, missing ones take its defaults.
- Each case's metadata entry is JSON: "config" and "steps". Tensor names are
  "<case>.<tensor>": "x" (start sample, already multiplied by init_noise_sigma), "c",
  "timesteps", "samples" (after each model evaluation, stacked), and for Heun "sigmas" and
  "init_noise_sigma".
- For trailing spacing numpy's arange yields one timestep too many for some counts (61 of 1000
  among them); diffusers' PNDM then appends a step at timestep -1. The case trailing_61 keeps
  diffusers' timesteps as they are, with "extra_last": true; the Swift scheduler stops before it.
"""

import json
import math
from pathlib import Path

import diffusers
import numpy as np
import safetensors
import torch
from diffusers import HeunDiscreteScheduler, PNDMScheduler
from safetensors.torch import save_file

OUT_DIR = Path(__file__).resolve().parent / "diffusion" / "heun_pndm"
SHAPE = (2, 2, 3, 3)
SCALED_LINEAR = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}
MADE_BY = (
    f"torch {torch.__version__}, diffusers {diffusers.__version__}, "
    f"numpy {np.__version__}, safetensors {safetensors.__version__}"
)


def save(name, tensors, metadata):
    tensors = {k: torch.as_tensor(v).to(torch.float32).contiguous() for k, v in tensors.items()}
    metadata = {k: json.dumps(v) for k, v in metadata.items()} | {"made_by": MADE_BY}
    save_file(tensors, str(OUT_DIR / f"{name}.safetensors"), metadata=metadata)


def model_output(m, t, c):
    return 0.3 * m + c * math.sin(float(t) / 100)


def trajectory(cls, config, steps, seed):
    g = torch.Generator().manual_seed(seed)
    s = cls.from_config(config)
    s.set_timesteps(steps)
    x0 = torch.randn(SHAPE, generator=g)
    c = torch.randn(SHAPE, generator=g)
    x = x0 * s.init_noise_sigma
    start = x
    samples = []
    for t in s.timesteps:
        out = model_output(s.scale_model_input(x, t), t, c)
        x = s.step(out, t, x).prev_sample
        samples.append(x)
    return {"x": start, "c": c, "timesteps": s.timesteps, "samples": torch.stack(samples)}


def heun_schedules():
    tensors, metadata = {}, {}
    betas = [("linear", {}), ("scaled_linear", SCALED_LINEAR), ("cosine", {"beta_schedule": "squaredcos_cap_v2"})]
    for beta, beta_config in betas:
        for spacing, offset in [("linspace", 0), ("leading", 0), ("leading", 1), ("trailing", 0)]:
            for steps in [1, 2, 7, 25]:
                config = beta_config | {"timestep_spacing": spacing, "steps_offset": offset}
                s = HeunDiscreteScheduler.from_config(config)
                s.set_timesteps(steps)
                case = f"{beta}_{spacing}_{offset}_{steps}"
                tensors[f"{case}.timesteps"] = s.timesteps
                tensors[f"{case}.sigmas"] = s.sigmas
                tensors[f"{case}.init_noise_sigma"] = torch.tensor([float(s.init_noise_sigma)])
                metadata[case] = {"config": config, "steps": steps}
    save("heun_schedules", tensors, metadata)


def heun_trajectories():
    tensors, metadata = {}, {}
    seed = 1

    def add(case, config, steps):
        nonlocal seed
        for k, v in trajectory(HeunDiscreteScheduler, config, steps, seed).items():
            tensors[f"{case}.{k}"] = v
        s = HeunDiscreteScheduler.from_config(config)
        s.set_timesteps(steps)
        tensors[f"{case}.sigmas"] = s.sigmas
        metadata[case] = {"config": config, "steps": steps}
        seed += 1

    for beta, beta_config in [("linear", {"beta_start": 0.0001, "beta_end": 0.02}), ("scaled_linear", SCALED_LINEAR)]:
        for prediction in ["epsilon", "v_prediction", "sample"]:
            for spacing, steps in [("linspace", 8), ("leading", 6), ("trailing", 5)]:
                config = beta_config | {"prediction_type": prediction, "timestep_spacing": spacing}
                if spacing == "leading":
                    config["steps_offset"] = 1
                add(f"{beta}_{prediction}_{spacing}_{steps}", config, steps)
    # clip_sample: x0 clamped (sample prediction reaches past 1; epsilon past 0.8)
    add("clip_sample_linspace_6", {"prediction_type": "sample", "clip_sample": True}, 6)
    add("clip_epsilon_trailing_6", {"clip_sample": True, "clip_sample_range": 0.8, "timestep_spacing": "trailing"}, 6)
    # defaults only, and keys Heun does not have (from_config ignores them)
    add("defaults_10", {}, 10)
    add(
        "foreign_keys_linspace_4",
        {
            "rescale_betas_zero_snr": True, "thresholding": True, "interpolation_type": "log_linear",
            "timestep_type": "continuous", "final_sigmas_type": "sigma_min", "set_alpha_to_one": False,
        },
        4,
    )
    add("one_step", {}, 1)
    # Karras sigmas, with the levels' ends from the run and from sigma_min / sigma_max
    add("karras_linear_epsilon_10", {"use_karras_sigmas": True, "beta_start": 0.0001, "beta_end": 0.02}, 10)
    add("karras_range_v_prediction_8",
        {"use_karras_sigmas": True, "prediction_type": "v_prediction", "sigma_min": 0.1, "sigma_max": 10.0}, 8)
    save("heun", tensors, metadata)


def pndm_schedules():
    tensors, metadata = {}, {}
    for skip in [False, True]:
        for spacing, offset in [("leading", 0), ("leading", 1), ("linspace", 0), ("trailing", 0)]:
            for steps in ([1, 2, 3] if skip else []) + [4, 5, 10, 25, 50]:
                config = {"skip_prk_steps": skip, "timestep_spacing": spacing, "steps_offset": offset}
                s = PNDMScheduler.from_config(config)
                s.set_timesteps(steps)
                case = f"{'plms' if skip else 'prk'}_{spacing}_{offset}_{steps}"
                tensors[f"{case}.timesteps"] = s.timesteps
                metadata[case] = {"config": config, "steps": steps}
        config = {"skip_prk_steps": skip, "timestep_spacing": "trailing"}
        s = PNDMScheduler.from_config(config)
        s.set_timesteps(61)
        case = f"{'plms' if skip else 'prk'}_trailing_61"
        assert s.timesteps[-1] == -1
        tensors[f"{case}.timesteps"] = s.timesteps
        metadata[case] = {"config": config, "steps": 61, "extra_last": True}
    save("pndm_schedules", tensors, metadata)


def pndm_trajectories():
    tensors, metadata = {}, {}
    seed = 100
    for skip in [False, True]:
        for beta, beta_config in [("linear", {}), ("scaled_linear", SCALED_LINEAR)]:
            for prediction in ["epsilon", "v_prediction"]:
                for spacing, steps in [("leading", 10), ("linspace", 7), ("trailing", 8)]:
                    config = beta_config | {
                        "skip_prk_steps": skip, "prediction_type": prediction, "timestep_spacing": spacing,
                    }
                    if spacing == "leading":
                        config |= {"steps_offset": 1, "set_alpha_to_one": True}
                    case = f"{'plms' if skip else 'prk'}_{beta}_{prediction}_{spacing}_{steps}"
                    for k, v in trajectory(PNDMScheduler, config, steps, seed).items():
                        tensors[f"{case}.{k}"] = v
                    metadata[case] = {"config": config, "steps": steps}
                    seed += 1
    # fewest steps of each mode, defaults and keys PNDM does not have (ignored by from_config)
    for case, config, steps in [
        ("prk_defaults_4", {"clip_sample": True, "thresholding": True, "rescale_betas_zero_snr": True}, 4),
        ("plms_cosine_1", {"skip_prk_steps": True, "beta_schedule": "squaredcos_cap_v2"}, 1),
        ("plms_cosine_2", {"skip_prk_steps": True, "beta_schedule": "squaredcos_cap_v2"}, 2),
        ("plms_cosine_3", {"skip_prk_steps": True, "beta_schedule": "squaredcos_cap_v2"}, 3),
    ]:
        for k, v in trajectory(PNDMScheduler, config, steps, seed).items():
            tensors[f"{case}.{k}"] = v
        metadata[case] = {"config": config, "steps": steps}
        seed += 1
    save("pndm", tensors, metadata)


if __name__ == "__main__":
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    heun_schedules()
    heun_trajectories()
    pndm_schedules()
    pndm_trajectories()
