"""Makes Tests/Fixtures/diffusion/unet_<name>/: diffusers UNet2DModel outputs for small configs.

Run from the project root with a Python that has torch, diffusers and safetensors:

    ../venv/bin/python Tests/Fixtures/make_unet_fixtures.py

Each case folder holds what `save_pretrained` writes (config.json and
diffusion_pytorch_model.safetensors, every parameter drawn at random so that norms and biases
are exercised too) and io.safetensors with `sample`, `timesteps`, `class_labels` (when the model
has a class embedding; float32 values of the integer labels) and `output`, the model's output
in float64 (computed in float64, stored as float32).
"""
import json
import os

import diffusers
import torch
from diffusers import UNet2DModel
from safetensors.torch import save_file

torch.manual_seed(0)

CASES = {
    # Gray, two levels, attention at the lower down level and the matching up level.
    "gray_attn_down": dict(
        sample_size=8, in_channels=1, out_channels=1, block_out_channels=(4, 8), layers_per_block=1,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        norm_num_groups=2, attention_head_dim=2,
    ),
    # RGB, three levels (12 -> 6 -> 3), class-conditional, the less common switches flipped.
    "rgb_class_options": dict(
        sample_size=12, in_channels=3, out_channels=3, block_out_channels=(4, 8, 8), layers_per_block=2,
        down_block_types=("AttnDownBlock2D", "DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D", "AttnUpBlock2D"),
        norm_num_groups=4, attention_head_dim=4, num_class_embeds=3, flip_sin_to_cos=False, freq_shift=1,
        center_input_sample=True, downsample_padding=0, mid_block_scale_factor=1.5, norm_eps=1e-6,
    ),
    # No attention anywhere, one head when attention_head_dim is null would apply; odd size 28 / 4.
    "gray_no_attention": dict(
        sample_size=28, in_channels=1, out_channels=1, block_out_channels=(4, 4, 8), layers_per_block=1,
        down_block_types=("DownBlock2D",) * 3, up_block_types=("UpBlock2D",) * 3,
        norm_num_groups=2, add_attention=False,
    ),
}


def make_case(name, config):
    folder = f"Tests/Fixtures/diffusion/unet_{name}"
    model = UNet2DModel(**config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.3)
    model.save_pretrained(folder, safe_serialization=True)

    batch = 2
    size = config["sample_size"]
    sample = torch.randn(batch, config["in_channels"], size, size)
    timesteps = torch.tensor([3.0, 917.0])
    inputs = {"sample": sample, "timesteps": timesteps}
    kwargs = {}
    if config.get("num_class_embeds"):
        labels = torch.tensor([2, 0])
        inputs["class_labels"] = labels.float()
        kwargs["class_labels"] = labels
    with torch.no_grad():
        output = model.double()(sample.double(), timesteps.double(), **kwargs).sample
    inputs["output"] = output.float()
    save_file({k: v.contiguous() for k, v in inputs.items()}, f"{folder}/io.safetensors",
              metadata={"made_by": f"torch {torch.__version__}, diffusers {diffusers.__version__}"})
    with open(f"{folder}/config.json") as f:
        keys = len(json.load(f))
    size_kb = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder)) / 1024
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, {keys} config keys, {size_kb:.0f} KB")


for case_name, case_config in CASES.items():
    make_case(case_name, case_config)
