"""Convolutions: 1D/2D/3D, grouped and depthwise, transposed, locally connected, deformable."""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers.base import (
    AUTOCAST_LOW,
    Attr,
    Attrs,
    Bool,
    Choice,
    Int,
    IntTable,
    LayerKind,
    Padding,
    Params,
    PerAxis,
    Saved,
    Shape,
    Step,
    Window,
    axis_names,
    expect_rank,
    joined,
    kernel_product,
    padded_numel,
    padding_note,
    product,
    register,
    shape_product,
    spatial,
    step,
)
from cnncalc.window import (
    conv_output_size,
    explain_output_size,
    explain_transposed_output_size,
    resolve_padding,
    transposed_output_size,
)

PADDING_MODES = Choice(
    "zeros", "reflect", "replicate", "circular",
    aliases={"zero": "zeros", "copy": "replicate", "wrap": "circular"},
)


def _common_attrs(padding_doc: str) -> tuple[Attr, ...]:
    return (
        Attr("out", Int(minimum=1), doc="output channels"),
        Attr("kernel", PerAxis(), doc="kernel size per spatial axis"),
        Attr("stride", PerAxis(), 1, "step between windows"),
        Attr("padding", Padding(), 0, padding_doc),
        Attr("dilation", PerAxis(), 1, "spacing between kernel taps"),
        Attr("groups", Int(minimum=1), 1, "channel groups (groups = in channels: depthwise)"),
        Attr("bias", Bool(), True, "add a learned bias per output channel"),
    )


def per_group(channels: str, groups: int) -> str:
    """`{C_in}` or `({C_in}/{g})`: the channels one filter reads (a template piece)."""
    return f"{{{channels}}}" if groups == 1 else f"({{{channels}}}/{{g}})"


def check_groups(kind: LayerKind, channels_in: int, channels_out: int, groups: int) -> None:
    for what, channels in (("input", channels_in), ("output", channels_out)):
        if channels % groups:
            raise ShapeError(
                f"groups must divide {what} channels, but {groups} does not divide {channels}"
            )


class ConvNd(LayerKind):
    family = "conv"
    autocast = AUTOCAST_LOW
    attrs = (
        *_common_attrs("zeros on both sides, per axis, [[begin, end], ...], same or valid"),
        Attr("padding_mode", PADDING_MODES, "zeros", "border mode (zero/reflect/copy/wrap)"),
    )
    formulas = {
        "output size": "floor((n + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride) + 1",
        "params": "out * (in/groups) * prod(kernel) + (out if bias)",
        "macs": "N * out * prod(out_spatial) * (in/groups) * prod(kernel)",
        "flops": "conv: 2*macs; bias: N * out * prod(out_spatial)",
    }

    def padding(self, a: Attrs, ins: Sequence[Shape]) -> tuple[tuple[int, int], ...]:
        return resolve_padding(a.padding, spatial(ins[0]), a.kernel, a.stride, a.dilation)

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_rank(self, x, 2 + (self.spatial_dims or 0))
        check_groups(self, x[1], a.out, a.groups)
        pads = self.padding(a, ins)
        sizes = []
        for axis, n in enumerate(spatial(x)):
            if a.padding_mode != "zeros" and max(pads[axis]) >= n and a.padding_mode == "reflect":
                raise ShapeError(f"reflect padding {max(pads[axis])} must be smaller than input {n}")
            sizes.append(
                conv_output_size(n, a.kernel[axis], a.stride[axis], pads[axis], a.dilation[axis])
            )
        return (x[0], a.out, *sizes)

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        weights = a.out * (ins[0][1] // a.groups) * prod(a.kernel)
        return Params(weights + (a.out if a.bias else 0))

    def macs(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> int:
        return prod(out) * (ins[0][1] // a.groups) * prod(a.kernel)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"conv": 2 * self.macs(a, ins, out), "bias": prod(out) if a.bias else 0}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        pads = self.padding(a, ins)
        return tuple(
            Window(k, s, d, p[0]) for k, s, d, p in zip(a.kernel, a.stride, a.dilation, pads)
        )

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        return [*self.size_steps(a, ins, out), *self.count_steps(a, ins, out)]

    def size_steps(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """C_out, then each spatial axis by the window formula (window.explain_output_size)."""
        pads = self.padding(a, ins)
        steps = [step("C_out", "{out}", out[1], out=a.out)]
        for axis, name in enumerate(axis_names(len(out) - 2)):
            worked = explain_output_size(
                ins[0][2 + axis], a.kernel[axis], a.stride[axis], pads[axis], a.dilation[axis]
            )
            note = joined(padding_note(a.padding, pads[axis]), worked.note)
            steps.append(Step(f"{name}_out", *worked[:3], note))
        return steps

    def count_steps(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """params, MACs and FLOPs of a (grouped) convolution with shared weights."""
        kernel, k = kernel_product(a.kernel)
        positions, o = shape_product(out, "_out")
        reads = per_group("C_in", a.groups)
        numbers = {**k, **o, "C_in": ins[0][1], "g": a.groups}
        bias = " + {C_out}" if a.bias else ""
        macs = self.macs(a, ins, out)
        return [
            step("params", f"{{C_out}}·{reads}·{kernel}{bias}", self.params(a, ins, out).params, **numbers),
            step("MACs", f"{positions}·{reads}·{kernel}", macs, **numbers),
            step("FLOPs", "2·{MACs}" + (f" + {positions}" if a.bias else ""),
                 sum(self.flops(a, ins, out).values()), MACs=macs, **o),
        ]

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input (and the weight). Padding the convolution cannot do itself (asymmetric, or
        a non-zero mode) is an explicit padded copy, which the convolution keeps instead;
        reflect/replicate padding keeps its own input as well, for the input's gradient."""
        pads = self.padding(a, ins)
        if a.padding_mode == "zeros" and all(b == e for b, e in pads):
            return Saved(inputs=(0,))
        copy = ((padded_numel(ins[0], pads), "act"),)
        keeps_input = a.padding_mode in ("reflect", "replicate") and grads[0]
        return Saved(inputs=(0,) if keeps_input else (), extra=copy)

    def workspace(self, a: Attrs, ins: Sequence[Shape], out: Shape, device: str) -> int:
        """On CPU, torch's oneDNN convolution reorders the input and the output through a
        blocked layout, and the weights too: a window larger than 1x1 holds max(input, output)
        plus the weights besides its output while it runs (measured on torch 2.13, 1 and 8
        samples, 1x1 to 7x7, grouped and not); a 1x1 convolution runs in place layout."""
        if device != "cpu" or len(ins[0]) != 4 or prod(a.kernel) == 1:
            return 0
        return max(prod(ins[0]), prod(out)) + self.params(a, ins, out).params

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import conv_module

        return conv_module(self.spatial_dims, ins[0][1], a, self.padding(a, ins))


@register
class Conv1d(ConvNd):
    name = "conv1d"
    summary = "1-D convolution over [N, C, L]"
    spatial_dims = 1


@register
class Conv2d(ConvNd):
    name = "conv2d"
    aliases = ("conv",)
    summary = "2-D convolution over [N, C, H, W] (grouped, depthwise, dilated)"
    spatial_dims = 2


@register
class Conv3d(ConvNd):
    name = "conv3d"
    summary = "3-D convolution over [N, C, D, H, W]"
    spatial_dims = 3


class ConvTransposeNd(LayerKind):
    family = "conv"
    autocast = AUTOCAST_LOW
    attrs = (
        Attr("out", Int(minimum=1), doc="output channels"),
        Attr("kernel", PerAxis(), doc="kernel size per spatial axis"),
        Attr("stride", PerAxis(), 1, "upsampling factor"),
        Attr("padding", PerAxis(minimum=0), 0, "dilation*(kernel-1)-padding zeros added"),
        Attr("output_padding", PerAxis(minimum=0), 0, "extra rows/cols on one side of the output"),
        Attr("dilation", PerAxis(), 1, "spacing between kernel taps"),
        Attr("groups", Int(minimum=1), 1, "channel groups"),
        Attr("bias", Bool(), True, "add a learned bias per output channel"),
    )
    formulas = {
        "output size": "(n-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1",
        "params": "in * (out/groups) * prod(kernel) + (out if bias)",
        "macs": "N * in * prod(in_spatial) * (out/groups) * prod(kernel)  (on the input grid)",
        "flops": "conv: 2*macs; bias: N * out * prod(out_spatial)",
    }

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_rank(self, x, 2 + (self.spatial_dims or 0))
        check_groups(self, x[1], a.out, a.groups)
        sizes = [
            transposed_output_size(n, k, s, (p, p), d, op)
            for n, k, s, p, d, op in zip(
                spatial(x), a.kernel, a.stride, a.padding, a.dilation, a.output_padding
            )
        ]
        return (x[0], a.out, *sizes)

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        weights = ins[0][1] * (a.out // a.groups) * prod(a.kernel)
        return Params(weights + (a.out if a.bias else 0))

    def macs(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> int:
        return prod(ins[0]) * (a.out // a.groups) * prod(a.kernel)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"conv": 2 * self.macs(a, ins, out), "bias": prod(out) if a.bias else 0}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(
            Window(k, s, d, p, transposed=True)
            for k, s, d, p in zip(a.kernel, a.stride, a.dilation, a.padding)
        )

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """Sizes by the transposed formula; MACs on the input grid (each input value times
        each tap of its C_out/g filters)."""
        steps = [step("C_out", "{out}", out[1], out=a.out)]
        for axis, name in enumerate(axis_names(len(out) - 2)):
            worked = explain_transposed_output_size(
                ins[0][2 + axis], a.kernel[axis], a.stride[axis], (a.padding[axis],) * 2,
                a.dilation[axis], a.output_padding[axis],
            )
            steps.append(Step(f"{name}_out", *worked))
        kernel, k = kernel_product(a.kernel)
        inputs, i = shape_product(ins[0], "_in")
        positions, o = shape_product(out, "_out")
        writes = per_group("C_out", a.groups)
        numbers = {**k, **i, "C_out": a.out, "g": a.groups}
        macs = self.macs(a, ins, out)
        return [
            *steps,
            step("params", f"{{C_in}}·{writes}·{kernel}" + (" + {C_out}" if a.bias else ""),
                 self.params(a, ins, out).params, **numbers),
            step("MACs", f"{inputs}·{writes}·{kernel}", macs, **numbers),
            step("FLOPs", "2·{MACs}" + (f" + {positions}" if a.bias else ""),
                 sum(self.flops(a, ins, out).values()), MACs=macs, **o),
        ]

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        return Saved(inputs=(0,))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[
            self.spatial_dims or 2
        ]
        return cls(
            ins[0][1], a.out, a.kernel, a.stride, a.padding, a.output_padding,
            a.groups, a.bias, a.dilation,
        )


@register
class ConvTranspose1d(ConvTransposeNd):
    name = "conv_transpose1d"
    summary = "1-D transposed convolution ('deconvolution')"
    spatial_dims = 1


@register
class ConvTranspose2d(ConvTransposeNd):
    name = "conv_transpose2d"
    aliases = ("deconv2d",)
    summary = "2-D transposed convolution ('deconvolution')"
    spatial_dims = 2


@register
class ConvTranspose3d(ConvTransposeNd):
    name = "conv_transpose3d"
    summary = "3-D transposed convolution"
    spatial_dims = 3


class LocallyConnectedNd(ConvNd):
    """Like a convolution, but every output position has its own filter (no weight sharing)."""

    attrs = tuple(a for a in _common_attrs("zeros on both sides") if a.name != "groups")
    formulas = {
        "output size": "as conv",
        "params": "prod(out_spatial) * out * in * prod(kernel) + (out * prod(out_spatial) if bias)",
        "macs": "N * out * prod(out_spatial) * in * prod(kernel)",
        "flops": "conv: 2*macs; bias: N * out * prod(out_spatial)",
    }

    def check(self, a: Attrs) -> None:
        if a.padding in ("same",) and any(s > 1 for s in a.stride):
            raise SpecError("padding `same` needs stride 1 for a locally connected layer")

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        return super().shape(Attrs({**a, "groups": 1, "padding_mode": "zeros"}), ins)

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        positions = prod(out[2:])
        weights = positions * a.out * ins[0][1] * prod(a.kernel)
        return Params(weights + (a.out * positions if a.bias else 0))

    def macs(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> int:
        return prod(out) * ins[0][1] * prod(a.kernel)

    def count_steps(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """A filter (and a bias) per output position and channel."""
        kernel, k = kernel_product(a.kernel)
        grid, g = product("", [f"{name}_out" for name in axis_names(len(out) - 2)], out[2:])
        positions, o = shape_product(out, "_out")
        numbers = {**k, **g, **o, "C_in": ins[0][1]}
        macs = self.macs(a, ins, out)
        return [
            step("params", f"{grid}·{{C_out}}·{{C_in}}·{kernel}" + (f" + {{C_out}}·{grid}" if a.bias else ""),
                 self.params(a, ins, out).params, **numbers),
            step("MACs", f"{positions}·{{C_in}}·{kernel}", macs, **numbers),
            step("FLOPs", "2·{MACs}" + (f" + {positions}" if a.bias else ""),
                 sum(self.flops(a, ins, out).values()), MACs=macs, **o),
        ]

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The unfolded windows, N * C*prod(kernel) * output positions; torch's im2col resizes a
        tensor shaped like its (padded) input, so the storage is never smaller than that."""
        n, channels = ins[0][:2]
        cols = n * channels * prod(a.kernel) * prod(out[2:])
        return Saved(extra=((max(cols, padded_numel(ins[0], self.padding(a, ins))), "act"),))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import LocallyConnected

        return LocallyConnected(ins[0], out, a.kernel, a.stride, a.dilation,
                                self.padding(a, ins), a.bias)


@register
class LocallyConnected1d(LocallyConnectedNd):
    name = "locally_connected1d"
    summary = "1-D locally connected layer (unshared convolution)"
    spatial_dims = 1


@register
class LocallyConnected2d(LocallyConnectedNd):
    name = "locally_connected2d"
    summary = "2-D locally connected layer (unshared convolution, DeepFace)"
    spatial_dims = 2


@register
class PartialConv2d(ConvNd):
    """A 2-D convolution whose output channel j reads only the input channels listed in row j
    of a connection table (LeNet-5's C3: 16 maps over subsets of S2's 6 maps, 1,516 params)."""

    name = "partial_conv2d"
    summary = "2-D convolution with a connection table (LeNet-5's partially connected C3)"
    spatial_dims = 2
    attrs = (
        *(a for a in ConvNd.attrs if a.name not in ("groups", "padding_mode")),
        Attr("connections", IntTable(), doc="per output channel, the input channels it reads"),
    )
    formulas = {
        "output size": "as conv",
        "params": "sum(len(row)) * prod(kernel) + (out if bias)",
        "macs": "N * prod(out_spatial) * sum(len(row)) * prod(kernel)",
        "flops": "conv: 2*macs; bias: N * out * prod(out_spatial)",
    }

    def check(self, a: Attrs) -> None:
        if len(a.connections) != a.out:
            raise SpecError(
                f"`connections` has {len(a.connections)} rows but `out` is {a.out}",
                hint="give one row (the input channels it reads) per output channel",
            )
        for j, row in enumerate(a.connections):
            if len(set(row)) != len(row) or min(row) < 0:
                raise SpecError(f"`connections` row {j} lists {list(row)}: channels must be distinct and >= 0")

    def full(self, a: Attrs) -> Attrs:
        return Attrs({**a, "groups": 1, "padding_mode": "zeros"})

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        channels = ins[0][1]
        for j, row in enumerate(a.connections):
            if max(row) >= channels:
                raise ShapeError(
                    f"`connections` row {j} reads channel {max(row)}, but the input has {channels} channels"
                )
        return super().shape(self.full(a), ins)

    def links(self, a: Attrs) -> int:
        return sum(len(row) for row in a.connections)

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        return Params(self.links(a) * prod(a.kernel) + (a.out if a.bias else 0))

    def macs(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> int:
        return out[0] * prod(out[2:]) * self.links(a) * prod(a.kernel)

    def count_steps(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """`links`: the connection table's entries (input maps read, summed over the outputs)."""
        kernel, k = kernel_product(a.kernel)
        grid, g = product("", [f"{name}_out" for name in axis_names(len(out) - 2)], out[2:])
        positions, o = shape_product(out, "_out")
        numbers = {**k, **g, "N": out[0], "links": self.links(a), "C_out": a.out}
        macs = self.macs(a, ins, out)
        return [
            step("params", f"{{links}}·{kernel}" + (" + {C_out}" if a.bias else ""),
                 self.params(a, ins, out).params, **numbers),
            step("MACs", f"{{N}}·{grid}·{{links}}·{kernel}", macs, **numbers),
            step("FLOPs", "2·{MACs}" + (f" + {positions}" if a.bias else ""),
                 sum(self.flops(a, ins, out).values()), MACs=macs, **o),
        ]

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """Per row, the gathered input channels (padded first when the padding is asymmetric)
        and, for the input's gradient, the int64 index that gathered them."""
        pads = self.padding(a, ins)
        if all(b == e for b, e in pads):
            pads = tuple((0, 0) for _ in pads)
        n, _, *size = ins[0]
        extra = []
        for row in a.connections:
            extra += [(padded_numel((n, len(row), *size), pads), "act")]
            extra += [(len(row), "int64")] if grads[0] else []
        return Saved(extra=tuple(extra))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import PartialConv

        return PartialConv(self.full(a), self.padding(a, ins))


@register
class DeformConv2d(ConvNd):
    """Deformable convolution v1 with its own offset-predicting convolution (same window,
    2*offset_groups*kh*kw output channels, with bias). Each tap is sampled bilinearly."""

    name = "deform_conv2d"
    field_from_data = True
    summary = "2-D deformable convolution (includes its offset convolution)"
    spatial_dims = 2
    attrs = (
        *_common_attrs("zeros on both sides"),
        Attr("offset_groups", Int(minimum=1), 1, "groups of channels sharing one offset field"),
    )
    formulas = {
        "output size": "as conv",
        "params": "conv params + offset conv params (2*offset_groups*prod(kernel) channels)",
        "macs": "conv macs + offset conv macs",
        "flops": "conv: 2*macs; bias; other: 7 per bilinear sample (N*in*prod(kernel)*positions)",
    }

    def count_steps(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """Not derived: the offset convolution and the bilinear sampling are summed in by the
        rules below (`cnncalc calc` shows their values with the documented formulas)."""
        return []

    def _offset(self, a: Attrs, ins: Sequence[Shape]) -> Attrs:
        channels = 2 * a.offset_groups * prod(a.kernel)
        return Attrs({**a, "out": channels, "groups": 1, "bias": True})

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        check_groups(self, ins[0][1], ins[0][1], a.offset_groups)
        return super().shape(Attrs({**a, "padding_mode": "zeros"}), ins)

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        offset = super().params(self._offset(a, ins), ins, out).params
        return Params(super().params(a, ins, out).params + offset)

    def macs(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> int:
        offset_out = (out[0], 2 * a.offset_groups * prod(a.kernel), *out[2:])
        return super().macs(a, ins, out) + super().macs(self._offset(a, ins), ins, offset_out)

    def backward_flops(self, a: Attrs, ins: Sequence[Shape], out: Shape,
                       grads: Sequence[bool], weights: bool) -> dict[str, int]:
        """As a convolution, except that the sampled taps need a gradient whenever the offsets
        train: the main product's grad-input is computed even for a first layer."""
        parts = super().backward_flops(a, ins, out, grads, weights)
        if weights and not grads[0]:
            parts["grad_input"] = 2 * super().macs(a, ins, out)
        return parts

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        offset_out = (out[0], 2 * a.offset_groups * prod(a.kernel), *out[2:])
        samples = out[0] * ins[0][1] * prod(a.kernel) * prod(out[2:])
        return {
            "conv": 2 * self.macs(a, ins, out),
            "bias": (prod(out) if a.bias else 0) + prod(offset_out),
            "other": 7 * samples,
        }

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The padded input (read by the offset convolution), the input and the sampling grid
        (read by the bilinear sampler), and the sampled taps [N, C, Ho*kh, Wo*kw]."""
        n, channels = ins[0][:2]
        taps = prod(a.kernel) * prod(out[2:])
        return Saved(inputs=(0,), extra=(
            (padded_numel(ins[0], self.padding(a, ins)), "act"),
            (n * a.offset_groups * taps * 2, "act"),
            (n * channels * taps, "act"),
        ))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import DeformConv2d as Module

        return Module(ins[0][1], a, self.padding(a, ins))
