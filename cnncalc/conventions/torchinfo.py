"""torchinfo 1.8: "Total mult-adds" of `torchinfo.summary(model, input_data=...)`.

torchinfo computes mult-adds from parameter counts, not from operators (`LayerInfo.calculate_macs`),
for every call of a *leaf* module (one without children) that has parameters:

- a module whose class name contains "Conv": (weight + bias elements) * N * prod(output
  spatial). For a convolution that is its MACs plus one bias add per output element; for a
  transposed convolution it is counted on the *output* grid, which over-counts by the ratio
  of output to input positions, about stride^2 (flagged);
- any other module: N * (weight + bias elements), whatever the input: BatchNorm costs
  N * 2C (per parameter, not per element), a Linear N * (in + 1) * out even when it runs on
  every position of a [N, L, F] input (the leading axes are missed, flagged), PReLU N * slopes;
- modules without parameters (activations, pooling, merges, upsampling) cost nothing; a
  module with children (cnncalc's Padded, PartialConv, DeformConv2d) is counted through its
  leaves.

A shared module is counted on every call, as cnncalc counts MACs.
"""

from __future__ import annotations

from cnncalc.conventions.base import Call, Context, Flag, LayerCount, Number, Profile, flagged, numel
from cnncalc.conventions.modules import Module


def module_mult_adds(module: Module) -> dict[str, int]:
    """One leaf call's mult-adds, split into its weight and bias parts."""
    out = module.out
    scale = out[0] * numel(out[2:]) if "Conv" in module.cls else out[0]
    parts: dict[str, int] = {}
    for name, elements in module.params:
        if name in ("weight", "bias"):
            parts[name] = parts.get(name, 0) + elements * scale
        elif "weight" in name or "bias" in name:  # RNN-style names: N * C * elements
            parts[name] = parts.get(name, 0) + elements * numel(out[:2])
    return parts


def count(call: Call, context: Context) -> LayerCount:
    by_category: dict[str, Number] = {}
    mac_kind = call.cost.macs > 0
    for module in call.module.walk():
        if not module.leaf:
            continue
        for name, value in module_mult_adds(module).items():
            if not mac_kind:  # a norm's or PReLU's parameters: its own work, bias included
                category = call.work_category
            else:
                category = "bias" if name == "bias" else call.mac_category
            by_category[category] = by_category.get(category, 0) + value
    result = LayerCount(call.name, {k: v for k, v in by_category.items() if v})
    module = call.module
    if module.cls.startswith("ConvTranspose"):
        theirs = by_category.get(call.mac_category, 0)
        result = flagged(result, Flag(
            "transposed-output-grid", call.name,
            f"torchinfo counts transposed convolution `{call.name}` on its output grid: {theirs:,} "
            f"multiply-adds; the layer performs {call.cost.macs:,}"))
    elif module.cls == "Linear" and len(call.ins[0]) > 2:
        theirs = by_category.get("linear", 0)
        result = flagged(result, Flag(
            "torchinfo-linear-positions", call.name,
            f"torchinfo counts linear `{call.name}` on input {list(call.ins[0])} once per sample: "
            f"{theirs:,} multiply-adds; the layer performs {call.cost.macs:,}"))
    return result


PROFILE = Profile(
    "torchinfo", "MACs", "torchinfo 1.8 summary(model, input_data=...).total_mult_adds",
    "torchinfo: (weights+bias) x output positions for Conv*, N x params for other parametric leaves",
    count,
)
