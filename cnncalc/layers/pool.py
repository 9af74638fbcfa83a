"""Pooling: max, average and LP over sliding windows; adaptive and global; RoI; across channels.

Counting rules (FLOPs, category "pool"; pooling has no MACs):
- max pooling: k-1 comparisons per output element (k = prod(kernel));
- average pooling: k per output element (k-1 adds and one divide);
- LP pooling: 2k per output element (k powers, k-1 adds, one root);
- adaptive pools: the same rules with each window's exact size;
- global pools: the adaptive rules with one window covering every spatial position.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import prod
from typing import Any

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers.base import (
    AUTOCAST_FLOAT32_ON_CPU,
    NOTHING_SAVED,
    Attr,
    Attrs,
    Bool,
    Float,
    Int,
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
    register,
    shape_product,
    spatial,
    step,
)
from cnncalc.window import adaptive_window, conv_output_size, explain_output_size, resolve_padding


def strides(a: Attrs) -> tuple[int, ...]:
    """The stride per axis: the kernel where `stride` is null (PyTorch's default)."""
    return tuple(a.kernel if a.stride is None else a.stride)


def check_half_kernel(kind: LayerKind, kernel: tuple[int, ...], pads: tuple[tuple[int, int], ...],
                      hint: str | None = None) -> None:
    """PyTorch pools need symmetric padding <= kernel // 2 on every axis."""
    for k, (begin, end) in zip(kernel, pads, strict=True):
        if begin == end and begin > k // 2:
            raise SpecError(
                f"{kind.name} padding {begin} must be at most half the kernel {k} (at most {k // 2})",
                hint=hint,
            )


def pool_size_steps(a: Attrs, ins: Sequence[Shape], out: Shape, pads: Sequence[tuple[int, int]],
                    dilation: Sequence[int], ceil_mode: bool = False) -> list[Step]:
    """Each spatial axis of a pooling window by window.explain_output_size (channels kept)."""
    steps = []
    for axis, name in enumerate(axis_names(len(out) - 2)):
        worked = explain_output_size(ins[0][2 + axis], a.kernel[axis], strides(a)[axis], pads[axis],
                                     dilation[axis], ceil_mode)
        note = joined("stride = kernel (the default)" if a.stride is None else "",
                      padding_note(a.get("padding"), pads[axis]), worked.note)
        steps.append(Step(f"{name}_out", *worked[:3], note))
    return steps


def _torch_cls(prefix: str, dims: int | None) -> Any:
    import torch.nn as nn

    return getattr(nn, f"{prefix}{dims}d")


class PoolNd(LayerKind):
    """Max or average pooling over a sliding window (`op` is "max" or "avg")."""

    family = "pool"
    op = "max"

    def check(self, a: Attrs) -> None:
        check_half_kernel(self, a.kernel, tuple((p, p) for p in a.padding))

    def pads(self, a: Attrs, ins: Sequence[Shape]) -> tuple[tuple[int, int], ...]:
        return tuple((p, p) for p in a.padding)

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_rank(self, x, 2 + (self.spatial_dims or 0))
        dilation = a.get("dilation", (1,) * len(a.kernel))
        sizes = (
            conv_output_size(n, k, s, p, d, a.ceil_mode)
            for n, k, s, p, d in zip(spatial(x), a.kernel, strides(a), self.pads(a, ins), dilation, strict=True)
        )
        return (x[0], x[1], *sizes)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        k = prod(a.kernel)
        per_output = k - 1 if self.op == "max" else k
        return {"pool": per_output * prod(out)}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        dilation = a.get("dilation", (1,) * len(a.kernel))
        return tuple(
            Window(k, s, d, p[0])
            for k, s, d, p in zip(a.kernel, strides(a), dilation, self.pads(a, ins), strict=True)
        )

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        dilation = a.get("dilation", (1,) * len(a.kernel))
        steps = pool_size_steps(a, ins, out, self.pads(a, ins), dilation, a.ceil_mode)
        kernel, k = kernel_product(a.kernel)
        positions, o = shape_product(out, "_out", channel="C")
        per_output = {"max": f"({kernel} − 1)", "avg": kernel, "lp": f"2·{kernel}"}[self.op]
        flops = sum(self.flops(a, ins, out).values())
        return [*steps, step("FLOPs", f"{per_output}·{positions}", flops, **k, **o)]


class MaxPoolNd(PoolNd):
    """Max pooling; besides torch's symmetric padding (at most half the kernel) it takes
    asymmetric `[[begin, end], ...]` and TensorFlow's `same` (-inf padding, the odd one at the end)."""

    op = "max"
    attrs = (
        Attr("kernel", PerAxis(), doc="window size per spatial axis"),
        Attr("stride", PerAxis(optional=True), None, "step between windows (null: the kernel)"),
        Attr("padding", Padding(), 0, "implicit -inf padding: p, per axis, [[begin, end], ...], same or valid"),
        Attr("dilation", PerAxis(), 1, "spacing between window taps"),
        Attr("ceil_mode", Bool(), False, "round the output size up"),
    )
    formulas = {
        "output size": "floor_or_ceil((n + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride) + 1; "
                       "same: ceil(n / stride)",
        "flops": "pool: (prod(kernel) - 1) comparisons per output element",
    }

    def check(self, a: Attrs) -> None:
        if not isinstance(a.padding, str):
            check_half_kernel(
                self, a.kernel, a.padding,
                hint="torch pads at most half a window on each side; asymmetric [[begin, end]] "
                     "padding and `same` are applied as an explicit -inf pad instead",
            )

    def pads(self, a: Attrs, ins: Sequence[Shape]) -> tuple[tuple[int, int], ...]:
        return resolve_padding(a.padding, spatial(ins[0]), a.kernel, strides(a), a.dilation)

    def explicit_pads(self, a: Attrs, ins: Sequence[Shape]) -> tuple[tuple[int, int], ...] | None:
        """The padding torch's pool cannot do itself (asymmetric, or over half the kernel),
        applied as an explicit -inf pad in front of it; None when the pool pads itself."""
        pads = self.pads(a, ins)
        return None if all(b == e and b <= k // 2 for (b, e), k in zip(pads, a.kernel)) else pads

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input (or its explicitly padded copy) and the argmax of every window (int64)."""
        pads = self.explicit_pads(a, ins)
        if pads is None:
            return Saved(inputs=(0,), extra=((prod(out), "int64"),))
        windows = [conv_output_size(n + b + e, k, s, (0, 0), d, a.ceil_mode)
                   for n, (b, e), k, s, d in zip(spatial(ins[0]), pads, a.kernel, strides(a), a.dilation)]
        return Saved(extra=((padded_numel(ins[0], pads), "act"), (prod(out[:2]) * prod(windows), "int64")))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        cls = _torch_cls("MaxPool", self.spatial_dims)
        pads = self.explicit_pads(a, ins)
        if pads is None:
            pads = self.pads(a, ins)
            return cls(a.kernel, strides(a), tuple(b for b, _ in pads), a.dilation, ceil_mode=a.ceil_mode)
        from cnncalc.torch_backend.modules import Padded

        inner = cls(a.kernel, strides(a), 0, a.dilation, ceil_mode=a.ceil_mode)
        return Padded(pads, "constant", inner, value=float("-inf"), keep=tuple(out[2:]))


class AvgPoolNd(PoolNd):
    op = "avg"
    attrs = (
        Attr("kernel", PerAxis(), doc="window size per spatial axis"),
        Attr("stride", PerAxis(optional=True), None, "step between windows (null: the kernel)"),
        Attr("padding", PerAxis(minimum=0), 0, "implicit zero padding on both sides"),
        Attr("ceil_mode", Bool(), False, "round the output size up"),
        Attr("count_include_pad", Bool(), True, "divide by the full window, padding included"),
    )
    formulas = {
        "output size": "floor_or_ceil((n + 2*padding - kernel) / stride) + 1",
        "flops": "pool: prod(kernel) per output element (k-1 adds + 1 divide)",
    }

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        return Saved(inputs=(0,))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        cls = _torch_cls("AvgPool", self.spatial_dims)
        return cls(a.kernel, strides(a), a.padding, a.ceil_mode, a.count_include_pad)


@register
class Subsampling2d(LayerKind):
    """LeNet-5's subsampling layers S2 and S4: each output is the sum of its window times a
    trainable coefficient per channel, plus a trainable bias per channel."""

    name = "subsampling2d"
    family = "pool"
    summary = "LeNet-5 subsampling: window sum * trainable coefficient + bias, per channel"
    spatial_dims = 2
    attrs = (
        Attr("kernel", PerAxis(), doc="window size per spatial axis"),
        Attr("stride", PerAxis(optional=True), None, "step between windows (null: the kernel)"),
    )
    formulas = {
        "output size": "floor((n - kernel) / stride) + 1",
        "params": "2 * channels (coefficient and bias)",
        "flops": "pool: prod(kernel) per output element (k-1 adds + 1 multiply); bias: 1 per output element",
    }

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_rank(self, x, 4)
        sizes = (conv_output_size(n, k, s, (0, 0)) for n, k, s in zip(spatial(x), a.kernel, strides(a), strict=True))
        return (x[0], x[1], *sizes)

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        return Params(2 * ins[0][1])

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"pool": prod(a.kernel) * prod(out), "bias": prod(out)}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        kernel, k = kernel_product(a.kernel)
        positions, o = shape_product(out, "_out", channel="C")
        return [
            *pool_size_steps(a, ins, out, ((0, 0),) * len(a.kernel), (1,) * len(a.kernel)),
            step("params", "2·{C}", self.params(a, ins, out).params, C=ins[0][1]),
            step("FLOPs", f"{kernel}·{positions} + {positions}", sum(self.flops(a, ins, out).values()),
                 **k, **o),
        ]

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(Window(k, s) for k, s in zip(a.kernel, strides(a), strict=True))

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input (average pool, for the input's gradient) and the window sums (for the
        coefficient's)."""
        return Saved(inputs=(0,) if grads[0] else (), extra=((prod(out), "act"),))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Subsampling

        return Subsampling(ins[0][1], a.kernel, strides(a))


@register
class MaxPool1d(MaxPoolNd):
    name = "maxpool1d"
    summary = "1-D max pooling over [N, C, L]"
    spatial_dims = 1


@register
class MaxPool2d(MaxPoolNd):
    name = "maxpool2d"
    aliases = ("maxpool",)
    summary = "2-D max pooling over [N, C, H, W]"
    spatial_dims = 2


@register
class MaxPool3d(MaxPoolNd):
    autocast = AUTOCAST_FLOAT32_ON_CPU
    name = "maxpool3d"
    summary = "3-D max pooling over [N, C, D, H, W]"
    spatial_dims = 3


@register
class AvgPool1d(AvgPoolNd):
    name = "avgpool1d"
    summary = "1-D average pooling over [N, C, L]"
    spatial_dims = 1


@register
class AvgPool2d(AvgPoolNd):
    name = "avgpool2d"
    aliases = ("avgpool",)
    summary = "2-D average pooling over [N, C, H, W]"
    spatial_dims = 2


@register
class AvgPool3d(AvgPoolNd):
    autocast = AUTOCAST_FLOAT32_ON_CPU
    name = "avgpool3d"
    summary = "3-D average pooling over [N, C, D, H, W]"
    spatial_dims = 3


class LPPoolNd(PoolNd):
    """Power-average pooling: (sum x^p)^(1/p) over each window, no padding."""

    op = "lp"
    attrs = (
        Attr("norm_type", Float(), 2.0, "the power p"),
        Attr("kernel", PerAxis(), doc="window size per spatial axis"),
        Attr("stride", PerAxis(optional=True), None, "step between windows (null: the kernel)"),
        Attr("ceil_mode", Bool(), False, "round the output size up"),
    )
    formulas = {
        "output size": "floor_or_ceil((n - kernel) / stride) + 1",
        "flops": "pool: 2*prod(kernel) per output element (k powers, k-1 adds, 1 root)",
    }

    def check(self, a: Attrs) -> None:
        if a.norm_type <= 0:
            raise SpecError(f"norm_type must be positive, found {a.norm_type}")

    def pads(self, a: Attrs, ins: Sequence[Shape]) -> tuple[tuple[int, int], ...]:
        return tuple((0, 0) for _ in a.kernel)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"pool": 2 * prod(a.kernel) * prod(out)}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(Window(k, s) for k, s in zip(a.kernel, strides(a), strict=True))

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """torch's composite (x^p, average pool, sign * relu, * kernel, ^(1/p)): the input, x^p,
        and four output-sized intermediates."""
        return Saved(inputs=(0,), extra=((prod(ins[0]), "act"),) + ((prod(out), "act"),) * 4)

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        cls = _torch_cls("LPPool", self.spatial_dims)
        kernel: Any = a.kernel
        stride: Any = strides(a)
        if self.spatial_dims == 1:  # LPPool1d multiplies by the kernel size: it needs an int
            kernel, stride = kernel[0], stride[0]
        return cls(a.norm_type, kernel, stride, a.ceil_mode)


@register
class LPPool1d(LPPoolNd):
    name = "lppool1d"
    summary = "1-D power-average pooling"
    spatial_dims = 1


@register
class LPPool2d(LPPoolNd):
    name = "lppool2d"
    summary = "2-D power-average pooling"
    spatial_dims = 2


@register
class LPPool3d(LPPoolNd):
    name = "lppool3d"
    summary = "3-D power-average pooling"
    spatial_dims = 3


def window_lengths(size: int, out: int) -> list[int]:
    """The length of every adaptive window along one axis."""
    lengths = []
    for index in range(out):
        start, end = adaptive_window(size, out, index)
        lengths.append(end - start)
    return lengths


def adaptive_axis_window(size: int, out: int) -> Window:
    """Exact window when `out` divides `size`, else (largest window, stride size/out)."""
    if size % out == 0:
        return Window(size // out, size // out)
    return Window(max(window_lengths(size, out)), Fraction(size, out))


class AdaptivePoolNd(LayerKind):
    """Pooling to a fixed output size; window i spans [floor(i*n/out), ceil((i+1)*n/out))."""

    family = "pool"
    op = "avg"
    attrs = (Attr("output_size", PerAxis(), doc="output size per spatial axis"),)

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_rank(self, x, 2 + (self.spatial_dims or 0))
        return (x[0], x[1], *a.output_size)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        # sum over windows of prod(lengths) = prod over axes of sum(lengths)
        reads = prod(sum(window_lengths(n, o)) for n, o in zip(spatial(ins[0]), out[2:], strict=True))
        per_plane = reads - prod(out[2:]) if self.op == "max" else reads
        return {"pool": out[0] * out[1] * per_plane}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(adaptive_axis_window(n, o) for n, o in zip(spatial(ins[0]), out[2:], strict=True))

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """Max: the input and the argmax (int64). Average: the input, except that an output of
        size 1 is a mean, whose backward needs only the shape."""
        if self.op == "max":
            return Saved(inputs=(0,), extra=((prod(out), "int64"),))
        return NOTHING_SAVED if all(n == 1 for n in out[2:]) else Saved(inputs=(0,))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        prefix = "AdaptiveMaxPool" if self.op == "max" else "AdaptiveAvgPool"
        return _torch_cls(prefix, self.spatial_dims)(a.output_size)


_AVG = {
    "output size": "output_size",
    "window": "[floor(i*n/out), ceil((i+1)*n/out)) along each axis",
    "flops": "pool: window size per output element (adds + divide)",
}
_MAX = {**_AVG, "flops": "pool: window size - 1 comparisons per output element"}


@register
class AdaptiveAvgPool1d(AdaptivePoolNd):
    name = "adaptive_avgpool1d"
    summary = "1-D adaptive average pooling to a fixed output size"
    spatial_dims = 1
    formulas = _AVG


@register
class AdaptiveAvgPool2d(AdaptivePoolNd):
    name = "adaptive_avgpool2d"
    aliases = ("adaptive_avgpool",)
    summary = "2-D adaptive average pooling to a fixed output size"
    spatial_dims = 2
    formulas = _AVG


@register
class AdaptiveAvgPool3d(AdaptivePoolNd):
    name = "adaptive_avgpool3d"
    summary = "3-D adaptive average pooling to a fixed output size"
    spatial_dims = 3
    autocast = AUTOCAST_FLOAT32_ON_CPU
    formulas = _AVG


@register
class AdaptiveMaxPool1d(AdaptivePoolNd):
    name = "adaptive_maxpool1d"
    summary = "1-D adaptive max pooling to a fixed output size"
    spatial_dims = 1
    op = "max"
    formulas = _MAX


@register
class AdaptiveMaxPool2d(AdaptivePoolNd):
    name = "adaptive_maxpool2d"
    aliases = ("adaptive_maxpool",)
    summary = "2-D adaptive max pooling to a fixed output size"
    spatial_dims = 2
    op = "max"
    formulas = _MAX


@register
class AdaptiveMaxPool3d(AdaptivePoolNd):
    name = "adaptive_maxpool3d"
    summary = "3-D adaptive max pooling to a fixed output size"
    spatial_dims = 3
    autocast = AUTOCAST_FLOAT32_ON_CPU
    op = "max"
    formulas = _MAX


class GlobalPool(LayerKind):
    """Pooling over every spatial position, keeping the spatial axes as 1s: [N, C, 1, 1]."""

    family = "pool"
    op = "avg"

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if len(x) < 3:
            raise ShapeError(
                f"{self.name} needs spatial axes [N, C, ...], found shape {list(x)}"
            )
        return (x[0], x[1], *(1 for _ in spatial(x)))

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        k = prod(spatial(ins[0]))
        return {"pool": out[0] * out[1] * (k - 1 if self.op == "max" else k)}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(Window(n, n) for n in spatial(ins[0]))

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """Max (amax) keeps its input and output; the mean nothing."""
        return Saved(inputs=(0,), output=True) if self.op == "max" else NOTHING_SAVED

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import GlobalPool as Module

        return Module(self.op)


@register
class GlobalAvgPool(GlobalPool):
    name = "global_avgpool"
    summary = "average over all spatial positions, keeping [N, C, 1, ...]"
    op = "avg"
    formulas = {"output size": "1 per spatial axis", "flops": "pool: N*C*prod(spatial)"}


@register
class GlobalMaxPool(GlobalPool):
    name = "global_maxpool"
    summary = "maximum over all spatial positions, keeping [N, C, 1, ...]"
    op = "max"
    formulas = {"output size": "1 per spatial axis", "flops": "pool: N*C*(prod(spatial) - 1)"}


def even_boxes(height: int, width: int, count: int) -> list[tuple[int, int, int, int]]:
    """`count` boxes (x1, y1, x2, y2, inclusive) of half the map, spread along its diagonal."""
    box_h, box_w = max(1, (height + 1) // 2), max(1, (width + 1) // 2)
    boxes = []
    for r in range(count):
        t = r / (count - 1) if count > 1 else 0.5
        y, x = round(t * (height - box_h)), round(t * (width - box_w))
        boxes.append((x, y, x + box_w - 1, y + box_h - 1))
    return boxes



@register
class RoIPool(LayerKind):
    """Fast R-CNN RoI max pooling: each of R boxes per image is max-pooled to a TxT grid.

    The boxes are data: the analytic FLOPs assume each box covers the whole feature map
    (an upper bound). The torch module uses R fixed boxes spread evenly over the map.
    """

    name = "roi_pool"
    field_from_data = True
    family = "pool"
    summary = "RoI max pooling of R boxes per image to a fixed TxT grid (Fast R-CNN)"
    spatial_dims = 2
    attrs = (
        Attr("output_size", Int(minimum=1), doc="T: the output grid is T x T"),
        Attr("rois", Int(minimum=1), 1, "R: regions of interest per image"),
        Attr("spatial_scale", Float(), 1.0, "feature-map size / image size"),
    )
    formulas = {
        "output shape": "[N*R, C, T, T]",
        "flops": "pool: (ceil(H/T)*ceil(W/T) - 1) per output element (box = whole map, bound)",
    }

    def check(self, a: Attrs) -> None:
        if a.spatial_scale <= 0:
            raise SpecError(f"spatial_scale must be positive, found {a.spatial_scale}")

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        expect_rank(self, x, 4)
        return (x[0] * a.rois, x[1], a.output_size, a.output_size)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        t = a.output_size
        k = prod(-(-n // t) for n in spatial(ins[0]))
        return {"pool": (k - 1) * prod(out)}

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> None:
        return None

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input and the argmax of every bin (int64)."""
        return Saved(inputs=(0,), extra=((prod(out), "int64"),))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import RoIPool as Module

        return Module(a.output_size, a.rois, a.spatial_scale)


@register
class ChannelMaxPool(LayerKind):
    """Maxout: the maximum over each run of `pieces` consecutive channels."""

    name = "channel_maxpool"
    aliases = ("maxout",)
    family = "pool"
    summary = "max pooling across channels (maxout): C -> C/pieces"
    attrs = (Attr("pieces", Int(minimum=1), doc="k: channels pooled into one"),)
    formulas = {
        "output shape": "[N, C/k, *spatial]",
        "flops": "pool: (k - 1) comparisons per output element",
    }

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if len(x) < 2:
            raise ShapeError(f"{self.name} needs a channel axis, found shape {list(x)}")
        if x[1] % a.pieces:
            raise ShapeError(
                f"pieces must divide channels, but {a.pieces} does not divide {x[1]}"
            )
        return (x[0], x[1] // a.pieces, *spatial(x))

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"pool": (a.pieces - 1) * prod(out)}

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """amax over the pieces: the input and the output."""
        return Saved(inputs=(0,), output=True)

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import ChannelMaxPool as Module

        return Module(a.pieces)
