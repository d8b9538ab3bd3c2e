"""Makes Tests/Fixtures/diffusion/ddpm_folder/: a pipeline folder saved by diffusers, and what
DDIMPipeline makes from it.

Run from the project root with a Python that has torch, diffusers and safetensors:

    ../venv/bin/python Tests/Fixtures/make_pipeline_fixtures.py

The folder is DDPMPipeline.save_pretrained of a small random UNet2DModel (gray, 8x8) with a
DDPMScheduler using the cosine schedule and v prediction. DDIMPipeline.from_pretrained then
reads it, turning the scheduler into a DDIMScheduler through from_config (keys in the file used
as written, the rest DDIM's defaults), and samples 20 steps with eta 0 from seeded noise.
io.safetensors holds that noise (`latents`, N x C x H x W, as randn_tensor draws it from the
same seeded generator) and the pipeline's output images (`images`, N x H x W x C in [0, 1]).
"""
import diffusers
import torch
from diffusers import DDIMPipeline, DDPMPipeline, DDPMScheduler, UNet2DModel
from safetensors.torch import save_file

FOLDER = "Tests/Fixtures/diffusion/ddpm_folder"

torch.manual_seed(0)
unet = UNet2DModel(
    sample_size=8, in_channels=1, out_channels=1, block_out_channels=(4, 8), layers_per_block=1,
    down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
    norm_num_groups=2, attention_head_dim=2,
)
with torch.no_grad():
    for parameter in unet.parameters():
        parameter.copy_(torch.randn_like(parameter) * 0.3)
scheduler = DDPMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
DDPMPipeline(unet=unet, scheduler=scheduler).save_pretrained(FOLDER, safe_serialization=True)

pipeline = DDIMPipeline.from_pretrained(FOLDER)
batch, steps = 3, 20
latents = torch.randn((batch, 1, 8, 8), generator=torch.Generator().manual_seed(1))
images = pipeline(batch_size=batch, generator=torch.Generator().manual_seed(1), eta=0.0,
                  num_inference_steps=steps, output_type="np").images
save_file({"latents": latents.contiguous(), "images": torch.from_numpy(images).float().contiguous()},
          f"{FOLDER}/io.safetensors",
          metadata={"steps": str(steps), "made_by": f"torch {torch.__version__}, diffusers {diffusers.__version__}"})
print(f"wrote {FOLDER}: images {images.shape}, range {images.min():.3f}..{images.max():.3f}")
