"""Memory pass (static part): parameter, buffer and per-layer output bytes for the graph's dtype.

`activation_bytes` of a layer is the size of its output tensor; the total is their sum over all
layers (inputs excluded), i.e. what a forward pass writes if nothing is freed or done in place.
Liveness-based peaks and training memory build on these numbers.
"""

from __future__ import annotations

from math import prod

from cnncalc.dtypes import DTYPE_BYTES
from cnncalc.graph import LayerGraph
from cnncalc.layers.base import Shape


def element_bytes(graph: LayerGraph) -> int:
    return DTYPE_BYTES[graph.dtype]


def output_bytes(graph: LayerGraph, shapes: dict[str, Shape]) -> dict[str, int]:
    size = element_bytes(graph)
    return {name: prod(shape) * size for name, shape in shapes.items()}
