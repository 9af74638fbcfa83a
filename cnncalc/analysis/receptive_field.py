"""Receptive-field pass: size, jump (effective stride) and start per spatial axis.

For every layer, each spatial axis of its output has a theoretical receptive field on the input:
`size` input pixels wide, `jump` input pixels between neighbouring output units, and `start`,
the input coordinate of the centre of output unit 0 (negative when it lies in the padding).
Composition through a window (kernel k, stride s, dilation d, padding p):

    k_eff = d*(k-1) + 1
    size  += (k_eff - 1) * jump
    start += ((k_eff - 1)/2 - p) * jump
    jump  *= s

A transposed window (transposed convolution, upsampling) divides the jump by s and widens the
field by ceil(k_eff/s) - 1 input units (the most taps one output unit receives). Exact fractions
throughout. Merges take the union of their branches and are flagged when the branches' grids
disagree (different jump or start). An input broadcast along an axis (size 1 there, as the
gate of a squeeze-and-excitation block) feeds every output unit the same values: its field
joins every unit's field with jump 0, and it does not count towards alignment. Layers without
spatial axes have no receptive field.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil

from cnncalc.graph import LayerGraph
from cnncalc.layers.base import Shape, Window


@dataclass(frozen=True)
class AxisField:
    size: Fraction
    jump: Fraction
    start: Fraction

    def through(self, w: Window) -> AxisField:
        span = w.dilation * (w.kernel - 1) + 1
        if w.transposed:
            return AxisField(
                self.size + (ceil(Fraction(span, w.stride)) - 1) * self.jump,
                self.jump / w.stride,
                self.start + (w.pad_begin - Fraction(span - 1, 2)) / w.stride * self.jump,
            )
        return AxisField(
            self.size + (span - 1) * self.jump,
            self.jump * w.stride,
            self.start + (Fraction(span - 1, 2) - w.pad_begin) * self.jump,
        )


@dataclass(frozen=True)
class ReceptiveField:
    axes: tuple[AxisField, ...]
    #: False when merged branches sit on different grids (their unit 0 centres or jumps differ)
    aligned: bool = True


UNIT = AxisField(Fraction(1), Fraction(1), Fraction(0))


def union(fields: list[ReceptiveField]) -> ReceptiveField:
    if len(fields) == 1:
        return fields[0]
    if len({len(f.axes) for f in fields}) != 1:
        return ReceptiveField(fields[0].axes, aligned=False)
    axes = []
    aligned = all(f.aligned for f in fields)
    for per_branch in zip(*(f.axes for f in fields)):
        low = min(a.start - (a.size - 1) / 2 for a in per_branch)
        high = max(a.start + (a.size - 1) / 2 for a in per_branch)
        grids = {(a.jump, a.start) for a in per_branch if a.jump}
        if len(grids) > 1:
            aligned = False
        # broadcast branches widen the field; `start` stays on the grid's units (the field is then
        # no longer centred on them: it spans the whole union)
        broadcast_only = len(grids) == 1 and any(not a.jump for a in per_branch)
        centre = next(iter(grids))[1] if broadcast_only else (low + high) / 2
        axes.append(AxisField(high - low + 1, max(a.jump for a in per_branch), centre))
    return ReceptiveField(tuple(axes), aligned)


def broadcast(field: AxisField, size_in: int, size_out: int) -> AxisField:
    """A size-1 axis broadcast over a larger output: every output unit sees the same field."""
    return AxisField(field.size, Fraction(0), field.start) if size_in == 1 < size_out else field


def receptive_fields(graph: LayerGraph, shapes: dict[str, Shape]) -> dict[str, ReceptiveField | None]:
    fields: dict[str, ReceptiveField | None] = {}
    for node in graph:
        out = shapes[node.name]
        if node.is_input:
            fields[node.name] = ReceptiveField((UNIT,) * len(out[2:])) if len(out) > 2 else None
            continue
        ins = [shapes[name] for name in node.inputs]
        windows = node.kind.window(node.attrs, ins, out)
        sources = [fields[name] for name in node.inputs[: node.kind.field_inputs]]
        if windows is None or any(s is None or len(s.axes) != len(windows) for s in sources):
            fields[node.name] = None
            continue
        merge = len(sources) > 1  # only a merge broadcasts; one input of size 1 may be padded up
        composed = [
            ReceptiveField(
                tuple(broadcast(a.through(w), n, m) if merge else a.through(w)
                      for a, w, n, m in zip(s.axes, windows, shape[2:], out[2:])),
                s.aligned,
            )
            for s, shape in zip(sources, ins) if s is not None
        ]
        fields[node.name] = union(composed)
    return fields
