"""thop 0.1.1 (pytorch-OpCounter): the "MACs" of `thop.profile(model, inputs)`.

thop hooks modules whose exact class is in its `register_hooks` table, sums `total_ops` over
the module tree (a module with a rule is not searched further; others add up their children)
and counts one multiply-add as one op, in float64:

- Conv1d/2d/3d and ConvTranspose1d/2d/3d: prod(output) * (C_in / groups) * prod(kernel), bias
  excluded. For a convolution that is its MACs; a transposed convolution is counted on the
  *output* grid (flagged);
- Linear: in_features * output elements (bias excluded);
- BatchNorm1d/2d/3d, LayerNorm, InstanceNorm1d/2d/3d: 2 per input element, doubled with an
  affine transform (so 4 for a usual BatchNorm); GroupNorm and LRN have no rule (0);
- AvgPool: 1 per output element; AdaptiveAvgPool: int((prod(in/out, float64) + 1) * output
  elements), with fractional windows when the sizes do not divide; max pooling 0;
- Softmax: (3n - 1) per row of n; PReLU 1 per element (eval); ReLU, ReLU6, LeakyReLU 0; other
  activations (sigmoid, SiLU, hardswish, GELU, tanh...) have no rule (0);
- Upsample: output elements times 1 (nearest), 5 (linear), 11 (bilinear), 259 (bicubic);
  trilinear is "not implemented" (0);
- everything else (merges, reshapes, dropout, cnncalc's custom modules) has no rule: 0.
"""

from __future__ import annotations

from cnncalc.conventions.base import Call, Context, Flag, LayerCount, Number, Profile, flagged, numel
from cnncalc.conventions.modules import Module

_NORMS = {f"{prefix}{d}d" for prefix in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)} | {"LayerNorm"}
_UPSAMPLE = {"nearest": 1, "linear": 5, "bilinear": 11, "bicubic": 224 + 35}


def _prod_float(values: list[float]) -> float:
    total = 1.0
    for value in values:
        total *= value
    return total


def module_ops(module: Module) -> int:
    """thop's count for one call of a module with a rule (0 without one)."""
    cls, out = module.cls, module.out
    x = module.ins[0] if module.ins else ()
    if cls.startswith(("Conv1d", "Conv2d", "Conv3d", "ConvTranspose")):
        return numel(out) * (x[1] // int(module.hyper["groups"])) * numel(module.hyper["kernel_size"])
    if cls == "Linear":
        return int(module.hyper["in_features"]) * numel(out)
    if cls in _NORMS:
        affine = bool(module.hyper.get("affine") or module.hyper.get("elementwise_affine"))
        return 2 * numel(x) * (2 if affine else 1)
    if cls.startswith("AvgPool"):
        return numel(out)
    if cls.startswith("AdaptiveAvgPool"):
        kernel = _prod_float([float(i) / float(o) for i, o in zip(x[2:], out[2:])])
        return int((kernel + 1) * numel(out))
    if cls == "Softmax":
        n = x[int(module.hyper["dim"])]
        return (numel(x) // n) * (3 * n - 1)
    if cls == "PReLU":
        return numel(x)
    if cls == "Upsample":
        return _UPSAMPLE.get(str(module.hyper["mode"]), 0) * numel(out)
    return 0


def count(call: Call, context: Context) -> LayerCount:
    by_category: dict[str, Number] = {}
    for module in call.module.walk():
        ops = module_ops(module)
        if ops:
            category = call.mac_category if module.cls.startswith(("Conv", "Linear")) else call.work_category
            by_category[category] = by_category.get(category, 0) + ops
    result = LayerCount(call.name, by_category)
    if call.module.cls.startswith("ConvTranspose"):
        theirs = by_category.get(call.mac_category, 0)
        result = flagged(result, Flag(
            "transposed-output-grid", call.name,
            f"thop counts transposed convolution `{call.name}` on its output grid: {theirs:,} "
            f"multiply-adds; the layer performs {call.cost.macs:,}"))
    return result


PROFILE = Profile(
    "thop", "MACs", "thop 0.1.1 profile(model, inputs)[0]",
    "thop: conv/linear multiply-adds + BN 4/element + avg pools + softmax + upsample; ReLU and max pool free",
    count,
)
