"""`cnncalc calc --chain`: a compact layer list (the notation of cnncalc.spec.notation) traced
layer by layer, with each layer's output-size working.

>>> trace("conv(10, k=5, p=2) -> relu -> maxpool(2)", [(3, 32, 32)]).report.rows[-1].output_shape
(1, 10, 16, 16)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.analysis.report import Report, analyze
from cnncalc.analysis.shapes import infer_shapes
from cnncalc.errors import UsageError
from cnncalc.layers.base import Shape, Step


@dataclass(frozen=True)
class Trace:
    report: Report
    #: per layer, the steps that derive its output size (one per spatial axis, and C_out)
    sizes: dict[str, list[Step]]


def trace(text: str, inputs: Sequence[tuple[int, ...]], batch: int = 1, dtype: str | None = None) -> Trace:
    """The notation's graph analyzed (no memory peaks), with the size working of every layer."""
    from cnncalc.spec import Overrides, load_notation

    if len(inputs) > 1:
        raise UsageError("--chain takes one --input (or INPUT(...) in the chain)")
    overrides = Overrides(inputs={"": tuple(inputs[0])} if inputs else {}, batch=batch, dtype=dtype)
    graph = load_notation(text, overrides, name="chain")
    shapes = infer_shapes(graph)
    sizes: dict[str, list[Step]] = {}
    for node in graph:
        if node.is_input:
            continue
        ins: list[Shape] = [shapes[name] for name in node.inputs]
        steps = node.kind.explain(node.attrs, ins)
        sizes[node.name] = [s for s in steps if s.quantity.endswith("_out") and s.substituted]
    return Trace(analyze(graph, peaks=False), sizes)
