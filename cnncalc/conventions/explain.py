"""The gap between two conventions, split by category and by layer (`cnncalc explain`).

Both profiles count the same layer calls, each split into the registry's FLOP categories, so
the difference of the totals is exactly the sum of the per-category differences and exactly
the sum of the per-layer differences. Places where either tool is known to count wrong come
with the profiles' flags, and `EXPLANATIONS` says why each kind of error happens.

>>> from cnncalc.spec import load_graph
>>> gap = explain(load_graph("resnet50"), "torchinfo", "fvcore")
>>> gap.difference == sum(t - s for s, t in gap.categories.values()) == sum(l.difference for l in gap.layers)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnncalc.analysis.shapes import infer_shapes
from cnncalc.conventions.base import CATEGORIES, Counts, Flag, Number
from cnncalc.conventions.registry import calls, context, profile
from cnncalc.graph import LayerGraph

#: why each known error happens, by flag code
EXPLANATIONS = {
    "transposed-output-grid": (
        "A transposed convolution multiplies every *input* element by its whole kernel: "
        "N*C_in*prod(in_spatial)*(C_out/groups)*prod(kernel) multiply-adds. thop, torchinfo and "
        "torchscan count it like a forward convolution, per *output* element, which over-counts "
        "by the ratio of output to input positions (about stride^2; more where a large kernel "
        "grows a small map). fvcore, ptflops and FlopCounterMode count the input grid."),
    "ptflops-counted-twice": (
        "ptflops 0.7 (pytorch backend) hooks torch.nn modules and also patches "
        "torch.nn.functional; nn.ReLU, nn.PReLU, nn.ELU, nn.GELU, the pooling modules and "
        "nn.Upsample call the patched functions, so every call is counted by both counters."),
    "grouped-conv-backward": (
        "FlopCounterMode's convolution_backward formula correlates every input channel with "
        "every output channel for the weight gradient, so a grouped (or depthwise) "
        "convolution's grad-weight is counted `groups` times over; `cnncalc verify` corrects it."),
    "fvcore-matmul-broadcast": (
        "fvcore counts aten::matmul as prod(first operand) * last axis of the second: a batch "
        "axis that only the second operand has (broadcast) is missed."),
    "torchinfo-linear-positions": (
        "torchinfo counts every parametric layer but convolutions as batch * parameters, so a "
        "linear layer applied at every position of a [N, L, F] input is counted once per sample."),
}


@dataclass(frozen=True)
class LayerGap:
    name: str
    kind: str
    source: Number
    target: Number
    by_category: dict[str, Number]  # target - source, non-zero categories only

    @property
    def difference(self) -> Number:
        return self.target - self.source


@dataclass(frozen=True)
class Gap:
    model: str
    source: Counts
    target: Counts
    source_tool: str
    target_tool: str
    #: (source, target) per category counted by either
    categories: dict[str, tuple[Number, Number]]
    #: every layer whose count differs, in execution order
    layers: list[LayerGap]
    flags: list[tuple[str, Flag]]  # (profile, flag), from both profiles
    notes: list[str] = field(default_factory=list)

    @property
    def difference(self) -> Number:
        return self.target.total - self.source.total

    @property
    def layer_count(self) -> int:
        return len(self.source.layers)


def explain(graph: LayerGraph, source: str, target: str) -> Gap:
    """How `graph`'s count under convention `source` becomes its count under `target`."""
    shapes = infer_shapes(graph)
    layer_calls = calls(graph, shapes)
    where = context(graph, shapes)
    before, after = profile(source), profile(target)
    ours, theirs = before.count(layer_calls, where), after.count(layer_calls, where)
    kinds = {call.name: call.node.kind.name for call in layer_calls}
    layers = []
    for a, b in zip(ours.layers, theirs.layers, strict=True):
        if a.count == b.count and a.by_category == b.by_category:
            continue
        parts = {c: b.by_category.get(c, 0) - a.by_category.get(c, 0) for c in CATEGORIES}
        layers.append(LayerGap(a.name, kinds[a.name], a.count, b.count, {c: v for c, v in parts.items() if v}))
    first, second = ours.by_category, theirs.by_category
    categories = {c: (first.get(c, 0), second.get(c, 0)) for c in CATEGORIES if first.get(c) or second.get(c)}
    flags = [(source, flag) for flag in ours.flags] + [(target, flag) for flag in theirs.flags]
    return Gap(graph.name, ours, theirs, before.tool, after.tool, categories, layers, flags,
               _notes(ours, theirs))


def _notes(source: Counts, target: Counts) -> list[str]:
    notes = []
    if source.multiply_add != target.multiply_add:
        notes.append(f"{source.profile} counts a multiply-add as {source.multiply_add} and "
                     f"{target.profile} as {target.multiply_add}: the products alone "
                     f"{'double' if target.multiply_add > source.multiply_add else 'halve'}")
    elif source.unit != target.unit:
        notes.append(f"{source.profile} calls its number {source.unit} and {target.profile} "
                     f"{target.unit}, but both count a multiply-add as {source.multiply_add}")
    if source.profile == target.profile:
        notes.append("the same convention on both sides: no difference")
    return notes
