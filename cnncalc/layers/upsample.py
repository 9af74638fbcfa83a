"""Upsampling: interpolation, bed of nails, max unpooling, pixel shuffle and space-to-depth.

Counting rule (FLOPs, category "upsample"): interpolation costs, per output element, one
multiply per tap and one add fewer than the taps (UPSAMPLE_FLOPS); pure data movement (nearest,
bed of nails, unpooling, pixel shuffle, space/depth) costs 0. Upsampling has no MACs.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import prod
from typing import Any, TypeVar

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers.base import (
    AUTOCAST_FLOAT32_ON_CPU,
    IDENTITY,
    NOTHING_SAVED,
    Attr,
    Attrs,
    Bool,
    Choice,
    Int,
    LayerKind,
    Name,
    PerAxis,
    Saved,
    Shape,
    Step,
    Window,
    axis_names,
    expect_rank,
    register,
    shape_product,
    spatial,
    step,
)
from cnncalc.layers.pool import check_half_kernel, strides
from cnncalc.window import explain_transposed_output_size, transposed_output_size

T = TypeVar("T")

#: FLOPs per output element: taps multiplies + (taps - 1) adds (2, 4, 8 or 16 taps).
UPSAMPLE_FLOPS = {"nearest": 0, "linear": 3, "bilinear": 7, "trilinear": 15, "bicubic": 31}
#: the input rank each interpolating mode needs (nearest takes 3-d to 5-d)
_MODE_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
#: input taps per axis of each mode
_MODE_TAPS = {"nearest": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}


def per_axis(kind: LayerKind, attr: str, values: tuple[T, ...], shape: Shape) -> tuple[T, ...]:
    """Per-axis values of a kind of any rank: one value applies to every spatial axis."""
    axes = len(shape) - 2
    if len(values) == 1:
        return values * axes
    if len(values) != axes:
        raise ShapeError(
            f"{kind.name} `{attr}` has {len(values)} values but the input {list(shape)} "
            f"has {axes} spatial axes"
        )
    return values


def scale_steps(ins: Sequence[Shape], out: Shape, scales: Sequence[int] | None) -> list[Step]:
    """Each spatial axis as n·r, or the requested size when there is no scale."""
    steps = []
    for axis, name in enumerate(axis_names(len(out) - 2)):
        if scales is None:
            steps.append(step(f"{name}_out", "{size}", out[2 + axis], size=out[2 + axis]))
        else:
            numbers = {name: ins[0][2 + axis], f"r_{name.lower()}": scales[axis]}
            steps.append(step(f"{name}_out", f"{{{name}}}·{{r_{name.lower()}}}", out[2 + axis], **numbers))
    return steps


def expect_spatial(kind: LayerKind, shape: Shape) -> None:
    if not 3 <= len(shape) <= 5:
        raise ShapeError(
            f"{kind.name} expects a 3-d to 5-d input [N, C, *spatial], found shape {list(shape)}"
        )


def interpolation_window(mode: str, size: int, out: int) -> Window:
    """Transposed window (r, r) for nearest by an integer r, (2r, r, pad r//2) for linear modes,
    (4r, r, pad r + r//2) for bicubic; a forward window of the mode's taps otherwise."""
    ratio = Fraction(out, size)
    if ratio == 1:
        return IDENTITY
    taps = _MODE_TAPS[mode]
    if ratio.denominator == 1:
        r = int(ratio)
        pad = 0 if taps == 1 else r // 2 + (r if taps == 4 else 0)
        return Window(taps * r, r, 1, pad, transposed=True)
    stride = Fraction(size, out)
    return Window(taps, stride if stride.denominator > 1 else int(stride), 1, taps // 4)


@register
class Upsample(LayerKind):
    name = "upsample"
    family = "upsample"
    summary = "interpolation by an integer scale or to a size (nearest, bilinear, ...)"
    attrs = (
        Attr("mode", Choice(*UPSAMPLE_FLOPS), "nearest", "interpolation"),
        Attr("scale", PerAxis(optional=True), None, "integer factor, one or per spatial axis"),
        Attr("size", PerAxis(optional=True), None, "output size, one or per spatial axis"),
        Attr("align_corners", Bool(), False, "align the corner pixels (interpolating modes)"),
    )
    formulas = {
        "output size": "n * scale, or size",
        "flops": "upsample per output element: nearest 0, linear 3, bilinear 7 (4 mul + 3 add), "
                 "trilinear 15, bicubic 31",
    }

    def check(self, a: Attrs) -> None:
        if (a.scale is None) == (a.size is None):
            raise SpecError("upsample needs exactly one of `scale` and `size`")
        if a.align_corners and a.mode == "nearest":
            raise SpecError("align_corners needs an interpolating mode, not nearest")

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        rank = _MODE_RANK.get(a.mode)
        if rank is not None and len(x) != rank:
            raise ShapeError(
                f"upsample mode {a.mode} expects a {rank}-d input, found shape {list(x)}"
            )
        expect_spatial(self, x)
        if a.size is not None:
            return (x[0], x[1], *per_axis(self, "size", a.size, x))
        scales = per_axis(self, "scale", a.scale, x)
        return (x[0], x[1], *(n * r for n, r in zip(spatial(x), scales, strict=True)))

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"upsample": UPSAMPLE_FLOPS[a.mode] * prod(out)}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        scales = None if a.scale is None else per_axis(self, "scale", a.scale, ins[0])
        positions, o = shape_product(out, "_out", channel="C")
        taps = _MODE_TAPS[a.mode] ** (len(out) - 2)
        note = f"{a.mode}: {taps} multiplies + {taps - 1} adds per output element" if taps > 1 else "nearest: copies"
        flops = sum(self.flops(a, ins, out).values())
        return [*scale_steps(ins, out, scales),
                step("FLOPs", f"{UPSAMPLE_FLOPS[a.mode]}·{positions}", flops, note, **o)]

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(
            interpolation_window(a.mode, n, o) for n, o in zip(spatial(ins[0]), out[2:], strict=True)
        )

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        interpolating = a.mode != "nearest"
        if a.size is not None:
            return nn.Upsample(size=out[2:], mode=a.mode,
                               align_corners=a.align_corners if interpolating else None)
        scales = tuple(float(r) for r in per_axis(self, "scale", a.scale, ins[0]))
        return nn.Upsample(scale_factor=scales, mode=a.mode,
                           align_corners=a.align_corners if interpolating else None)


@register
class BedOfNails(LayerKind):
    name = "bed_of_nails"
    field_from_data = True  # units between the nails read nothing
    family = "upsample"
    summary = "each value at the top-left of its r x r block, zeros elsewhere"
    attrs = (Attr("scale", PerAxis(), 2, "integer factor, one or per spatial axis"),)
    formulas = {"output size": "n * scale", "flops": "upsample: 0 (data movement)"}

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_spatial(self, x)
        scales = per_axis(self, "scale", a.scale, x)
        return (x[0], x[1], *(n * r for n, r in zip(spatial(x), scales, strict=True)))

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"upsample": 0}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        return scale_steps(ins, out, per_axis(self, "scale", a.scale, ins[0]))

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        scales = per_axis(self, "scale", a.scale, ins[0])
        return tuple(Window(1, r, transposed=True) for r in scales)

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import BedOfNails as Module

        return Module(per_axis(self, "scale", a.scale, ins[0]))


class MaxUnpoolNd(LayerKind):
    """Scatter each value to the position its max pool took it from (the pool named by
    `indices`), zeros elsewhere."""

    autocast = AUTOCAST_FLOAT32_ON_CPU  # 1-d and 3-d too (torch's max_unpool1d is the 2-d op)

    family = "upsample"
    field_from_data = True
    attrs = (
        Attr("indices", Name(), doc="the max pool whose indices place the values"),
        Attr("kernel", PerAxis(), doc="window size of that pool"),
        Attr("stride", PerAxis(optional=True), None, "its stride (null: the kernel)"),
        Attr("padding", PerAxis(minimum=0), 0, "its padding"),
        Attr("output_size", PerAxis(optional=True), None,
             "the pool's input size, when pooling rounded down (default: the formula)"),
    )
    formulas = {
        "output size": "(n-1)*stride - 2*padding + kernel  (or output_size, up to stride-1 more)",
        "flops": "upsample: 0 (scatter)",
    }

    def check(self, a: Attrs) -> None:
        check_half_kernel(self, a.kernel, tuple((p, p) for p in a.padding))

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_rank(self, x, 2 + (self.spatial_dims or 0))
        sizes = [
            transposed_output_size(n, k, s, (p, p))
            for n, k, s, p in zip(spatial(x), a.kernel, strides(a), a.padding, strict=True)
        ]
        if a.output_size is not None:
            for n, size, wanted, s in zip(spatial(x), sizes, a.output_size, strides(a), strict=True):
                if not size <= wanted < size + s:
                    raise ShapeError(
                        f"output_size {wanted} must be between {size} and {size + s - 1} "
                        f"(the sizes this pool reduces to {n})"
                    )
            sizes = list(a.output_size)
        return (x[0], x[1], *sizes)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"upsample": 0}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """The pool's window run backwards (the transposed size), unless output_size is given."""
        steps = []
        for axis, name in enumerate(axis_names(len(out) - 2)):
            if a.output_size is not None:
                size = out[2 + axis]
                steps.append(step(f"{name}_out", "{output_size}", size, "given", output_size=size))
                continue
            worked = explain_transposed_output_size(
                ins[0][2 + axis], a.kernel[axis], strides(a)[axis], (a.padding[axis],) * 2
            )
            steps.append(Step(f"{name}_out", *worked))
        return steps

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(
            Window(k, s, 1, p, transposed=True)
            for k, s, p in zip(a.kernel, strides(a), a.padding, strict=True)
        )

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The pool's indices, which that pool keeps for its own backward anyway (so nothing
        new; a stand-alone unpooling without its pool would keep int64 indices of its input's
        size)."""
        return NOTHING_SAVED

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import MaxUnpool

        return MaxUnpool(a.kernel, strides(a), a.padding, out[2:])


@register
class MaxUnpool1d(MaxUnpoolNd):
    name = "max_unpool1d"
    summary = "1-D max unpooling with the indices of a named max pool"
    spatial_dims = 1


@register
class MaxUnpool2d(MaxUnpoolNd):
    name = "max_unpool2d"
    aliases = ("max_unpool",)
    summary = "2-D max unpooling with the indices of a named max pool (SegNet)"
    spatial_dims = 2


@register
class MaxUnpool3d(MaxUnpoolNd):
    name = "max_unpool3d"
    summary = "3-D max unpooling with the indices of a named max pool"
    spatial_dims = 3


class Rearrange(LayerKind):
    """Moves r x r spatial blocks into channels (`up` False) or back (`up` True)."""

    family = "upsample"
    spatial_dims = 2
    factor = "block"
    up = False

    def r(self, a: Attrs) -> int:
        return int(a[self.factor])

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_rank(self, x, 4)
        r = self.r(a)
        n, c, h, w = x
        if self.up:
            if c % (r * r):
                raise ShapeError(
                    f"{self.name} needs channels divisible by {self.factor}^2 = {r * r}, found {c}"
                )
            return (n, c // (r * r), h * r, w * r)
        for size in (h, w):
            if size % r:
                raise ShapeError(
                    f"{self.name} needs spatial sizes divisible by {self.factor} {r}, "
                    f"found {list(x[2:])}"
                )
        return (n, c * r * r, h // r, w // r)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"upsample": 0}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        r = self.r(a)
        return (Window(r, r, transposed=self.up),) * 2


_TO_DEPTH = {"output shape": "[N, C*r*r, H/r, W/r]", "flops": "upsample: 0 (data movement)"}
_TO_SPACE = {"output shape": "[N, C/(r*r), H*r, W*r]", "flops": "upsample: 0 (data movement)"}


@register
class PixelShuffle(Rearrange):
    name = "pixel_shuffle"
    summary = "channels to space: [N, C*r^2, H, W] -> [N, C, H*r, W*r] (sub-pixel conv)"
    attrs = (Attr("upscale", Int(minimum=1), doc="r"),)
    factor = "upscale"
    up = True
    formulas = _TO_SPACE

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return nn.PixelShuffle(a.upscale)


@register
class PixelUnshuffle(Rearrange):
    name = "pixel_unshuffle"
    summary = "space to channels: [N, C, H*r, W*r] -> [N, C*r^2, H, W]"
    attrs = (Attr("downscale", Int(minimum=1), doc="r"),)
    factor = "downscale"
    formulas = _TO_DEPTH

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return nn.PixelUnshuffle(a.downscale)


@register
class SpaceToDepth(Rearrange):
    name = "space_to_depth"
    summary = "TensorFlow's space_to_depth (block r; shapes as pixel_unshuffle)"
    attrs = (Attr("block", Int(minimum=1), doc="r"),)
    formulas = _TO_DEPTH

    def aliases_input(self, a: Attrs, ins: Sequence[Shape], training: bool) -> bool:
        """The reshape-permute-reshape is a view when the blocks are whole rows of one channel."""
        _, channels, _, width = ins[0]
        return a.block == 1 or (channels == 1 and width == a.block)

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import SpaceToDepth as Module

        return Module(a.block)


@register
class DepthToSpace(Rearrange):
    name = "depth_to_space"
    summary = "TensorFlow's depth_to_space (block r; shapes as pixel_shuffle)"
    attrs = (Attr("block", Int(minimum=1), doc="r"),)
    up = True
    formulas = _TO_SPACE

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import DepthToSpace as Module

        return Module(a.block)
