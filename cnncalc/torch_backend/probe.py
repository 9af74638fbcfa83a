"""Receptive fields measured by a gradient probe: the input pixels one output unit depends on.

The probe model is the built model made *geometric*: every weight positive, activations,
normalizations and dropout replaced by identities (their effect on the field is the elementwise
identity by cnncalc's convention; instance/layer norm statistics are not part of a field), max
pooling replaced by summing the same windows (a max sends its gradient to one tap only), and
every padding made zeros (reflect, replicate and circular padding read interior pixels again,
which a field, an interval of input coordinates, does not show). The input is positive, so no
path cancels. For the unit at the centre of an output map (all channels
summed), the non-zero input gradient spans the field.

Which nodes are probed, and how exactly they can agree:
- Only graphs with one input (a field is measured on one input grid).
- Not downstream of layers whose field depends on the data: max unpooling and bed-of-nails
  (values land where the indices say), RoI pooling (boxes) and deformable convolution (learned
  offsets).
- A field can only be compared where it lies inside the input: an end that falls in the padding
  is clipped there and is not compared. Downstream of a merge, a field is the hull of its
  branches' fields, and a branch whose unit reads padding alone adds no input pixel: once any
  end is clipped, the support must lie within the field on every axis, not span it.
- Through transposed windows (transposed convolutions, upsampling) or adaptive pooling with
  uneven windows, fields are no longer one grid: the analytic field is centred on the average
  position of the units (start + u*jump) and is as wide as the widest one. The true support of
  a unit then sits up to a bounded phase error off that centre: (s-1)/(2s) input jumps for a
  transposed window of stride s, under one input jump for an uneven adaptive window. The probe
  checks that the support is no wider than the analytic size and lies within the analytic field
  widened by the accumulated phase error.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnncalc.analysis.receptive_field import ReceptiveField
from cnncalc.graph import LayerGraph
from cnncalc.layers.base import Shape
from cnncalc.layers.pool import AdaptivePoolNd, GlobalPool, MaxPoolNd, strides
from cnncalc.torch_backend.build import GraphModule, build

#: families made identities in the probe model
ELEMENTWISE = frozenset({"activation", "norm", "dropout"})


@dataclass(frozen=True)
class Probe:
    layer: str
    unit: tuple[int, ...]  # the probed output unit (spatial index)
    #: per axis: the analytic field of that unit, [low, high] in input coordinates
    field: tuple[tuple[Fraction, Fraction], ...]
    #: per axis: first and last input index with a non-zero gradient (None: no support)
    measured: tuple[tuple[int, int] | None, ...]
    #: per axis: the phase error allowed (0: the support must equal the field exactly)
    slack: tuple[Fraction, ...]
    size: tuple[int, ...]  # the input's spatial size: ends outside it are not compared
    merged: bool = False  # downstream of a merge: the field is a hull of its branches' fields

    @property
    def exact(self) -> bool:
        return not any(self.slack)

    @property
    def expected(self) -> tuple[tuple[Fraction | None, Fraction | None], ...]:
        """The field's ends that lie inside the input (None: clipped by the border)."""
        return tuple((low if low >= 0 else None, high if high <= n - 1 else None)
                     for (low, high), n in zip(self.field, self.size, strict=True))

    @property
    def ok(self) -> bool:
        axes = list(zip(self.field, self.measured, self.slack, self.size, strict=True))
        if all(support is None for support in self.measured):
            # no input pixel at all: only possible when the field reaches the padding on some
            # axis (the unit may read padding alone, e.g. through dilation holes), or after a
            # transposed window with fewer taps than its stride (units between the taps read
            # nothing)
            return any(slack or low < 0 or high > n - 1 for (low, high), _, slack, n in axes)
        clipped = any(low < 0 or high > n - 1 for (low, high), _, _, n in axes)
        within = self.merged and clipped  # a branch reading padding alone may add nothing
        return all(support is not None and _agrees(field, support, slack, n, within)
                   for field, support, slack, n in axes)


def _agrees(field: tuple[Fraction, Fraction], support: tuple[int, int], slack: Fraction, n: int,
            within: bool) -> bool:
    low, high = field
    first, last = support
    if within:
        return first >= low - slack and last <= high + slack
    if not slack:  # each end inside the input is exact
        return (low < 0 or first == low) and (high > n - 1 or last == high)
    # within the field widened by the phase error (each tap's unit may sit off the grid, so the
    # support may also be wider than the analytic size, by up to twice the error)
    return first >= low - slack and last <= high + slack


class SumPool(nn.Module):
    """The windows of a max pool with every tap weighted alike: the pool's own module runs on
    the input to give torch's output size (ceil_mode, padding), then the windows are averaged
    over the explicitly padded input (a depthwise convolution of ones when dilated)."""

    def __init__(self, pool: nn.Module, kernel: tuple[int, ...], stride: tuple[int, ...],
                 dilation: tuple[int, ...], pads: tuple[tuple[int, int], ...]):
        super().__init__()
        self.pool, self.kernel, self.stride, self.dilation, self.pads = pool, kernel, stride, dilation, pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self.pool(x.detach()).shape[2:]
        flat: list[int] = []
        for n, o, k, s, d, (begin, end) in reversed(list(zip(
                x.shape[2:], target, self.kernel, self.stride, self.dilation, self.pads, strict=True))):
            needed = (o - 1) * s + d * (k - 1) + 1
            flat += [begin, max(end, needed - n - begin)]
        x = F.pad(x, flat)
        if not any(d > 1 for d in self.dilation):  # the fast kernel; the scale does not matter
            out: torch.Tensor = getattr(F, f"avg_pool{len(self.kernel)}d")(x, self.kernel, self.stride)
        else:
            channels = x.shape[1]
            ones = torch.ones(channels, 1, *self.kernel, dtype=x.dtype, device=x.device)
            conv = getattr(F, f"conv{len(self.kernel)}d")
            out = conv(x, ones, None, self.stride, 0, self.dilation, channels)
        return out[(..., *(slice(0, int(o)) for o in target))]  # type: ignore[index]


def geometric(model: GraphModule, graph: LayerGraph, shapes: dict[str, Shape]) -> GraphModule:
    """Make the built model geometric in place (see the module docstring)."""
    for node in graph:
        if node.is_input or node.share is not None:
            continue
        index = model.index[node.name]
        kind, a = node.kind, node.attrs
        ins = [shapes[n] for n in node.inputs]
        if kind.family in ELEMENTWISE:
            model.layers[index] = nn.Identity()
        elif isinstance(kind, (MaxPoolNd, AdaptivePoolNd, GlobalPool)) and kind.op == "max":
            model.layers[index] = _sum_like(model.layers[index], kind, a, ins)
    from cnncalc.torch_backend.modules import Pad, Padded

    for module in model.modules():  # a field's border is zeros: reflect/replicate/circular
        if isinstance(module, nn.modules.conv._ConvNd):  # padding read interior pixels again
            module.padding_mode = "zeros"
        elif isinstance(module, (Pad, Padded)) and module.mode != "constant":
            module.mode, module.value = "constant", 0.0
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            values = torch.rand(parameter.shape, generator=generator, dtype=parameter.dtype) + 0.5
            if parameter.dim() > 1:
                values /= parameter[0].numel()
            parameter.copy_(values)
    return model


def _sum_like(module: nn.Module, kind: Any, a: Any, ins: list[Shape]) -> nn.Module:
    if isinstance(kind, MaxPoolNd):
        return SumPool(module, tuple(a.kernel), tuple(strides(a)), tuple(a.dilation), kind.pads(a, ins))
    if isinstance(kind, AdaptivePoolNd):  # torch's own windows
        adaptive: nn.Module = getattr(nn, f"AdaptiveAvgPool{len(ins[0]) - 2}d")(a.output_size)
        return adaptive
    return _Mean()  # global


class _Mean(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


def spread(candidates: list[str], limit: int) -> list[str]:
    """Up to `limit` of the candidates, evenly spaced along the graph, the last one always."""
    count = min(limit, len(candidates))
    if count <= 1:
        return candidates[-count:] if count else []
    last = len(candidates) - 1
    return [candidates[round(i * last / (count - 1))] for i in range(count)]


def probe(graph: LayerGraph, shapes: dict[str, Shape], fields: dict[str, ReceptiveField | None],
          layers: list[str], device: str = "cpu") -> list[Probe]:
    """Probe `layers` (from `probeable`, e.g. `spread` out).

    The probe runs in float32 first (float64 convolutions are 3x slower on CPUs), and again in
    float64 when any probe disagrees: the gradient at a field's edge is about (1/k)^depth of
    its centre and can underflow float32 in very deep networks (DenseNet-201's 98 stacked 3x3
    convolutions reach 1e-47)."""
    results = _probe(graph, shapes, fields, layers, device, torch.float32)
    if all(p.ok for p in results):
        return results
    return _probe(graph, shapes, fields, layers, device, torch.float64)


def _probe(graph: LayerGraph, shapes: dict[str, Shape], fields: dict[str, ReceptiveField | None],
           layers: list[str], device: str, dtype: torch.dtype) -> list[Probe]:
    if not layers:
        return []
    model = geometric(build(graph, device=device, dtype=dtype), graph, shapes).eval()
    model.record = True
    (source,) = graph.inputs
    generator = torch.Generator().manual_seed(1)
    x = (torch.rand(shapes[source.name], generator=generator, dtype=dtype) + 0.5).to(device)
    x.requires_grad_(True)
    model(x)
    outputs = model.outputs
    slack = phase_error(graph, shapes, fields)
    merged: set[str] = set()
    for node in graph:
        if len(node.inputs) > 1 or any(n in merged for n in node.inputs):
            merged.add(node.name)
    results = []
    for name in layers:
        y = outputs[name]
        unit = tuple(n // 2 for n in y.shape[2:])
        (grad,) = torch.autograd.grad(y[(0, slice(None), *unit)].sum(), x, retain_graph=True)  # type: ignore[index]
        support = grad[0].abs().sum(dim=0) != 0
        measured = []
        for axis in range(support.dim()):
            others = tuple(d for d in range(support.dim()) if d != axis)
            hits = (support.any(dim=others) if others else support).nonzero().flatten().tolist()
            measured.append((hits[0], hits[-1]) if hits else None)
        field = fields[name]
        assert field is not None
        bounds = []
        for axis_field, u in zip(field.axes, unit, strict=True):
            centre = axis_field.start + u * axis_field.jump
            bounds.append((centre - (axis_field.size - 1) / 2, centre + (axis_field.size - 1) / 2))
        results.append(Probe(name, unit, tuple(bounds), tuple(measured), slack[name], tuple(x.shape[2:]),
                             name in merged))
    return results


def probeable(graph: LayerGraph, fields: dict[str, ReceptiveField | None]) -> list[str]:
    """Layers with a field on the single input's grid, none of it data-dependent."""
    if len(graph.inputs) != 1:
        return []
    tainted: set[str] = set()
    names = []
    for node in graph:
        if node.kind.field_from_data or any(n in tainted for n in node.inputs):
            tainted.add(node.name)
        elif not node.is_input and fields[node.name] is not None:
            names.append(node.name)
    return names


def phase_error(graph: LayerGraph, shapes: dict[str, Shape],
                fields: dict[str, ReceptiveField | None]) -> dict[str, tuple[Fraction, ...]]:
    """Per layer and axis: how far (input pixels) a unit's true field centre may sit from the
    analytic start + u*jump, accumulated over the transposed and uneven windows before it."""
    errors: dict[str, tuple[Fraction, ...]] = {}
    for node in graph:
        out = shapes[node.name]
        zero = tuple(Fraction(0) for _ in out[2:])
        if node.is_input or fields[node.name] is None:
            errors[node.name] = zero
            continue
        ins = [shapes[n] for n in node.inputs]
        windows = node.kind.window(node.attrs, ins, out) or ()
        error = list(zero)
        for source in node.inputs[: node.kind.field_inputs]:
            before, field = errors[source], fields[source]
            if field is None or len(before) != len(error):
                continue
            for axis, (w, a) in enumerate(zip(windows, field.axes, strict=True)):
                added = Fraction(0)
                if w.transposed:
                    added = (Fraction(w.stride) - 1) / (2 * Fraction(w.stride)) * a.jump
                elif Fraction(w.stride).denominator != 1:
                    added = a.jump
                error[axis] = max(error[axis], before[axis] + added)
        errors[node.name] = tuple(error)
    return errors
