"""Merges of several inputs: add, multiply (broadcasting like torch), concat and matmul.

Counting rules: add and multiply cost n-1 FLOPs ("merge") per output element for n inputs;
concat is data movement (0); matmul counts MACs = prod(broadcast batch axes) * n * k * m for
[..., n, k] @ [..., k, m] (a 1-d operand contributes n = 1 or m = 1), FLOPs "matmul" 2*MACs.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

from cnncalc.errors import ShapeError
from cnncalc.layers.base import AUTOCAST_LOW, Attr, Attrs, Int, LayerKind, Saved, Shape, Window, register


def broadcast(first: Shape, second: Shape) -> Shape | None:
    """torch's broadcast of two shapes (aligned on the right), None if they do not broadcast."""
    rank = max(len(first), len(second))
    a = (1,) * (rank - len(first)) + tuple(first)
    b = (1,) * (rank - len(second)) + tuple(second)
    out = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y) if 1 in (x, y) else x)
    return tuple(out)


class Elementwise(LayerKind):
    """n inputs combined elementwise after broadcasting: n-1 operations per output element."""

    family = "merge"
    min_inputs = 2
    max_inputs = None
    torch_name = "Add"

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        out = ins[0]
        for other in ins[1:]:
            merged = broadcast(out, other)
            if merged is None:
                raise ShapeError(f"{self.name} cannot broadcast {list(out)} with {list(other)}")
            out = merged
        return out

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"merge": (len(ins) - 1) * prod(out)}

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend import modules

        return getattr(modules, self.torch_name)()


@register
class Add(Elementwise):
    name = "add"
    aliases = ("sum",)
    summary = "elementwise sum of 2+ inputs (residual connections), broadcasting"
    grad_is_view = True  # every input gets the output's gradient (summed down if broadcast)
    formulas = {"output shape": "torch broadcast of the inputs", "flops": "merge: (n-1) per output element"}


@register
class Multiply(Elementwise):
    name = "multiply"
    aliases = ("mul",)
    summary = "elementwise product of 2+ inputs (SE gating [N,C,1,1] * [N,C,H,W]), broadcasting"
    torch_name = "Multiply"
    formulas = {"output shape": "torch broadcast of the inputs", "flops": "merge: (n-1) per output element"}

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """((x0 * x1) * x2) ...: each product keeps one operand for the other's gradient, the
        running product made as a new tensor between the first and the last."""
        inputs: list[int] = []
        extra = []
        prefix, prefix_grad = ins[0], grads[0]
        for k in range(1, len(ins)):
            if prefix_grad:
                inputs.append(k)
            if grads[k]:
                if k == 1:
                    inputs.append(0)
                else:
                    extra.append((prod(prefix), "act"))
            prefix = broadcast(prefix, ins[k]) or prefix
            prefix_grad = prefix_grad or grads[k]
        return Saved(inputs=tuple(sorted(set(inputs))), extra=tuple(extra))


@register
class Concat(LayerKind):
    name = "concat"
    aliases = ("cat",)
    family = "merge"
    summary = "concatenate 2+ inputs along `dim` (channels by default)"
    grad_is_view = True  # each input gets a slice of the output gradient
    min_inputs = 2
    max_inputs = None
    attrs = (Attr("dim", Int(minimum=None), 1, "the axis joined (1: channels)"),)
    formulas = {"output shape": "sizes along dim added, other axes equal", "flops": "merge: 0"}

    def axis(self, a: Attrs, x: Shape) -> int:
        if not -len(x) <= a.dim < len(x):
            raise ShapeError(f"concat dim {a.dim} is out of range for shape {list(x)}")
        return int(a.dim) % len(x)

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        first = ins[0]
        axis = self.axis(a, first)
        for other in ins[1:]:
            if len(other) != len(first):
                raise ShapeError(
                    f"concat needs inputs of equal rank, found {list(first)} and {list(other)}"
                )
            if any(p != q for i, (p, q) in enumerate(zip(first, other, strict=True)) if i != axis):
                raise ShapeError(
                    f"concat along axis {axis} needs equal sizes on the other axes, "
                    f"found {list(first)} and {list(other)}"
                )
        return (*first[:axis], sum(x[axis] for x in ins), *first[axis + 1:])

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"merge": 0}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...] | None:
        """Identity when joining channels; joining along a spatial axis has no single window."""
        if self.axis(a, out) >= 2:
            return None
        return super().window(a, ins, out)

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Concat as Module

        return Module(a.dim)


@register
class MatMul(LayerKind):
    """torch.matmul: batched matrix product, batch axes broadcast, 1-d operands promoted."""

    name = "matmul"
    family = "merge"
    summary = "matrix product of 2 inputs (torch.matmul semantics; attention)"
    min_inputs = 2
    max_inputs = 2
    autocast = AUTOCAST_LOW
    formulas = {
        "output shape": "[*broadcast(batch axes), n, m] (1-d operands drop n or m)",
        "macs": "prod(broadcast batch axes) * n * k * m",
        "flops": "matmul: 2*macs",
    }

    def operands(self, ins: Sequence[Shape]) -> tuple[Shape, int, int, int]:
        """(broadcast batch axes, n, k, m)."""
        first, second = ins[0], ins[1]
        if not first or not second:
            raise ShapeError(f"matmul needs 1-d or larger inputs, found {list(first)} and {list(second)}")
        a = (1, *first) if len(first) == 1 else tuple(first)
        b = (*second, 1) if len(second) == 1 else tuple(second)
        if a[-1] != b[-2]:
            raise ShapeError(
                f"matmul needs matching inner sizes, found {list(first)} @ {list(second)} "
                f"({a[-1]} != {b[-2]})"
            )
        batch = broadcast(a[:-2], b[:-2])
        if batch is None:
            raise ShapeError(
                f"matmul cannot broadcast the batch axes of {list(first)} and {list(second)}"
            )
        return batch, a[-2], a[-1], b[-1]

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        batch, n, _, m = self.operands(ins)
        rows = (n,) if len(ins[0]) > 1 else ()
        cols = (m,) if len(ins[1]) > 1 else ()
        return (*batch, *rows, *cols)

    def macs(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> int:
        batch, n, k, m = self.operands(ins)
        return prod(batch) * n * k * m

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"matmul": 2 * self.macs(a, ins, out)}

    def backward_flops(self, a: Attrs, ins: Sequence[Shape], out: Shape,
                       grads: Sequence[bool], weights: bool) -> dict[str, int]:
        """Both operands are data: one product per operand that needs a gradient."""
        return {"grad_input": 2 * self.macs(a, ins, out) * sum(map(bool, grads))}

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """Each operand, for the other's gradient."""
        return Saved(inputs=tuple(i for i, other in ((0, grads[1]), (1, grads[0])) if other))

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> None:
        return None

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import MatMul as Module

        return Module()
