"""The profiles by name, and the one way to count a graph under one of them.

>>> from cnncalc.spec import load_graph
>>> count(load_graph("lenet5"), "thop").total == count(load_graph("lenet5"), "macs").total
True
"""

from __future__ import annotations

from cnncalc.analysis.cost import LayerCost, layer_costs
from cnncalc.analysis.shapes import infer_shapes
from cnncalc.conventions import flopcounter, fvcore, native, ptflops, thop, torchinfo, torchscan
from cnncalc.conventions.base import Call, Context, Counts, Profile
from cnncalc.conventions.modules import describe
from cnncalc.errors import UsageError
from cnncalc.graph import LayerGraph
from cnncalc.layers.base import Shape, suggest

PROFILES: dict[str, Profile] = {
    profile.name: profile for profile in (
        *native.PROFILES,
        fvcore.PROFILE,
        torchinfo.PROFILE,
        ptflops.PROFILE,
        thop.PROFILE,
        torchscan.PROFILE,
        torchscan.MACS_PROFILE,
        flopcounter.PROFILE,
        flopcounter.TRAIN_PROFILE,
    )
}
__all__ = ["PROFILES", "Call", "Counts", "Profile", "calls", "context", "count", "profile"]


def profile(name: str) -> Profile:
    """The profile called `name`, else a UsageError listing them."""
    found = PROFILES.get(name)
    if found is None:
        raise UsageError(
            f"unknown convention `{name}`",
            hint=suggest(name, PROFILES) or f"conventions: {', '.join(PROFILES)}",
        )
    return found


def calls(graph: LayerGraph, shapes: dict[str, Shape] | None = None,
          costs: dict[str, LayerCost] | None = None) -> list[Call]:
    """Every layer call of `graph` (inputs excluded) with what profiles read about it."""
    shapes = infer_shapes(graph) if shapes is None else shapes
    costs = layer_costs(graph, shapes) if costs is None else costs
    index: dict[str, int] = {}
    modules = 0
    found = []
    for node in graph:
        if node.is_input:
            continue
        if node.share is not None:
            index[node.name] = index[node.share]
        else:
            index[node.name], modules = modules, modules + 1
        ins = tuple(shapes[name] for name in node.inputs)
        out = shapes[node.name]
        found.append(Call(node, ins, out, costs[node.name], describe(node.kind, node.attrs, ins, out),
                          index[node.name]))
    return found


def context(graph: LayerGraph, shapes: dict[str, Shape] | None = None) -> Context:
    shapes = infer_shapes(graph) if shapes is None else shapes
    return Context(tuple(shapes[node.name] for node in graph.inputs))


def count(graph: LayerGraph, name: str, shapes: dict[str, Shape] | None = None,
          costs: dict[str, LayerCost] | None = None) -> Counts:
    """`graph` counted under the convention `name` (shapes and costs: the analysis passes'
    results, when the caller has them)."""
    shapes = infer_shapes(graph) if shapes is None else shapes
    return profile(name).count(calls(graph, shapes, costs), context(graph, shapes))
