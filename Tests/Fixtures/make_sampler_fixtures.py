"""Makes Tests/Fixtures/diffusion/ddpm_folder/samplers.safetensors: what each deterministic
diffusers scheduler makes from the folder's U-Net (made by make_pipeline_fixtures.py, run first)
and the same starting noise, for the Swift sampler tests.

Run from the project root with a Python that has torch, diffusers and safetensors:

    ../venv/bin/python Tests/Fixtures/make_sampler_fixtures.py

Each scheduler is built as `diffuse sample --scheduler NAME` builds it: from_config of the
folder's DDPM scheduler_config.json (keys in the file used as written, the rest that class's
defaults), with solver_order 2 or 3 for dpmpp-2m / dpmpp-3m. The loop is diffusers' pipeline
loop: x = latents * init_noise_sigma; for each timestep t, the U-Net's output on
scale_model_input(x, t) goes to step(). Tensors: "<name>" the final samples (N, C, H, W, model
space, unclamped), "<name>.timesteps"; metadata: "steps" and each scheduler's NFE.
"""
import diffusers
import torch
from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler, HeunDiscreteScheduler,
                       PNDMScheduler, UNet2DModel, UniPCMultistepScheduler)
from safetensors.torch import load_file, save_file

FOLDER = "Tests/Fixtures/diffusion/ddpm_folder"
STEPS = 8
SAMPLERS = {
    "ddim": (DDIMScheduler, {}),
    "dpmpp-2m": (DPMSolverMultistepScheduler, {"solver_order": 2}),
    "dpmpp-3m": (DPMSolverMultistepScheduler, {"solver_order": 3}),
    "euler": (EulerDiscreteScheduler, {}),
    "heun": (HeunDiscreteScheduler, {}),
    "pndm": (PNDMScheduler, {}),
    "unipc": (UniPCMultistepScheduler, {}),
}

torch.set_num_threads(1)
unet = UNet2DModel.from_pretrained(FOLDER, subfolder="unet").eval()
config = DDIMScheduler.load_config(FOLDER, subfolder="scheduler")
latents = load_file(f"{FOLDER}/io.safetensors")["latents"]
tensors, metadata = {}, {"steps": str(STEPS)}
for name, (cls, overrides) in SAMPLERS.items():
    scheduler = cls.from_config(config, **overrides)
    scheduler.set_timesteps(STEPS)
    x = latents * scheduler.init_noise_sigma
    with torch.no_grad():
        for t in scheduler.timesteps:
            output = unet(scheduler.scale_model_input(x, t), t).sample
            x = scheduler.step(output, t, x).prev_sample
    tensors[name] = x.contiguous()
    tensors[f"{name}.timesteps"] = scheduler.timesteps.float().contiguous()
    metadata[name] = str(len(scheduler.timesteps))
    print(f"{name}: {len(scheduler.timesteps)} model evaluations, range {x.min():.3f}..{x.max():.3f}")
metadata["made_by"] = f"torch {torch.__version__}, diffusers {diffusers.__version__}"
save_file(tensors, f"{FOLDER}/samplers.safetensors", metadata=metadata)
