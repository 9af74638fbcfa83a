"""cnncalc's own conventions: `macs` (the default) and `flops`.

- macs: multiply-accumulates of convolution, linear and matmul layers, bias excluded, one per
  multiply-add (the registry's `macs`; torchvision's published "GFLOPS" and fvcore's conv and
  linear counts are this number).
- flops: 2*MACs plus bias adds plus the elementwise work of every other category (the
  registry's `flops` by category; docs/conventions.md lists the per-kind rules).
"""

from __future__ import annotations

from cnncalc.conventions.base import Call, Context, LayerCount, Profile, split


def macs(call: Call, context: Context) -> LayerCount:
    return split(call, macs=call.cost.macs)


def flops(call: Call, context: Context) -> LayerCount:
    return LayerCount(call.name, dict(call.cost.flops_by_category))


PROFILES = (
    Profile("macs", "MACs", "cnncalc", "multiply-accumulates of conv, linear and matmul, bias excluded",
            macs),
    Profile("flops", "FLOPs", "cnncalc",
            "2*MACs + bias adds + elementwise work (norm, activation, pool, merge, upsample)", flops,
            multiply_add=2),
)
