"""fvcore 0.1.5: `FlopCountAnalysis(model, inputs).total()`, per module with `.by_module()`.

fvcore traces the model with torch.jit and counts the aten operators it has a handle for, one
multiply-add as one "flop" (so its number is a MAC count plus some elementwise work):

- convolutions (`aten::_convolution`, transposed ones on the input grid), `aten::linear`,
  `aten::addmm`, `aten::bmm`, `aten::matmul`: multiply-adds, bias excluded (for every kind
  here, the registry's MACs), except that `matmul` counts prod(first operand) * m, which misses
  a batch the second operand broadcasts in (flagged);
- `aten::batch_norm`: at inference (running statistics) 2 per element with an affine
  transform, 1 without; on the batch's statistics (track_running_stats false) 5 or 4;
- `aten::group_norm`, `aten::layer_norm`, `aten::instance_norm`: 5 per element with an affine
  weight, 4 without;
- `aten::upsample_nearest2d` 1 and `aten::upsample_bilinear2d` 4 per output element (other
  modes and ranks: 0); `aten::adaptive_avg_pool2d` 1 per *input* element (1-d and 3-d: 0);
  `aten::grid_sampler` 4 per output element (deformable convolution's sampling);
- everything else is skipped: activations, max/average pooling, global pooling (a mean),
  residual adds and products, LRN, dropout, bias adds.

The model is measured in eval mode, as `cnncalc verify` runs it.
"""

from __future__ import annotations

from cnncalc.conventions.base import Call, Context, Flag, LayerCount, Profile, flagged, numel, split
from cnncalc.conventions.modules import Module

_NORMS = ("GroupNorm", "LayerNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")


def module_ops(module: Module) -> int:
    """The non-MAC operators fvcore counts in one module call (children excluded)."""
    x, out = module.ins[0], module.out
    if module.isa("_BatchNorm"):
        affine = bool(module.params)
        if module.hyper["track_running_stats"]:
            return numel(x) * (2 if affine else 1)
        return numel(x) * (5 if affine else 4)
    if module.cls in _NORMS:
        has_weight = any(name == "weight" for name, _ in module.params)
        return numel(x) * (5 if has_weight else 4)
    if module.cls == "Upsample" and len(x) == 4:
        return {"nearest": 1, "bilinear": 4}.get(module.hyper["mode"], 0) * numel(out)
    if module.cls == "AdaptiveAvgPool2d":
        return numel(x)
    if module.cls == "DeformConv2d":  # grid_sample's output is the main conv's input
        return 4 * numel(module.children[1].ins[0])
    return 0


def count(call: Call, context: Context) -> LayerCount:
    work = sum(module_ops(m) for m in call.module.walk())
    category = "other" if call.module.cls == "DeformConv2d" else call.work_category
    if call.module.cls != "MatMul":
        return split(call, macs=call.cost.macs, **{category: work})
    first, second = call.ins
    theirs = numel(first) * second[-1]
    result = split(call, matmul=theirs)
    if theirs != call.cost.macs:
        return flagged(result, Flag(
            "fvcore-matmul-broadcast", call.name,
            f"fvcore counts `{call.name}` (matmul {list(first)} @ {list(second)}) as prod(first) * m = "
            f"{theirs:,} multiply-adds; the product has {call.cost.macs:,} (the batch the second "
            "operand brings is missed)"))
    return result


PROFILE = Profile(
    "fvcore", "FLOPs", "fvcore 0.1.5 FlopCountAnalysis(model, inputs).total(), eval mode",
    "fvcore: conv/linear multiply-adds + BN (2/element) + norms (5) + upsample + adaptive avg pool input",
    count,
)
