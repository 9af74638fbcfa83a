"""Counting conventions: cnncalc's own (`macs`, `flops`) and one profile per peer tool.

Every FLOP counter prints a different number for the same model (ResNet-50 at 224: torchinfo
4.089 G, fvcore 4.112 G, ptflops 4.132 G, thop 4.134 G "MACs"; FlopCounterMode 8.178 G and
torchscan 8.223 G "FLOPs"). Each profile reproduces one tool's count exactly, per layer, from
the analyzed graph alone (no torch), so `cnncalc summary --convention NAME` prints what that
tool would print and `cnncalc explain` splits the gap between two of them by category and
layer. One tool's rules live in one module of this package (`fvcore`, `torchinfo`, `ptflops`,
`thop`, `torchscan`, `flopcounter`; cnncalc's own in `native`), the registry in `registry`;
docs/conventions.md describes every profile.

This module only names the conventions, so that the command line can offer them without
importing the layer registry.
"""

from __future__ import annotations

from enum import Enum

#: every convention, in the order they are listed (registry.PROFILES has the same names)
NAMES = (
    "macs", "flops", "fvcore", "torchinfo", "ptflops", "thop", "torchscan", "torchscan_macs",
    "flopcounter", "flopcounter_train",
)
DEFAULT = "macs"


class Convention(str, Enum):
    """The `--convention` / `--from` / `--to` choices."""

    macs = "macs"
    flops = "flops"
    fvcore = "fvcore"
    torchinfo = "torchinfo"
    ptflops = "ptflops"
    thop = "thop"
    torchscan = "torchscan"
    torchscan_macs = "torchscan_macs"
    flopcounter = "flopcounter"
    flopcounter_train = "flopcounter_train"
