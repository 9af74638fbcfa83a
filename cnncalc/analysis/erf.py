"""Effective receptive field (Luo et al., 2016): how the influence of the input on one output
unit is distributed over its theoretical receptive field.

The gradient of the centre unit of a layer's output is propagated back to the input along each
spatial axis, every window spreading a unit's gradient uniformly over its taps (all weights
equal, pooling treated as averaging, activations as identity) - the "uniform weights" case of
the paper. Branches add. The result per axis is a distribution over input positions, with the
width of the narrowest window holding a given share of it (50%, 95%).

Axes are treated separately, which is exact for any unit whose receptive field lies inside the
input (no influence is lost to padding); near borders it is an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import floor

from cnncalc.graph import LayerGraph
from cnncalc.layers.base import Shape, Window


@dataclass(frozen=True)
class AxisInfluence:
    weights: tuple[float, ...]  # normalized influence per input position along this axis
    center: float  # centre of mass, in input coordinates

    def size_holding(self, share: float) -> int:
        """Width of the narrowest contiguous window holding at least `share` of the influence."""
        best = len(self.weights)
        total, left = 0.0, 0
        for right, weight in enumerate(self.weights):
            total += weight
            while left <= right and total - self.weights[left] >= share - 1e-12:
                total -= self.weights[left]
                left += 1
            if total >= share - 1e-12:
                best = min(best, right - left + 1)
        return best


@dataclass(frozen=True)
class EffectiveField:
    layer: str
    input: str
    unit: tuple[int, ...]  # the output unit probed (centre of the layer's output)
    axes: tuple[AxisInfluence, ...]


def _back(grad: list[float], w: Window, size_in: int) -> list[float]:
    result = [0.0] * size_in
    if w.transposed:
        stride = int(w.stride)
        share = stride / w.kernel
        for i in range(size_in):
            for j in range(w.kernel):
                o = i * stride - w.pad_begin + w.dilation * j
                if 0 <= o < len(grad):
                    result[i] += grad[o] * share
        return result
    for o, g in enumerate(grad):
        if not g:
            continue
        begin = floor(o * w.stride) - w.pad_begin
        for j in range(w.kernel):
            i = begin + w.dilation * j
            if 0 <= i < size_in:
                result[i] += g / w.kernel
    return result


def effective_field(graph: LayerGraph, shapes: dict[str, Shape], layer: str) -> list[EffectiveField]:
    """The influence on `layer`'s centre unit, one EffectiveField per graph input it reaches."""
    out = shapes[layer]
    unit = tuple(n // 2 for n in out[2:])
    grads: dict[str, list[list[float]]] = {
        layer: [[1.0 if i == c else 0.0 for i in range(n)] for n, c in zip(out[2:], unit)]
    }
    names = list(graph.nodes)
    for name in reversed(names[: names.index(layer) + 1]):
        node = graph.nodes[name]
        if name not in grads or node.is_input:
            continue
        grad = grads.pop(name)
        ins = [shapes[n] for n in node.inputs]
        windows = node.kind.window(node.attrs, ins, shapes[name])
        if windows is None:
            continue
        used = node.kind.field_inputs
        for source, shape in zip(node.inputs[:used], ins[:used]):
            back = [_back(g, w, n) for g, w, n in zip(grad, windows, shape[2:])]
            if source in grads:
                back = [[a + b for a, b in zip(old, new)] for old, new in zip(grads[source], back)]
            grads[source] = back
    fields = []
    for node in graph.inputs:
        if node.name not in grads:
            continue
        axes = []
        for weights in grads[node.name]:
            total = sum(weights) or 1.0
            normalized = tuple(w / total for w in weights)
            center = sum(i * w for i, w in enumerate(normalized))
            axes.append(AxisInfluence(normalized, center))
        fields.append(EffectiveField(layer, node.name, unit, tuple(axes)))
    return fields
