"""Graph inputs: a source node with a fixed shape."""

from __future__ import annotations

from collections.abc import Sequence

from cnncalc.layers.base import Attr, Attrs, Int, Ints, LayerKind, Shape, register


@register
class Input(LayerKind):
    name = "input"
    family = "io"
    summary = "a model input (declared under `input:`/`inputs:`, not in `layers:`)"
    attrs = (
        Attr("shape", Ints(minimum=1), doc="per-sample shape, channels first"),
        Attr("batch", Int(minimum=1), 1, "batch size"),
    )
    min_inputs = 0
    max_inputs = 0

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        return (a.batch, *a.shape)
