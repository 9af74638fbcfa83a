"""Shape pass: every node's output shape, batch axis included."""

from __future__ import annotations

from cnncalc.errors import ShapeError
from cnncalc.graph import LayerGraph
from cnncalc.layers.base import Shape


def infer_shapes(graph: LayerGraph) -> dict[str, Shape]:
    shapes: dict[str, Shape] = {}
    for node in graph:
        ins = [shapes[name] for name in node.inputs]
        try:
            shapes[node.name] = node.kind.shape(node.attrs, ins)
        except ShapeError as error:
            described = ", ".join(f"`{name}` {list(shapes[name])}" for name in node.inputs)
            raise ShapeError(
                f"layer `{node.name}` ({node.kind.name}): {error.message}",
                span=node.span,
                hint=error.hint or (
                    f"its input{'s' if len(node.inputs) > 1 else ''}: {described}" if described else None
                ),
            ) from None
    return shapes
