"""What a counting profile sees, and what it answers.

A profile reproduces one tool's count of one forward pass, layer by layer, from the analyzed
graph alone (no torch). It sees each layer call as a `Call`: the node, its input and output
shapes, the registry's own numbers for it (MACs, FLOPs by category, backward FLOPs) and the
torch module cnncalc's backend runs for it (`cnncalc.conventions.modules`), and it answers a
`LayerCount`: the layer's count split into the registry's FLOP categories, plus `Flag`s where
the tool is known to be wrong about that layer.

Counts are ints, except where a tool divides (ptflops divides its module hooks by the batch it
saw): those are exact Fractions, never floats, so the differences `cnncalc explain` prints add
up exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Union

from cnncalc.analysis.cost import LayerCost
from cnncalc.conventions.modules import Module
from cnncalc.graph import LayerNode
from cnncalc.layers.base import FLOP_CATEGORIES, Shape

Number = Union[int, Fraction]

#: categories of the counts: the registry's FLOP categories
CATEGORIES = FLOP_CATEGORIES
#: what each category covers, for tables
CATEGORY_LABELS = {
    "conv": "convolutions (multiply-adds)",
    "linear": "linear layers (multiply-adds)",
    "matmul": "matrix products",
    "bias": "bias adds",
    "norm": "normalization (BN, LN, GN, LRN)",
    "activation": "activations",
    "pool": "pooling",
    "merge": "merges (residual adds, products)",
    "upsample": "upsampling",
    "other": "other (dropout, sampling, reshapes)",
}
_MAC_CATEGORIES = ("conv", "linear", "matmul")


@dataclass(frozen=True)
class Call:
    """One layer call of the graph, as every profile sees it."""

    node: LayerNode
    ins: tuple[Shape, ...]
    out: Shape
    cost: LayerCost
    module: Module  # what GraphModule runs for it (a shared layer runs its owner's module)
    index: int  # the index of that module in GraphModule.layers

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def mac_category(self) -> str:
        """Where the registry files this layer's multiply-adds: conv, linear or matmul."""
        for category in _MAC_CATEGORIES:
            if category in self.cost.flops_by_category:
                return category
        family = self.node.kind.family
        return family if family in _MAC_CATEGORIES else "conv"

    @property
    def work_category(self) -> str:
        """The category of the layer's elementwise work (BN: norm, ReLU: activation, ...): the
        registry's, else the layer family's, else "other"."""
        for category in self.cost.flops_by_category:
            if category not in (*_MAC_CATEGORIES, "bias"):
                return category
        family = self.node.kind.family
        return family if family in CATEGORIES and family not in _MAC_CATEGORIES else "other"


@dataclass(frozen=True)
class Context:
    """What a profile may need beyond one call: the graph's input shapes (batch included)."""

    inputs: tuple[Shape, ...] = ()


@dataclass(frozen=True)
class Flag:
    """A place where a tool is known to count wrong, with the correct figure beside its own."""

    code: str
    layer: str
    message: str


@dataclass(frozen=True)
class LayerCount:
    name: str
    by_category: dict[str, Number]
    flags: tuple[Flag, ...] = ()

    @property
    def count(self) -> Number:
        return sum(self.by_category.values(), 0)


@dataclass(frozen=True)
class Counts:
    """One profile's count of a graph, per layer (execution order) and in total."""

    profile: str
    unit: str
    layers: tuple[LayerCount, ...]
    multiply_add: int = 1  # what one multiply-add of a product counts: 1 (MACs) or 2 (FLOPs)

    @property
    def total(self) -> Number:
        return sum((layer.count for layer in self.layers), 0)

    @property
    def by_category(self) -> dict[str, Number]:
        totals: dict[str, Number] = {}
        for layer in self.layers:
            for category, value in layer.by_category.items():
                totals[category] = totals.get(category, 0) + value
        return {c: totals[c] for c in CATEGORIES if totals.get(c)}

    @property
    def flags(self) -> list[Flag]:
        return [flag for layer in self.layers for flag in layer.flags]

    def layer(self, name: str) -> LayerCount:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)


@dataclass(frozen=True)
class Profile:
    """A named counting convention: cnncalc's own, or one tool's."""

    name: str
    unit: str  # "MACs" or "FLOPs", as the tool labels its number
    tool: str  # the tool and the call reproduced
    summary: str  # one line for tables and footnotes
    count_layer: Callable[[Call, Context], LayerCount]
    multiply_add: int = 1  # what one multiply-add of a product counts: 1 or 2

    def count(self, calls: Sequence[Call], context: Context = Context()) -> Counts:
        layers = tuple(self.count_layer(c, context) for c in calls)
        return Counts(self.name, self.unit, layers, self.multiply_add)


def split(call: Call, **parts: Number) -> LayerCount:
    """A LayerCount from category=value pairs (zeros dropped); `work` means the layer's own
    elementwise category."""
    by_category: dict[str, Number] = {}
    for key, value in parts.items():
        category = call.work_category if key == "work" else call.mac_category if key == "macs" else key
        if value:
            by_category[category] = by_category.get(category, 0) + value
    return LayerCount(call.name, by_category)


def flagged(count: LayerCount, *flags: Flag) -> LayerCount:
    return LayerCount(count.name, count.by_category, count.flags + flags)


def numel(shape: Iterable[int]) -> int:
    total = 1
    for n in shape:
        total *= n
    return total


def plain(value: Number) -> int | float:
    """A count for JSON: an int, or a float where a tool's division left a fraction."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    return value


def by_module(counts: Counts, calls: Sequence[Call]) -> Mapping[int, Number]:
    """Counts summed per torch module (GraphModule.layers index): how the tools report them
    (a shared module's calls add up on one row)."""
    index = {call.name: call.index for call in calls}
    result: dict[int, Number] = {}
    for layer in counts.layers:
        result[index[layer.name]] = result.get(index[layer.name], 0) + layer.count
    return result
