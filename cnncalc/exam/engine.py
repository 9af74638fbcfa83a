"""Keys through the layer registry: the exam never re-derives layer math.

`apply` runs one registered layer kind on a shape and returns everything the registry knows
about it (output shape, parameters, buffers, MACs, FLOPs, windows); `chain` runs a sequence;
`field` composes windows with the receptive-field pass's own algebra; `connectivity` lists the
inputs each output unit reads, from the registry's Window (its docstring defines the rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from cnncalc.analysis.receptive_field import UNIT, AxisField
from cnncalc.layers import lookup
from cnncalc.layers.base import Attrs, Shape, Window


@dataclass(frozen=True)
class Facts:
    kind: str
    attrs: Attrs
    input: Shape
    output: Shape
    params: int
    buffers: int
    macs: int
    flops: Mapping[str, int]
    windows: tuple[Window, ...] | None

    @property
    def spatial(self) -> Shape:
        return self.output[2:]


def apply(kind: str, shape: Shape, **attrs: Any) -> Facts:
    """One layer of `kind` on an input of `shape` (batch included).

    >>> apply("conv2d", (1, 16, 63, 63), out=32, kernel=7, stride=2).output
    (1, 32, 29, 29)
    """
    layer = lookup(kind)
    a = layer.make_attrs(attrs)
    out = layer.shape(a, [shape])
    counts = layer.params(a, [shape], out)
    return Facts(kind, a, shape, out, counts.params, counts.buffers, layer.macs(a, [shape], out),
                 layer.flops(a, [shape], out), layer.window(a, [shape], out))


def chain(shape: Shape, layers: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Facts]:
    """Each layer applied to the previous one's output."""
    facts: list[Facts] = []
    for kind, attrs in layers:
        facts.append(apply(kind, shape, **attrs))
        shape = facts[-1].output
    return facts


def field(layers: Sequence[Facts], axis: int = 0) -> AxisField:
    """The receptive field along `axis` of the last layer's units, on the first layer's input."""
    result = UNIT
    for facts in layers:
        assert facts.windows is not None, f"{facts.kind} has no window"
        result = result.through(facts.windows[axis])
    return result


def connectivity(size: int, outputs: int, window: Window) -> tuple[tuple[int, ...], ...]:
    """For each output unit, the input indices (within 0..size-1) its window reads: unit o reads
    o*stride - pad_begin + dilation*j for j in [0, kernel) (Window's rule)."""
    assert isinstance(window.stride, int) and not window.transposed
    return tuple(
        tuple(i for j in range(window.kernel)
              if 0 <= (i := o * window.stride - window.pad_begin + window.dilation * j) < size)
        for o in range(outputs)
    )


def as_int(value: Fraction) -> int:
    assert value.denominator == 1, value
    return int(value)
