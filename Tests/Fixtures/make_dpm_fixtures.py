"""Make diffusers reference fixtures for the Swift DPM-Solver++ and UniPC scheduler tests.

Writes into Tests/Fixtures/diffusion/dpm/:
- schedules.safetensors: set_timesteps results (timesteps, sigmas) of DPMSolverMultistepScheduler
  ("dpm_" cases) and UniPCMultistepScheduler ("unipc_" cases) for combinations of beta schedule,
  spacing, steps_offset, Karras sigmas, final sigma type, lambda_min_clipped and count.
- dpm.safetensors: DPMSolverMultistepScheduler trajectories. Cases with a "solver_order" entry are
  made as `DPMSolverMultistepScheduler.from_config(config, solver_order=k)`, as the `dpmpp-2m` and
  `dpmpp-3m` kinds make them; the others from the config alone.
- unipc.safetensors: UniPCMultistepScheduler trajectories.

Run from the project root:

    /work/venv/bin/python Tests/Fixtures/make_dpm_fixtures.py

Conventions (as make_euler_fixtures.py):
- Everything in float32 on the CPU; inputs drawn from a torch.Generator with a fixed seed.
- The stand-in model is model_output = 0.3 * m + sin(t / 100) * c, where m is the model input that
  scale_model_input returns, t the timestep and c a stored tensor (sin in double, then float32).
- Each case's metadata entry is JSON: "config" (the scheduler_config.json keys), "steps", and for
  DPM trajectories made through a kind, "solver_order". Tensor names are "<case>.<tensor>": "x"
  (start sample, already multiplied by init_noise_sigma), "c", "timesteps", "samples" (after each
  step, stacked), "sigmas".
"""

import json
import math
import warnings
from pathlib import Path

import diffusers
import numpy as np
import safetensors
import torch
from diffusers import DPMSolverMultistepScheduler, UniPCMultistepScheduler
from safetensors.torch import save_file

OUT_DIR = Path(__file__).resolve().parent / "diffusion" / "dpm"
SHAPE = (2, 2, 3, 3)
MADE_BY = (
    f"torch {torch.__version__}, diffusers {diffusers.__version__}, "
    f"numpy {np.__version__}, safetensors {safetensors.__version__}"
)
BETAS = {
    "linear": {},
    "scaled_linear": {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012},
    "cosine": {"beta_schedule": "squaredcos_cap_v2"},
}


def save(name, tensors, metadata):
    tensors = {k: torch.as_tensor(v).to(torch.float32).contiguous() for k, v in tensors.items()}
    metadata = {k: json.dumps(v) for k, v in metadata.items()} | {"made_by": MADE_BY}
    save_file(tensors, str(OUT_DIR / f"{name}.safetensors"), metadata=metadata)


def model_output(m, t, c):
    return 0.3 * m + c * math.sin(float(t) / 100)


def make(cls, config, solver_order=None):
    if solver_order is None:
        return cls.from_config(config)
    return cls.from_config(config, solver_order=solver_order)


def schedules():
    tensors, metadata = {}, {}

    def add(prefix, cls, config, steps):
        s = make(cls, config)
        s.set_timesteps(steps)
        case = f"{prefix}_{len(metadata):03d}"
        tensors[f"{case}.timesteps"] = s.timesteps
        tensors[f"{case}.sigmas"] = s.sigmas
        metadata[case] = {"config": config, "steps": steps}

    for prefix, cls in [("dpm", DPMSolverMultistepScheduler), ("unipc", UniPCMultistepScheduler)]:
        for beta, beta_config in BETAS.items():
            for spacing, offset in [("linspace", 0), ("leading", 0), ("leading", 1), ("trailing", 0)]:
                for steps in [1, 7, 10, 25, 61]:
                    add(prefix, cls, beta_config | {"timestep_spacing": spacing, "steps_offset": offset}, steps)
            # (with cosine betas the first Karras timesteps repeat: such runs start at their second sigma
            # in diffusers and fail at their last step; the Swift schedulers refuse them)
            for steps in [1, 7, 10, 25]:
                add(prefix, cls, beta_config | {"use_karras_sigmas": True}, steps)
                add(prefix, cls, beta_config | {"use_karras_sigmas": True, "final_sigmas_type": "sigma_min"}, steps)
            add(prefix, cls, beta_config | {"final_sigmas_type": "sigma_min", "timestep_spacing": "trailing"}, 10)
        add(prefix, cls, {"timestep_spacing": "trailing", "rescale_betas_zero_snr": True}, 10)
        add(prefix, cls, {"use_karras_sigmas": True, "rescale_betas_zero_snr": True}, 10)
    # lambda_min_clipped (DPM-Solver only; UniPC has no such key and ignores it)
    for cls, prefix in [(DPMSolverMultistepScheduler, "dpm"), (UniPCMultistepScheduler, "unipc")]:
        for spacing in ["linspace", "leading", "trailing"]:
            add(prefix, cls, BETAS["cosine"] | {"lambda_min_clipped": -5.1, "timestep_spacing": spacing}, 10)
            add(prefix, cls, {"lambda_min_clipped": -3.0, "timestep_spacing": spacing}, 10)
    # sigma_min and sigma_max: DPM-Solver's constructor has no such keys, but from_config keeps them in
    # the config, where its Karras conversion finds them
    for cls, prefix in [(DPMSolverMultistepScheduler, "dpm"), (UniPCMultistepScheduler, "unipc")]:
        add(prefix, cls, {"use_karras_sigmas": True, "sigma_min": 0.1, "sigma_max": 20.0}, 10)
        add(prefix, cls, {"use_karras_sigmas": True, "sigma_min": 0.1, "final_sigmas_type": "sigma_min"}, 10)
    save("schedules", tensors, metadata)


def trajectory(s, steps, seed, nan_last=False):
    g = torch.Generator().manual_seed(seed)
    s.set_timesteps(steps)
    x0 = torch.randn(SHAPE, generator=g)
    c = torch.randn(SHAPE, generator=g)
    x = x0 * s.init_noise_sigma
    samples = []
    for t in s.timesteps:
        m = s.scale_model_input(x, t)
        x = s.step(model_output(m, t, c), t, x).prev_sample
        samples.append(x)
    assert torch.isfinite(torch.stack(samples[:-1])).all()
    assert torch.isnan(x).all() if nan_last else torch.isfinite(x).all()
    return {"x": x0 * s.init_noise_sigma, "c": c, "timesteps": s.timesteps, "sigmas": s.sigmas,
            "samples": torch.stack(samples)}


def trajectories(name, cls, cases):
    tensors, metadata = {}, {}
    for seed, (case, config, steps, solver_order) in enumerate(cases, start=1):
        nan_last = case.startswith("nan_last_")
        for k, v in trajectory(make(cls, config, solver_order), steps, seed, nan_last).items():
            tensors[f"{case}.{k}"] = v
        metadata[case] = {"config": config, "steps": steps}
        if solver_order is not None:
            metadata[case]["solver_order"] = solver_order
    save(name, tensors, metadata)


def dpm_cases():
    cases = []
    for beta in ["linear", "scaled_linear"]:
        for prediction in ["epsilon", "v_prediction", "sample"]:
            config = BETAS[beta] | {"prediction_type": prediction}
            # 12 steps: lower orders at the end; 16: third order up to the last step
            cases.append((f"{beta}_{prediction}_2m_linspace_12", config, 12, 2))
            cases.append((f"{beta}_{prediction}_3m_trailing_16", config | {"timestep_spacing": "trailing"}, 16, 3))
            cases.append((f"{beta}_{prediction}_3m_leading_8",
                          config | {"timestep_spacing": "leading", "steps_offset": 1}, 8, 3))
    cases += [
        ("order1_10", {"solver_order": 1}, 10, None),
        ("heun_2m_10", {"solver_type": "heun"}, 10, 2),
        ("heun_3m_10", {"solver_type": "heun"}, 10, 3),
        ("no_lower_order_final_3m_10", {"lower_order_final": False}, 10, 3),
        ("sigma_min_2m_20", {"final_sigmas_type": "sigma_min"}, 20, 2),
        ("euler_at_final_3m_20", {"final_sigmas_type": "sigma_min", "euler_at_final": True}, 20, 3),
        ("karras_2m_15", {"use_karras_sigmas": True}, 15, 2),
        ("karras_scaled_v_3m_10", BETAS["scaled_linear"] | {"use_karras_sigmas": True,
                                                            "prediction_type": "v_prediction"}, 10, 3),
        ("cosine_clipped_3m_12", BETAS["cosine"] | {"lambda_min_clipped": -5.1}, 12, 3),
        ("cosine_clipped_leading_2m_12", BETAS["cosine"] | {"lambda_min_clipped": -5.1, "timestep_spacing": "leading"},
         12, 2),
        ("zero_snr_v_2m_10", {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing",
                              "prediction_type": "v_prediction"}, 10, 2),
        ("unipc_config_2m_10", {"solver_type": "bh2", "variance_type": "fixed_small", "clip_sample": True}, 10, 2),
    ]
    for order in [1, 2, 3]:
        for solver_type in ["midpoint", "heun"]:
            for prediction in ["epsilon", "v_prediction", "sample"]:
                config = {"algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min",
                          "solver_type": solver_type, "solver_order": order, "prediction_type": prediction}
                if order == 1 and solver_type == "heun":
                    continue
                cases.append((f"dpmsolver_{order}_{solver_type}_{prediction}_12", config, 12, None))
    return cases


def unipc_cases():
    cases = []
    for beta in ["linear", "scaled_linear"]:
        for prediction in ["epsilon", "v_prediction", "sample"]:
            config = BETAS[beta] | {"prediction_type": prediction}
            cases.append((f"{beta}_{prediction}_order2_linspace_12", config, 12, None))
            cases.append((f"{beta}_{prediction}_order3_trailing_16",
                          config | {"solver_order": 3, "timestep_spacing": "trailing"}, 16, None))
            cases.append((f"{beta}_{prediction}_order1_leading_8",
                          config | {"solver_order": 1, "timestep_spacing": "leading", "steps_offset": 1}, 8, None))
    cases += [
        # bh1 to sigma 0: diffusers' last step is NaN (B(h) = -inf times a zero residual)
        ("nan_last_bh1_order2_10", {"solver_type": "bh1"}, 10, None),
        ("bh1_sigma_min_order2_10", {"solver_type": "bh1", "final_sigmas_type": "sigma_min"}, 10, None),
        ("bh1_sigma_min_order3_10", {"solver_type": "bh1", "final_sigmas_type": "sigma_min", "solver_order": 3}, 10, None),
        # (predict_x0 false needs a final sigma_min: to sigma 0 diffusers' last step is 0 * inf)
        ("eps_space_order2_10", {"predict_x0": False, "final_sigmas_type": "sigma_min"}, 10, None),
        ("eps_space_order3_v_10", {"predict_x0": False, "solver_order": 3, "prediction_type": "v_prediction",
                                   "final_sigmas_type": "sigma_min"}, 10, None),
        ("eps_space_bh1_sample_10", {"predict_x0": False, "solver_type": "bh1", "prediction_type": "sample",
                                     "final_sigmas_type": "sigma_min"}, 10, None),
        ("disable_corrector_10", {"disable_corrector": [0, 3]}, 10, None),
        ("no_lower_order_final_order3_10", {"lower_order_final": False, "solver_order": 3,
                                            "final_sigmas_type": "sigma_min"}, 10, None),
        ("order4_12", {"solver_order": 4}, 12, None),
        ("karras_order2_15", {"use_karras_sigmas": True}, 15, None),
        ("karras_range_order3_10", {"use_karras_sigmas": True, "sigma_min": 0.05, "sigma_max": 40.0,
                                    "solver_order": 3, "final_sigmas_type": "sigma_min"}, 10, None),
        ("cosine_order2_12", BETAS["cosine"], 12, None),
        ("zero_snr_v_order2_10", {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing",
                                  "prediction_type": "v_prediction"}, 10, None),
        ("dpm_config_order2_10", {"solver_type": "midpoint", "algorithm_type": "dpmsolver++",
                                  "lambda_min_clipped": -5.1}, 10, None),
    ]
    return cases


if __name__ == "__main__":
    warnings.filterwarnings("ignore")  # diffusers' deprecation of algorithm_type dpmsolver
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    schedules()
    trajectories("dpm", DPMSolverMultistepScheduler, dpm_cases())
    trajectories("unipc", UniPCMultistepScheduler, unipc_cases())
