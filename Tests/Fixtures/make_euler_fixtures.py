"""Make diffusers reference fixtures for the Swift Euler and Euler ancestral scheduler tests.

Writes into Tests/Fixtures/diffusion/euler/:
- schedules.safetensors: set_timesteps results (timesteps, sigmas, init_noise_sigma)
  of EulerDiscreteScheduler for (spacing, steps_offset, beta schedule, count) combinations.
- euler.safetensors: Euler trajectories (EulerDiscreteScheduler, s_churn 0) for each
  prediction type and two beta schedules.
- ancestral.safetensors: EulerAncestralDiscreteScheduler trajectories with the noise of
  each step given explicitly (diffusers' randn_tensor is patched to hand it out).
- karras.safetensors: EulerDiscreteScheduler with use_karras_sigmas: set_timesteps results
  ("schedule_" cases, with sigma_min / sigma_max and final_sigmas_type sigma_min) and
  trajectories ("trajectory_" cases) for each prediction type.

Run from the project root:

    /work/venv/bin/python Tests/Fixtures/make_euler_fixtures.py

Conventions (as make_scheduler_fixtures.py):
- Everything in float32 on the CPU; inputs drawn from a torch.Generator with a fixed seed.
- The stand-in model is model_output = 0.3 * m + sin(t / 100) * c, where m is the model
  input that scale_model_input returns, t the float timestep and c a stored tensor
  (sin in double, then float32).
- Each case's metadata entry is JSON: "config" (keyword arguments given to the scheduler)
  and "steps". Tensor names are "<case>.<tensor>": "x" (start sample, already multiplied
  by init_noise_sigma), "c", "timesteps", "samples" (after each step, stacked), "noise".
"""

import json
import math
from pathlib import Path

import diffusers
import numpy as np
import safetensors
import torch
from diffusers import EulerAncestralDiscreteScheduler, EulerDiscreteScheduler
from diffusers.schedulers import scheduling_euler_ancestral_discrete, scheduling_euler_discrete
from safetensors.torch import save_file

OUT_DIR = Path(__file__).resolve().parent / "diffusion" / "euler"
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


def model_output(m, t, c):
    return 0.3 * m + c * math.sin(float(t) / 100)


def schedules():
    tensors, metadata = {}, {}
    for beta in ["linear", "scaled_linear"]:
        for spacing, offset in [("linspace", 0), ("leading", 0), ("leading", 1), ("trailing", 0)]:
            for steps in [1, 7, 10, 25, 50]:
                config = {"beta_schedule": beta, "timestep_spacing": spacing, "steps_offset": offset}
                if beta == "scaled_linear":
                    config |= {"beta_start": 0.00085, "beta_end": 0.012}
                s = EulerDiscreteScheduler(**config)
                s.set_timesteps(steps)
                case = f"{beta}_{spacing}_{offset}_{steps}"
                tensors[f"{case}.timesteps"] = s.timesteps
                tensors[f"{case}.sigmas"] = s.sigmas
                tensors[f"{case}.init_noise_sigma"] = torch.tensor([float(s.init_noise_sigma)])
                metadata[case] = {"config": config, "steps": steps}
    # zero terminal SNR: alphas_cumprod[-1] becomes 2^-24
    config = {"timestep_spacing": "trailing", "rescale_betas_zero_snr": True}
    s = EulerDiscreteScheduler(**config)
    s.set_timesteps(10)
    tensors["zero_snr_trailing_10.timesteps"] = s.timesteps
    tensors["zero_snr_trailing_10.sigmas"] = s.sigmas
    tensors["zero_snr_trailing_10.init_noise_sigma"] = torch.tensor([float(s.init_noise_sigma)])
    metadata["zero_snr_trailing_10"] = {"config": config, "steps": 10}
    save("schedules", tensors, metadata)


def trajectory(cls, config, steps, seed, with_noise, step_options=None):
    g = torch.Generator().manual_seed(seed)
    s = cls(**config)
    s.set_timesteps(steps)
    x0 = torch.randn(SHAPE, generator=g)
    c = torch.randn(SHAPE, generator=g)
    noise = torch.randn((steps,) + SHAPE, generator=g)
    x = x0 * s.init_noise_sigma
    # the noise of step i is noise[i], however many steps draw some
    current = [0]
    if with_noise:
        given = lambda *a, **k: noise[current[0]].clone()
        scheduling_euler_ancestral_discrete.randn_tensor = given
        scheduling_euler_discrete.randn_tensor = given
    samples = []
    for i, t in enumerate(s.timesteps):
        current[0] = i
        m = s.scale_model_input(x, t)
        out = model_output(m, t, c)
        x = s.step(out, t, x, **(step_options or {})).prev_sample
        samples.append(x)
    tensors = {"x": x0 * s.init_noise_sigma, "c": c, "timesteps": s.timesteps, "samples": torch.stack(samples)}
    if with_noise:
        tensors["noise"] = noise
    return tensors


def trajectories():
    for name, cls, predictions, with_noise in [
        ("euler", EulerDiscreteScheduler, ["epsilon", "v_prediction", "sample"], False),
        ("ancestral", EulerAncestralDiscreteScheduler, ["epsilon", "v_prediction"], True),
    ]:
        tensors, metadata = {}, {}
        seed = 1
        for beta in ["linear", "scaled_linear"]:
            for prediction in predictions:
                for spacing, steps in [("linspace", 15), ("leading", 12), ("trailing", 10)]:
                    config = {"beta_schedule": beta, "prediction_type": prediction, "timestep_spacing": spacing}
                    if beta == "scaled_linear":
                        config |= {"beta_start": 0.00085, "beta_end": 0.012}
                    if spacing == "leading":
                        config["steps_offset"] = 1
                    case = f"{beta}_{prediction}_{spacing}_{steps}"
                    for k, v in trajectory(cls, config, steps, seed, with_noise).items():
                        tensors[f"{case}.{k}"] = v
                    metadata[case] = {"config": config, "steps": steps}
                    seed += 1
        if name == "euler":
            # churn (Karras et al. alg. 2): S_churn 2 over 10 steps, gamma 0.2, for sigma in 0.5 ... 10
            options = {"s_churn": 2.0, "s_tmin": 0.5, "s_tmax": 10.0, "s_noise": 1.003}
            for prediction in ["epsilon", "v_prediction"]:
                config = {"prediction_type": prediction}
                case = f"churn_{prediction}_linspace_10"
                for k, v in trajectory(cls, config, 10, seed, True, options).items():
                    tensors[f"{case}.{k}"] = v
                metadata[case] = {"config": config, "steps": 10, "options": options}
                seed += 1
        save(name, tensors, metadata)


def karras():
    tensors, metadata = {}, {}
    for beta in ["linear", "scaled_linear", "squaredcos_cap_v2"]:
        for spacing, offset in [("linspace", 0), ("leading", 1), ("trailing", 0)]:
            for steps in [1, 7, 10, 25]:
                # (sigma_max 20 is above the linear schedule's largest sigma, and cosine betas' are far
                # apart: the first timesteps repeat, which the Swift scheduler refuses)
                for extra in [{}, {"sigma_min": 0.05, "sigma_max": 20.0}, {"final_sigmas_type": "sigma_min"}]:
                    config = {"beta_schedule": beta, "timestep_spacing": spacing, "steps_offset": offset,
                              "use_karras_sigmas": True} | extra
                    if beta == "scaled_linear":
                        config |= {"beta_start": 0.00085, "beta_end": 0.012}
                    s = EulerDiscreteScheduler.from_config(config)
                    s.set_timesteps(steps)
                    case = f"schedule_{len(metadata):03d}"
                    tensors[f"{case}.timesteps"] = s.timesteps
                    tensors[f"{case}.sigmas"] = s.sigmas
                    tensors[f"{case}.init_noise_sigma"] = torch.tensor([float(s.init_noise_sigma)])
                    metadata[case] = {"config": config, "steps": steps}
    seed = 100
    for prediction in ["epsilon", "v_prediction", "sample"]:
        for spacing, steps, extra in [("linspace", 15, {}), ("leading", 12, {"steps_offset": 1}),
                                      ("trailing", 10, {"final_sigmas_type": "sigma_min", "sigma_max": 10.0})]:
            config = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
                      "prediction_type": prediction, "timestep_spacing": spacing, "use_karras_sigmas": True} | extra
            case = f"trajectory_{prediction}_{spacing}_{steps}"
            for k, v in trajectory(EulerDiscreteScheduler, config, steps, seed, False).items():
                tensors[f"{case}.{k}"] = v
            metadata[case] = {"config": config, "steps": steps}
            seed += 1
    save("karras", tensors, metadata)


if __name__ == "__main__":
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    schedules()
    trajectories()
    karras()
