"""Cost pass: parameters (trainable, frozen, buffers), MACs and FLOPs by category per layer.

Shared weights (`share:`) are counted once, at the layer that owns them; every call still
costs its MACs. Frozen layers (`trainable: false`) count as non-trainable parameters.

Backward FLOPs follow what autograd computes: a tensor needs a gradient when some layer before
it has trainable weights (inputs never do), so the first layer computes no grad-input and a
frozen layer no grad-weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnncalc.errors import ShapeError
from cnncalc.graph import LayerGraph
from cnncalc.layers.base import Shape


@dataclass(frozen=True)
class LayerCost:
    trainable_params: int = 0
    non_trainable_params: int = 0
    buffers: int = 0
    macs: int = 0
    flops_by_category: dict[str, int] = field(default_factory=dict)
    backward_by_part: dict[str, int] = field(default_factory=dict)

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def flops(self) -> int:
        return sum(self.flops_by_category.values())

    @property
    def backward_flops(self) -> int:
        return sum(self.backward_by_part.values())


def layer_costs(graph: LayerGraph, shapes: dict[str, Shape]) -> dict[str, LayerCost]:
    costs: dict[str, LayerCost] = {}
    needs_grad: dict[str, bool] = {}
    for node in graph:
        ins = [shapes[name] for name in node.inputs]
        out = shapes[node.name]
        a = node.attrs
        counts = node.kind.params(a, ins, out)
        params, buffers = counts.params, counts.buffers
        owner = graph.nodes[node.share] if node.share is not None else node
        trains = owner.trainable and counts.params > 0
        grads = [needs_grad[name] for name in node.inputs]
        needs_grad[node.name] = trains or any(grads)  # inputs have neither
        if node.share is not None:
            owned = owner.kind.params(owner.attrs, [shapes[n] for n in owner.inputs], shapes[owner.name])
            if owned != counts:
                raise ShapeError(
                    f"layer `{node.name}` shares the weights of `{owner.name}` but needs "
                    f"{counts.params:,} parameters where `{owner.name}` has {owned.params:,}",
                    span=node.span, hint="shared layers need inputs with the same channels",
                )
            params, buffers = 0, 0
        flops = {k: v for k, v in node.kind.flops(a, ins, out).items() if v}
        backward = node.kind.backward_flops(a, ins, out, grads, trains) if needs_grad[node.name] else {}
        costs[node.name] = LayerCost(
            trainable_params=params if node.trainable else 0,
            non_trainable_params=0 if node.trainable else params,
            buffers=buffers,
            macs=node.kind.macs(a, ins, out),
            flops_by_category=flops,
            backward_by_part={k: v for k, v in backward.items() if v},
        )
    return costs
