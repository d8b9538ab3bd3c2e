"""Make PyTorch reference fixtures for the Swift neural-network module tests.

Writes one safetensors file per op family into Tests/Fixtures/nn/:
conv2d, group_norm, linear, silu, upsample, softmax, cross_entropy, mse,
attention, adamw, clip_grad and ema.

Run from the project root:

    /work/venv/bin/python Tests/Fixtures/make_nn_fixtures.py

Made with torch 2.15.0+cu132, diffusers 0.42.1, safetensors 0.8.0
(the versions actually used are also stored in every file's metadata
under the key "made_by").

Conventions:
- Tensor names are "<case>.<tensor>"; every tensor is stored as contiguous
  float32.
- Inputs are drawn in float32 from a torch.Generator with a fixed seed
  (standard normal unless noted; any scaling is applied in float32), so the
  stored inputs are exactly the values used. They are converted to float64
  for the computation; outputs and gradients are computed in float64 and
  stored as float32.
- grad_out is a random upstream gradient (standard normal); grad_<input> is
  the gradient of (out * grad_out).sum(). For losses, grad_<input> is
  d(loss)/d(input) and the loss is stored as a 0-d tensor.
- Exception: the AdamW fixtures are computed in float32, as PyTorch runs the
  optimizer, to check the optimizer itself.
- Case parameters are in the metadata, keyed by case name.
"""

from pathlib import Path

import diffusers
import safetensors
import torch
import torch.nn.functional as F
from diffusers.training_utils import EMAModel
from safetensors.torch import save_file

OUT_DIR = Path(__file__).resolve().parent / "nn"
SEED = 0
MADE_BY = (
    f"torch {torch.__version__}, diffusers {diffusers.__version__}, "
    f"safetensors {safetensors.__version__}"
)


def randn(gen, *shape, scale=1.0):
    """Standard normal float32 tensor, optionally scaled (in float32)."""
    return torch.randn(shape, generator=gen) * scale


def save(name, tensors, metadata=None):
    """Save tensors as contiguous float32 with the "made_by" metadata."""
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}
    metadata = {**(metadata or {}), "made_by": MADE_BY}
    save_file(tensors, str(OUT_DIR / f"{name}.safetensors"), metadata=metadata)


def forward_backward(gen, fn, inputs):
    """Run fn in float64 on the float32 inputs, backward with a random grad_out.

    Returns inputs, grad_out, out and grad_<input> for every input.
    """
    leaves = {k: v.double().requires_grad_() for k, v in inputs.items()}
    out = fn(**leaves)
    grad_out = randn(gen, *out.shape)
    out.backward(grad_out.double())
    result = dict(inputs, grad_out=grad_out, out=out)
    result.update({f"grad_{k}": v.grad for k, v in leaves.items()})
    return result


def loss_and_grad(fn, inputs, wrt):
    """Run a scalar loss fn in float64; returns inputs, loss and grad_<wrt>."""
    leaves = {k: v.double() for k, v in inputs.items()}
    leaves[wrt].requires_grad_()
    loss = fn(**leaves)
    loss.backward()
    return dict(inputs, loss=loss, **{f"grad_{wrt}": leaves[wrt].grad})


def with_case(case, tensors):
    return {f"{case}.{k}": v for k, v in tensors.items()}


def make_conv2d():
    cases = {  # name: (N, Cin, Cout, H, W, kernel, stride, padding)
        "s1p1": (2, 3, 4, 7, 7, 3, 1, 1),
        "s2p1": (2, 3, 4, 7, 7, 3, 2, 1),
        "s1p0": (2, 3, 4, 7, 7, 3, 1, 0),
        "s2p0": (2, 3, 4, 8, 8, 3, 2, 0),
        "k1": (2, 5, 3, 4, 4, 1, 1, 0),
        "k5": (1, 2, 3, 6, 5, 5, 1, 2),
    }
    gen = torch.Generator().manual_seed(SEED)
    tensors, metadata = {}, {}
    for case, (n, cin, cout, h, w, k, stride, padding) in cases.items():
        inputs = {
            "x": randn(gen, n, cin, h, w),
            "weight": randn(gen, cout, cin, k, k),
            "bias": randn(gen, cout),
        }

        def conv(x, weight, bias):
            return F.conv2d(x, weight, bias, stride=stride, padding=padding)

        tensors |= with_case(case, forward_backward(gen, conv, inputs))
        metadata[case] = f"stride={stride},padding={padding}"
    save("conv2d", tensors, metadata)


def make_group_norm():
    cases = {"g3": ((2, 6, 3, 4), 3), "g1": ((2, 4, 2, 3), 1), "g8": ((1, 8, 4, 4), 8)}
    gen = torch.Generator().manual_seed(SEED)
    tensors, metadata = {}, {}
    for case, (shape, groups) in cases.items():
        channels = shape[1]
        inputs = {
            "x": randn(gen, *shape),
            "weight": 1 + randn(gen, channels, scale=0.1),
            "bias": randn(gen, channels, scale=0.1),
        }

        def group_norm(x, weight, bias):
            return F.group_norm(x, groups, weight, bias, eps=1e-5)

        tensors |= with_case(case, forward_backward(gen, group_norm, inputs))
        metadata[case] = f"groups={groups}"
    save("group_norm", tensors, metadata | {"eps": "1e-5"})


def linear(x, weight, bias):
    return F.linear(x, weight, bias)


def make_linear():
    cases = {"a": ((3, 5), 4), "b": ((2, 3, 6), 2)}  # name: (x shape, out features)
    gen = torch.Generator().manual_seed(SEED)
    tensors = {}
    for case, (shape, out_features) in cases.items():
        inputs = {
            "x": randn(gen, *shape),
            "weight": randn(gen, out_features, shape[-1]),
            "bias": randn(gen, out_features),
        }
        tensors |= with_case(case, forward_backward(gen, linear, inputs))
    save("linear", tensors)


def make_unary(name, fn, shape, scale=1.0):
    """One case "a" of an elementwise-style op of a single input x."""
    gen = torch.Generator().manual_seed(SEED)
    inputs = {"x": randn(gen, *shape, scale=scale)}
    save(name, with_case("a", forward_backward(gen, fn, inputs)))


def make_cross_entropy():
    gen = torch.Generator().manual_seed(SEED)
    logits = randn(gen, 5, 4, scale=2.0)
    labels = torch.randint(0, 4, (5,), generator=gen)

    def cross_entropy(logits, labels):
        return F.cross_entropy(logits, labels.long(), reduction="mean")

    tensors = loss_and_grad(cross_entropy, {"logits": logits, "labels": labels.float()}, "logits")
    save("cross_entropy", with_case("a", tensors), {"a": "reduction=mean"})


def make_mse():
    gen = torch.Generator().manual_seed(SEED)
    inputs = {"x": randn(gen, 2, 3, 4), "target": randn(gen, 2, 3, 4)}

    def mse(x, target):
        return F.mse_loss(x, target, reduction="mean")

    save("mse", with_case("a", loss_and_grad(mse, inputs, "x")), {"a": "reduction=mean"})


def multi_head_attention(q, k, v, heads):
    """Scaled-dot-product attention over heads split from the channel dim."""
    b, length, channels = q.shape
    d = channels // heads

    def split(t):
        return t.view(b, length, heads, d).transpose(1, 2)

    out = F.scaled_dot_product_attention(split(q), split(k), split(v))
    return out.transpose(1, 2).reshape(b, length, channels)


def make_attention():
    gen = torch.Generator().manual_seed(SEED)
    tensors, metadata = {}, {}
    for case, heads in {"h2": 2, "h1": 1}.items():
        inputs = {name: randn(gen, 2, 6, 8) for name in ("q", "k", "v")}

        def attention(q, k, v):
            return multi_head_attention(q, k, v, heads)

        tensors |= with_case(case, forward_backward(gen, attention, inputs))
        metadata[case] = f"heads={heads}"
    save("attention", tensors, metadata)


def make_adamw():
    """Three AdamW steps on one float32 parameter, as PyTorch runs them."""
    cases = {  # name: (lr, betas, eps, weight_decay, gradient scale)
        "a": (1e-2, (0.9, 0.999), 1e-8, 0.1, 1.0),
        "b": (1e-4, (0.95, 0.999), 1e-8, 1e-6, 1e-3),
    }
    gen = torch.Generator().manual_seed(SEED)
    tensors, metadata = {}, {}
    for case, (lr, betas, eps, weight_decay, grad_scale) in cases.items():
        p = torch.nn.Parameter(randn(gen, 3, 4))
        opt = torch.optim.AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        steps = {"p0": p.detach().clone()}
        for i in (1, 2, 3):
            p.grad = randn(gen, 3, 4, scale=grad_scale)
            steps[f"g{i}"] = p.grad.clone()
            opt.step()
            steps[f"p{i}"] = p.detach().clone()
        state = opt.state[p]
        steps |= {"exp_avg": state["exp_avg"], "exp_avg_sq": state["exp_avg_sq"]}
        tensors |= with_case(case, steps)
        metadata[case] = (
            f"lr={lr},beta1={betas[0]},beta2={betas[1]},eps={eps},weight_decay={weight_decay}"
        )
    save("adamw", tensors, metadata)


def make_clip_grad():
    """clip_grad_norm_ (max_norm 1, L2) on two gradients, in float64.

    PyTorch scales by clip_coef = max_norm / (total_norm + 1e-6), clamped to
    at most 1, so gradients with a norm below max_norm are left unchanged.
    """
    max_norm = 1.0
    gen = torch.Generator().manual_seed(SEED)
    tensors, metadata = {}, {}
    for case, scale in {"a": 2.0, "b": 0.01}.items():
        grads = {"g1": randn(gen, 3, 4, scale=scale), "g2": randn(gen, 5, scale=scale)}
        params = []
        for g in grads.values():
            p = torch.nn.Parameter(torch.zeros_like(g, dtype=torch.float64))
            p.grad = g.double()
            params.append(p)
        total_norm = torch.nn.utils.clip_grad_norm_(params, max_norm=max_norm, norm_type=2.0)
        tensors |= with_case(case, {
            **grads,
            "g1_clipped": params[0].grad,
            "g2_clipped": params[1].grad,
            "total_norm": total_norm.reshape(1),
        })
        metadata[case] = f"max_norm={max_norm},norm_type=2"
    save("clip_grad", tensors, metadata)


def make_ema():
    """diffusers' EMAModel with warmup over one parameter, in float64.

    How diffusers 0.42 counts steps (EMAModel.step / get_decay):
    - The shadow starts as a copy of the parameter (a.p0) and
      optimization_step starts at 0.
    - step() first increments optimization_step to n (n = 1 on the first
      call), then uses decay = get_decay(n), then for every parameter that
      requires grad: shadow -= (1 - decay) * (shadow - param).
    - get_decay(n): s = max(0, n - update_after_step - 1); if s <= 0 the
      decay is 0 (so the first step copies the parameter into the shadow);
      otherwise, with warmup, decay = 1 - (1 + s / inv_gamma) ** -power,
      then clamped to [min_decay, decay_max] = [0, 0.9999].
    With update_after_step = 0 and inv_gamma = 1, step n uses
    decay = 1 - n ** -0.75 (0 at n = 1). The decays used are stored in the
    metadata under "a.step_decays".
    """
    config = {"decay": 0.9999, "use_ema_warmup": True, "inv_gamma": 1.0, "power": 0.75,
              "update_after_step": 0, "min_decay": 0.0}
    gen = torch.Generator().manual_seed(SEED)
    p0 = randn(gen, 3, 4)
    param = torch.nn.Parameter(p0.double())
    ema = EMAModel([param], **config)
    tensors, decays = {"p0": p0}, []
    for i in range(1, 6):
        m = randn(gen, 3, 4)
        with torch.no_grad():
            param.copy_(m.double())
        ema.step([param])
        decays.append(ema.cur_decay_value)
        tensors |= {f"m{i}": m, f"e{i}": ema.shadow_params[0].clone()}
    metadata = {
        "a": ",".join(f"{k}={v}" for k, v in config.items()),
        "a.step_decays": " ".join(repr(d) for d in decays),
    }
    save("ema", with_case("a", tensors), metadata)


def main():
    torch.set_num_threads(1)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    make_conv2d()
    make_group_norm()
    make_linear()
    make_unary("silu", lambda x: F.silu(x), (2, 3, 4, 5), scale=3.0)
    make_unary("upsample", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), (2, 3, 3, 4))
    make_unary("softmax", lambda x: torch.softmax(x, dim=-1), (3, 7), scale=4.0)
    make_cross_entropy()
    make_mse()
    make_attention()
    make_adamw()
    make_clip_grad()
    make_ema()
    for path in sorted(OUT_DIR.glob("*.safetensors")):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
