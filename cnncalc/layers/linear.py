"""Linear layers and shape plumbing: linear, flatten, reshape, permute, pad, center crop,
dropout and identity.

Counting rules: linear is the only kind here with MACs (in*out per position of the leading
axes, bias excluded; FLOPs "linear" 2*MACs and "bias" one add per output element). Everything
else moves or drops data and costs 0 FLOPs at inference (dropout is the identity then).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any, ClassVar

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers.base import (
    AUTOCAST_LOW,
    NOTHING_SAVED,
    Attr,
    Attrs,
    Bool,
    Choice,
    Evaluate,
    Float,
    Int,
    Ints,
    LayerKind,
    Padding,
    Params,
    PerAxis,
    Saved,
    Shape,
    Step,
    Window,
    register,
    spatial,
    step,
)
from cnncalc.layers.upsample import per_axis


@register
class Linear(LayerKind):
    """Fully connected over the last axis of an input of any rank."""

    name = "linear"
    aliases = ("dense", "fc")
    family = "linear"
    autocast = AUTOCAST_LOW
    summary = "fully connected layer over the last axis (any rank)"
    attrs = (
        Attr("out", Int(minimum=1), doc="output features"),
        Attr("bias", Bool(), True, "add a learned bias per output feature"),
    )
    formulas = {
        "output shape": "[*leading, out]",
        "params": "in*out + (out if bias)",
        "macs": "in * out * prod(leading axes, batch included)",
        "flops": "linear: 2*macs; bias: prod(output shape)",
    }

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if len(x) < 2:
            raise ShapeError(f"{self.name} needs [N, ..., features], found shape {list(x)}")
        return (*x[:-1], a.out)

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        return Params(ins[0][-1] * a.out + (a.out if a.bias else 0))

    def macs(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> int:
        return prod(ins[0]) * int(a.out)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"linear": 2 * self.macs(a, ins, out), "bias": prod(out) if a.bias else 0}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """`rows`: the positions of the leading axes (batch included), each a matrix-vector product."""
        rows = prod(ins[0][:-1])
        leading = "·".join(["N", *(f"n{i}" for i in range(1, len(ins[0]) - 1))])
        note = f"rows = {leading} = {rows}" if len(ins[0]) > 2 else ""
        macs = self.macs(a, ins, out)
        numbers = {"in": ins[0][-1], "out": a.out, "rows": rows}
        flops = sum(self.flops(a, ins, out).values())
        return [
            step("out_features", "{out}", out[-1], out=a.out),
            step("params", "{in}·{out}" + (" + {out}" if a.get("bias") else ""), self.params(a, ins, out).params,
                 **numbers),
            step("MACs", "{rows}·{in}·{out}", macs, note, **numbers),
            self.flops_step(a, ins, out, macs, flops, rows),
        ]

    def flops_step(self, a: Attrs, ins: Sequence[Shape], out: Shape, macs: int, flops: int, rows: int) -> Step:
        return step("FLOPs", "2·{MACs}" + (" + {rows}·{out}" if a.bias else ""), flops,
                    MACs=macs, rows=rows, out=a.out)

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> None:
        return None

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input, for the weight's gradient (the weight, for the input's, is a parameter)."""
        return Saved(inputs=(0,) if weights else ())

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return nn.Linear(ins[0][-1], a.out, a.bias)


def resolve_axis(kind: LayerKind, what: str, axis: int, shape: Shape) -> int:
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(
            f"{kind.name} {what} {axis} is out of range for shape {list(shape)} "
            f"(expected {-len(shape)} to {len(shape) - 1})"
        )
    return axis % len(shape)


class Plumbing(LayerKind):
    """Pure data movement: 0 FLOPs, no parameters. `view`: the output is a view of the input
    (no memory); its backward then reshapes the gradient back, also as a view, unless the view
    selects part of the input (crops and slices scatter the gradient into a new zero tensor)."""

    family = "reshape"
    view: ClassVar[bool] = False

    def aliases_input(self, a: Attrs, ins: Sequence[Shape], training: bool) -> bool:
        return self.view or super().aliases_input(a, ins, training)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {}


@register
class Rbf(Linear):
    """Euclidean radial basis function units (LeNet-5's output layer): y_j = sum_i (x_i - w_ji)^2
    over the last axis. One multiply-accumulate per (input, unit) pair, like a linear layer."""

    name = "rbf"
    aliases = ()
    summary = "Euclidean RBF units over the last axis: y_j = sum_i (x_i - w_ji)^2 (LeNet-5 output)"
    attrs = (Attr("out", Int(minimum=1), doc="output units"),)
    formulas = {
        "output shape": "[*leading, out]",
        "params": "in*out (the centres; no bias)",
        "macs": "in * out * prod(leading axes, batch included)",
        "flops": "linear: 2*macs (square and accumulate); other: macs (the subtractions)",
    }

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        return Params(ins[0][-1] * a.out)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        macs = self.macs(a, ins, out)
        return {"linear": 2 * macs, "other": macs}

    def flops_step(self, a: Attrs, ins: Sequence[Shape], out: Shape, macs: int, flops: int, rows: int) -> Step:
        return step("FLOPs", "2·{MACs} + {MACs}", flops, "square-accumulate, then the subtractions",
                    MACs=macs)

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input (x*x and the cross term both read it)."""
        return Saved(inputs=(0,))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Rbf as Module

        return Module(ins[0][-1], a.out)


@register
class Flatten(Plumbing):
    name = "flatten"
    view = True
    grad_is_view = True
    summary = "merge axes start_dim..end_dim into one (the batch axis stays)"
    attrs = (
        Attr("start_dim", Int(minimum=None), 1, "first axis merged (batch is 0)"),
        Attr("end_dim", Int(minimum=None), -1, "last axis merged"),
    )
    formulas = {
        "output shape": "[*x[:start], prod(x[start:end+1]), *x[end+1:]]",
        "flops": "0 (data movement)",
    }

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        start = resolve_axis(self, "start_dim", a.start_dim, x)
        end = resolve_axis(self, "end_dim", a.end_dim, x)
        if start == 0:
            raise ShapeError("flatten must keep the batch axis: start_dim resolves to 0")
        if start > end:
            raise ShapeError(f"flatten start_dim {start} is after end_dim {end} in {list(x)}")
        return (*x[:start], prod(x[start:end + 1]), *x[end + 1:])

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> None:
        return None

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return nn.Flatten(a.start_dim, a.end_dim)


@register
class Reshape(Plumbing):
    name = "reshape"
    view = True
    grad_is_view = True
    aliases = ("view",)
    summary = "reshape each sample to `shape` (one -1 is inferred)"
    attrs = (Attr("shape", Ints(minimum=-1), doc="per-sample target shape, one -1 allowed"),)
    formulas = {
        "output shape": "[N, *shape], -1 = elements per sample / prod(other sizes)",
        "flops": "0 (data movement)",
    }

    def check(self, a: Attrs) -> None:
        if 0 in a.shape or a.shape.count(-1) > 1:
            raise SpecError(
                f"reshape sizes must be positive, with at most one -1, found {list(a.shape)}"
            )

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        elements = prod(x[1:])
        known = prod(n for n in a.shape if n != -1)
        what = f"reshape cannot turn {list(x[1:])} ({elements} elements per sample) into"
        if -1 not in a.shape:
            if known != elements:
                raise ShapeError(f"{what} {list(a.shape)} ({known} elements)")
            return (x[0], *a.shape)
        if elements % known:
            raise ShapeError(f"{what} {list(a.shape)} ({elements} is not a multiple of {known})")
        return (x[0], *(elements // known if n == -1 else n for n in a.shape))

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> None:
        return None

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Reshape as Module

        return Module(a.shape)


@register
class Permute(Plumbing):
    name = "permute"
    view = True
    grad_is_view = True
    summary = "reorder the axes; the batch axis stays first"
    attrs = (Attr("dims", Ints(minimum=0), doc="new order of the axes, batch (0) first"),)
    formulas = {"output shape": "[x[dims[0]], x[dims[1]], ...]", "flops": "0 (data movement)"}

    def check(self, a: Attrs) -> None:
        if sorted(a.dims) != list(range(len(a.dims))):
            raise SpecError(
                f"permute dims must be a permutation of 0..{len(a.dims) - 1}, found {list(a.dims)}"
            )
        if a.dims[0] != 0:
            raise SpecError(f"permute must keep the batch axis first: dims[0] is {a.dims[0]}")

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if len(a.dims) != len(x):
            raise ShapeError(
                f"permute dims {list(a.dims)} name {len(a.dims)} axes, the input {list(x)} "
                f"has {len(x)}"
            )
        return tuple(x[d] for d in a.dims)

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> None:
        return None

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Permute as Module

        return Module(a.dims)


class SpatialPadding(Padding):
    """Padding for a kind of any rank: one entry per spatial axis (any number of them)."""

    label = "int | [int, ...] | [[begin, end], ...]"

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> Any:
        if value in ("same", "valid"):
            raise SpecError(f"expected explicit sizes, found `{value}`")
        if not isinstance(value, list):
            return super().convert(value, evaluate, ndim)
        pairs = tuple(self._pair(v, evaluate) for v in value)
        if not pairs or min(min(pair) for pair in pairs) < 0:
            raise SpecError(f"expected one or more non-negative paddings, found {value}")
        return pairs


PAD_MODES = Choice(
    "constant", "reflect", "replicate", "circular",
    aliases={"zeros": "constant", "zero": "constant", "copy": "replicate", "wrap": "circular"},
)


@register
class Pad(Plumbing):
    name = "pad"
    summary = "pad the spatial axes (asymmetric allowed) and/or the channels: constant, reflect, replicate, circular"
    attrs = (
        Attr("padding", SpatialPadding(), 0, "p, [p per axis] or [[begin, end] per axis]"),
        Attr("channels", Ints(minimum=0), 0, "channels added: c, or [before, after] (constant mode)"),
        Attr("mode", PAD_MODES, "constant", "border mode (zero/reflect/copy/wrap)"),
        Attr("value", Float(), 0.0, "fill value of constant mode"),
    )
    formulas = {
        "output size": "n + pad_begin + pad_end; channels + before + after",
        "flops": "0 (data movement)",
    }

    def check(self, a: Attrs) -> None:
        if a.value != 0 and a.mode != "constant":
            raise SpecError(f"`value` needs mode constant, not {a.mode}")
        if len(a.channels) > 2:
            raise SpecError(f"`channels` is c or [before, after], found {list(a.channels)}")
        if any(a.channels) and a.mode != "constant":
            raise SpecError(f"channel padding needs mode constant, not {a.mode}")

    def channel_pair(self, a: Attrs) -> tuple[int, int]:
        return (a.channels[0], a.channels[-1])

    def autocast_precision(self, a: Attrs, ins: Sequence[Shape], device: str) -> str | None:
        """The CPU's float32 list has replication padding (1-3-d) and reflection padding (1-2-d)."""
        rank = len(ins[0]) - 2
        upcast = a.mode == "replicate" or (a.mode == "reflect" and rank <= 2)
        return "float32" if device == "cpu" and upcast else None

    def pairs(self, x: Shape, a: Attrs) -> tuple[tuple[int, int], ...]:
        if len(x) < 3:
            raise ShapeError(f"pad needs [N, C, *spatial], found shape {list(x)}")
        return per_axis(self, "padding", a.padding, x)

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        pairs = self.pairs(x, a)
        if a.mode != "constant" and len(x) > 5:
            raise ShapeError(f"{a.mode} padding supports 1 to 3 spatial axes, found {list(x)}")
        for n, pair in zip(spatial(x), pairs, strict=True):
            if a.mode == "reflect" and max(pair) >= n:
                raise ShapeError(f"reflect padding {max(pair)} must be smaller than input {n}")
            if a.mode == "circular" and max(pair) > n:
                raise ShapeError(f"circular padding {max(pair)} must be at most input {n}")
        channels = x[1] + sum(self.channel_pair(a))
        return (x[0], channels, *(n + b + e for n, (b, e) in zip(spatial(x), pairs, strict=True)))

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(Window(1, 1, 1, begin) for begin, _ in self.pairs(ins[0], a))

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """Reflect and replicate padding keep their input; constant and circular nothing."""
        return Saved(inputs=(0,) if a.mode in ("reflect", "replicate") else ())

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Pad as Module

        return Module(self.pairs(ins[0], a), a.mode, a.value, self.channel_pair(a))


@register
class Crop(Plumbing):
    """Keep `size` elements of each spatial axis from `offset` on; with a second input and no
    `size`, crop to that input's spatial size (FCN's score crops at offsets 5, 9 and 31)."""

    name = "crop"
    view = True
    summary = "crop the spatial axes to `size` (or to a second input's size) from `offset`"
    max_inputs = 2
    field_inputs = 1
    attrs = (
        Attr("offset", PerAxis(minimum=0), 0, "first kept index per spatial axis"),
        Attr("size", PerAxis(optional=True), None, "target size (default: 2nd input's)"),
    )
    formulas = {"output size": "size, kept indices offset .. offset + size - 1", "flops": "0 (data movement)"}

    def target(self, a: Attrs, ins: Sequence[Shape]) -> tuple[int, ...]:
        x = ins[0]
        if len(x) < 3:
            raise ShapeError(f"{self.name} needs [N, C, *spatial], found shape {list(x)}")
        if a.size is not None:
            return per_axis(self, "size", a.size, x)
        if len(ins) < 2:
            raise SpecError(f"{self.name} needs `size` or a second input to take the size from")
        if len(ins[1]) != len(x):
            raise ShapeError(f"{self.name} cannot crop {list(x)} to the size of {list(ins[1])}")
        return tuple(ins[1][2:])

    def offsets(self, a: Attrs, ins: Sequence[Shape], target: tuple[int, ...]) -> tuple[int, ...]:
        return per_axis(self, "offset", a.offset, ins[0])

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        target = self.target(a, ins)
        offsets = self.offsets(a, ins, target)
        for axis, (n, t, o) in enumerate(zip(spatial(x), target, offsets, strict=True)):
            if t > n or o + t > n:
                where = f"size {t}" if t > n or o == 0 else f"offset {o} + size {t}"
                raise ShapeError(f"{self.name} {where} > input {n} on spatial axis {axis} of {list(x)}")
        return (x[0], x[1], *target)

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...]:
        return tuple(Window(1, 1, 1, -o) for o in self.offsets(a, ins, tuple(out[2:])))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Crop as Module

        return Module(self.offsets(a, ins, tuple(out[2:])), tuple(out[2:]) if a.size is not None else None)


@register
class CenterCrop(Crop):
    """Keep the centred `size` window of each spatial axis, starting at (n - size) // 2; with
    a second input and no `size`, crop to that input's spatial size (U-Net skip connections)."""

    name = "center_crop"
    summary = "crop the spatial axes to `size` (or to a second input's size), centred"
    attrs = (Attr("size", PerAxis(optional=True), None, "target size (default: 2nd input's)"),)
    formulas = {
        "output size": "size, first kept index (n - size) // 2",
        "flops": "0 (data movement)",
    }

    def offsets(self, a: Attrs, ins: Sequence[Shape], target: tuple[int, ...]) -> tuple[int, ...]:
        return tuple((n - t) // 2 for n, t in zip(spatial(ins[0]), target, strict=True))


@register
class Slice(Plumbing):
    """`x[..., start:stop:step, ...]` along one axis: a channel split (ShuffleNet v2's chunk)
    or a strided subsampling of a spatial axis (the CIFAR ResNets' `x[:, :, ::2, ::2]`)."""

    name = "slice"
    view = True
    aliases = ("narrow",)
    summary = "keep start:stop:step along one axis (channel split, strided subsampling)"
    attrs = (
        Attr("dim", Int(minimum=1), 1, "the axis (1 = channels, 2.. = spatial; 0, the batch, is not sliced)"),
        Attr("start", Int(minimum=0), 0, "first kept index"),
        Attr("stop", Int(minimum=0, optional=True), None, "end (exclusive); null: the axis size"),
        Attr("step", Int(minimum=1), 1, "keep every step-th index"),
    )
    formulas = {"output size": "ceil((stop - start) / step)", "flops": "0 (data movement)"}

    def bounds(self, a: Attrs, x: Shape) -> tuple[int, int]:
        if a.dim >= len(x):
            raise ShapeError(f"slice `dim` {a.dim} is not an axis of {list(x)}")
        n = x[a.dim]
        stop = n if a.stop is None else a.stop
        if not a.start < stop <= n:
            raise ShapeError(f"slice {a.start}:{stop} is empty or outside axis {a.dim} of size {n} in {list(x)}")
        return a.start, stop

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        start, stop = self.bounds(a, x)
        out = list(x)
        out[a.dim] = -(-(stop - start) // a.step)
        return tuple(out)

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...] | None:
        if len(out) <= 2:
            return None
        return tuple(
            Window(1, a.step, 1, -a.start) if axis == a.dim else Window()
            for axis in range(2, len(out))
        )

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Slice as Module

        return Module(a.dim, *self.bounds(a, ins[0]), a.step)


@register
class ChannelShuffle(Plumbing):
    """ShuffleNet's channel shuffle: view the channels as [groups, C/groups], transpose, flatten."""

    name = "channel_shuffle"
    summary = "interleave the channels of `groups` groups (ShuffleNet)"
    attrs = (Attr("groups", Int(minimum=1), doc="number of channel groups"),)
    formulas = {"output shape": "the input shape", "flops": "0 (data movement)"}

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if len(x) < 3 or x[1] % a.groups:
            raise ShapeError(f"channel_shuffle needs [N, C, *spatial] with C divisible by {a.groups}, found {list(x)}")
        return x

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return nn.ChannelShuffle(a.groups)


class DropoutKind(Plumbing):
    """Zeroes elements (or whole channels) with probability p while training; the identity at
    inference, so 0 FLOPs."""

    family = "dropout"
    attrs = (
        Attr("p", Float(), 0.5, "probability of zeroing"),
        Attr("inplace", Bool(), False, "overwrite the input"),
    )
    formulas = {"output shape": "the input shape", "flops": "0 (identity at inference)"}
    ranks: tuple[int, ...] = ()
    torch_name = "Dropout"

    def check(self, a: Attrs) -> None:
        if not 0.0 <= a.p <= 1.0:
            raise SpecError(f"dropout probability must be between 0 and 1, found {a.p}")

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if self.ranks and len(x) not in self.ranks:
            ranks = " or ".join(f"{r}-d" for r in self.ranks)
            raise ShapeError(f"{self.name} expects a {ranks} input, found shape {list(x)}")
        return x

    def aliases_input(self, a: Attrs, ins: Sequence[Shape], training: bool) -> bool:
        return not training or a.get("inplace", False)

    def mask(self, a: Attrs, out: Shape) -> int:
        """Elements of the random mask: one per element, or per channel for feature dropout."""
        return prod(out) if not self.ranks else prod(out[:2])

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The scaled random mask. On CPU, torch draws it in the activation dtype; on CUDA,
        element dropout keeps a bool mask (native_dropout), feature dropout the scaled one."""
        if not self.ranks and device == "cuda":
            return Saved(extra=((prod(out), "bool"),))
        return Saved(extra=((self.mask(a, out), "act"),))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return getattr(nn, self.torch_name)(a.p, a.inplace)


@register
class Dropout(DropoutKind):
    name = "dropout"
    summary = "zero elements with probability p (training only)"


@register
class Dropout1d(DropoutKind):
    name = "dropout1d"
    summary = "zero whole channels of [N, C, L] with probability p"
    ranks = (3,)
    torch_name = "Dropout1d"


@register
class Dropout2d(DropoutKind):
    name = "dropout2d"
    summary = "zero whole channels of [N, C, H, W] with probability p"
    ranks = (4,)
    torch_name = "Dropout2d"


@register
class Dropout3d(DropoutKind):
    name = "dropout3d"
    summary = "zero whole channels of [N, C, D, H, W] with probability p"
    ranks = (5,)
    torch_name = "Dropout3d"


@register
class StochasticDepth(DropoutKind):
    """Drops a residual branch for whole samples ("row") or the whole batch while training,
    scaling survivors by 1/(1-p) (torchvision.ops.StochasticDepth); the identity at inference."""

    name = "stochastic_depth"
    aliases = ("drop_path",)
    summary = "drop a residual branch per sample (row) or per batch with probability p (training only)"
    attrs = (
        Attr("p", Float(), 0.5, "probability of dropping the branch"),
        Attr("mode", Choice("row", "batch"), "row", "drop per sample (row) or for the whole batch"),
    )

    def aliases_input(self, a: Attrs, ins: Sequence[Shape], training: bool) -> bool:
        return not training or a.p == 0.0

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The scaled keep mask: one value per sample (row) or one for the batch."""
        if a.p == 0.0:
            return NOTHING_SAVED
        return Saved(extra=((out[0] if a.mode == "row" else 1, "act"),))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import StochasticDepth as Module

        return Module(a.p, a.mode)


@register
class Identity(Plumbing):
    name = "identity"
    view = True
    grad_is_view = True
    summary = "passes its input through"
    formulas = {"output shape": "the input shape", "flops": "0"}

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return nn.Identity()
