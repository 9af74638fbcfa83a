"""torchscan 0.2.0: `crawl_module(model, args=...)`, its "Module-formula forward FLOPs"
(profile `torchscan`) and "Multiply-Accumulations" (profile `torchscan_macs`).

torchscan applies a formula to every call of every leaf module (no children), chosen with
isinstance, and warns (counting 0) for classes it does not know. FLOPs count a multiply-add
as 2 minus the first add:

- _ConvNd: output elements * (2 * C_in/groups * prod(kernel) - 1 + bias); _ConvTransposeNd the
  same (so on the *output* grid, flagged) plus 8 per spatial axis;
- Linear: out_features * positions * (2 * in_features - 1 + bias);
- _BatchNorm at inference: 2 per channel + 2 per element + 2 per element with an affine
  transform; LayerNorm: 6 per element + 2 per row + 1 per element each for weight and bias;
- ReLU 1, ReLU6 2, Sigmoid 4, LeakyReLU 4, ELU 6, Tanh 6 per element; other activations
  (SiLU, hardswish, GELU, softmax...) unsupported (0);
- _MaxPoolNd: (prod(kernel) - 1) per output element; _AvgPoolNd: (prod(kernel) - 1 + spatial
  axes) per output element; adaptive pools the same with an approximate kernel per axis
  (in // out when it divides, else in % out + 1);
- Dropout (the nn.Dropout class only): 1 per element when p > 0, even at inference;
- Identity, Flatten 0; everything else (merges, GroupNorm, LRN, upsampling, cnncalc's custom
  modules) unsupported: 0.

MACs: convolutions output elements * C_in/groups * prod(kernel) (transposed: output grid plus 4
per axis), Linear in_features * output elements, _BatchNorm (1 + affine) per element, pooling as
the FLOPs, activations and dropout 0.
"""

from __future__ import annotations

from collections.abc import Callable

from cnncalc.conventions.base import Call, Context, Flag, LayerCount, Number, Profile, flagged, numel
from cnncalc.conventions.modules import Module

_ELEMENTWISE_FLOPS = {"ReLU": 1, "ReLU6": 2, "Sigmoid": 4, "LeakyReLU": 4, "ELU": 6, "Tanh": 6}


def _adaptive_kernel(x: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(i // o if i % o == 0 else i % o + 1 for i, o in zip(x[2:], out[2:]))


def _pool(module: Module) -> int | None:
    """Pooling formulas, shared by FLOPs and MACs (None: not a pooling class)."""
    x, out = module.ins[0], module.out
    if module.isa("_MaxPoolNd"):
        return numel(out) * (numel(module.hyper["kernel_size"]) - 1)
    if module.isa("_AvgPoolNd"):
        return numel(out) * (numel(module.hyper["kernel_size"]) - 1 + len(x) - 2)
    if module.isa("_AdaptiveMaxPoolNd"):
        return numel(out) * (numel(_adaptive_kernel(x, out)) - 1)
    if module.isa("_AdaptiveAvgPoolNd"):
        kernel = _adaptive_kernel(x, out)
        return numel(out) * (numel(kernel) - 1 + len(kernel))
    return None


def _terms(module: Module) -> int:
    return numel(module.hyper["kernel_size"]) * (module.ins[0][1] // int(module.hyper["groups"]))


def module_flops(module: Module) -> dict[str, int]:
    """One leaf call's FLOPs by part: "macs" (the product), "bias", "work" (elementwise)."""
    x, out = module.ins[0], module.out
    if module.isa("_ConvNd"):
        extra = 8 * len(module.hyper["kernel_size"]) if module.isa("_ConvTransposeNd") else 0
        return {"macs": numel(out) * (2 * _terms(module) - 1) + extra,
                "bias": numel(out) if module.hyper["bias"] else 0}
    if module.cls == "Linear":
        positions = module.hyper["out_features"] * numel(x[:-1])
        return {"macs": positions * (2 * module.hyper["in_features"] - 1),
                "bias": positions if module.hyper["bias"] else 0}
    if module.isa("_BatchNorm"):
        affine = module.hyper["affine"]
        return {"work": 2 * module.hyper["num_features"] + 2 * numel(x) + (2 * numel(x) if affine else 0)}
    if module.cls == "LayerNorm":
        rows = numel(x) // numel(module.hyper["normalized_shape"])
        return {"work": 6 * numel(x) + 2 * rows + numel(x) * len(module.params)}
    if module.cls in _ELEMENTWISE_FLOPS:
        return {"work": _ELEMENTWISE_FLOPS[module.cls] * numel(x)}
    if module.cls == "Dropout":
        return {"work": numel(x) if module.hyper["p"] > 0 else 0}
    pooled = _pool(module)
    return {"work": pooled or 0}


def module_macs(module: Module) -> dict[str, int]:
    x, out = module.ins[0], module.out
    if module.isa("_ConvNd"):
        extra = 4 * len(module.hyper["kernel_size"]) if module.isa("_ConvTransposeNd") else 0
        return {"macs": numel(out) * _terms(module) + extra}
    if module.cls == "Linear":
        return {"macs": module.hyper["in_features"] * numel(out)}
    if module.isa("_BatchNorm"):
        return {"work": numel(x) * (1 + int(module.hyper["affine"]))}
    pooled = _pool(module)
    return {"work": pooled or 0}


def _counter(formula: Callable[[Module], dict[str, int]], what: str) -> Callable[[Call, Context], LayerCount]:
    def count(call: Call, context: Context) -> LayerCount:
        by_category: dict[str, Number] = {}
        for module in call.module.walk():
            if not module.leaf:
                continue
            for part, value in formula(module).items():
                category = {"macs": call.mac_category, "bias": "bias"}.get(part, call.work_category)
                if value:
                    by_category[category] = by_category.get(category, 0) + value
        result = LayerCount(call.name, by_category)
        if call.module.cls.startswith("ConvTranspose"):
            theirs = by_category.get(call.mac_category, 0)
            result = flagged(result, Flag(
                "transposed-output-grid", call.name,
                f"torchscan's {what} count transposed convolution `{call.name}` on its output grid: "
                f"{theirs:,}; the layer performs {call.cost.macs:,} multiply-adds"
                + (f" ({2 * call.cost.macs:,} FLOPs)" if what == "FLOPs" else "")))
        return result

    return count


PROFILE = Profile(
    "torchscan", "FLOPs", "torchscan 0.2.0 crawl_module(model, args=...) totals['module_flops']",
    "torchscan: module formulas, 2*terms-1 per conv/linear output (+bias), BN 4/element + 2/channel, "
    "ReLU, pooling, dropout",
    _counter(module_flops, "FLOPs"),
    multiply_add=2,
)
MACS_PROFILE = Profile(
    "torchscan_macs", "MACs", "torchscan 0.2.0 crawl_module(model, args=...) totals['macs']",
    "torchscan MACs: conv/linear multiply-adds + BN (1+affine)/element + pooling",
    _counter(module_macs, "MACs"),
)
