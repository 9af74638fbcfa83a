"""Normalization: batch, layer, group, instance and local response (AlexNet).

Counting rules (FLOPs, category "norm", per element of the output; inference):
- batchnorm, and instancenorm with running stats: 2 (scale and shift folded from the running
  statistics and the affine parameters);
- layernorm, groupnorm and instancenorm on the sample's own statistics: 5 (1 add for the mean,
  2 for the variance, subtract and multiply by the reciprocal std) plus 2 for an affine
  scale and shift (1 without a bias);
- lrn: size + 4 (square, size-1 adds for the window sum, scale by alpha/size, add k, power,
  divide).
Parameters: 2C (or 2 * prod(normalized shape)) with an affine transform; buffers: the running
mean and variance (2C) when tracked; the integer `num_batches_tracked` is not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers.base import (
    AUTOCAST_FLOAT32_ON_CUDA,
    Attr,
    Attrs,
    Bool,
    Float,
    Int,
    Ints,
    LayerKind,
    Params,
    Saved,
    Shape,
    Step,
    register,
    shape_product,
    step,
)

FOLDED_FLOPS = 2
STATS_FLOPS = 5


def stats_flops(elements: int, affine: bool, bias: bool = True) -> int:
    """FLOPs of normalizing on the sample's own statistics, then the optional affine."""
    return elements * (STATS_FLOPS + (1 + int(bias) if affine else 0))


def _eps() -> Attr:
    return Attr("eps", Float(), 1e-5, "added to the variance")


def _momentum() -> Attr:
    return Attr("momentum", Float(), 0.1, "running statistics update factor")


def per_element(out: Shape, flops: int, affine: bool, bias: bool = True, folded: bool = False) -> Step:
    """The FLOPs step of a normalization: a cost per element times the elements."""
    elements, numbers = shape_product(out)
    if folded:
        cost = f"{FOLDED_FLOPS}"
    else:
        cost = f"({STATS_FLOPS} + {1 + int(bias)})" if affine else f"{STATS_FLOPS}"
    return step("FLOPs", f"{cost}·{elements}", flops, **numbers)


def check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise SpecError(f"{name} must be between {low} and {high}, found {value}")


def check_statistics(kind: LayerKind, values: int, over: str) -> None:
    """torch refuses to normalize with statistics of a single value (the output would be 0
    whatever the input); cnncalc rejects the spec the same way."""
    if values == 1:
        raise ShapeError(
            f"{kind.name} computes its statistics over {over}: only one value here",
            hint="a value minus its own mean is 0 (torch raises here); use a larger input "
                 "or batch, or running statistics",
        )


class BatchNormNd(LayerKind):
    """Per-channel normalization with batch statistics (training) or running ones (inference)."""

    family = "norm"
    cancels_channel_bias = True
    attrs = (
        _eps(), _momentum(),
        Attr("affine", Bool(), True, "learn a per-channel scale and shift"),
        Attr("track_running_stats", Bool(), True, "keep running mean and variance buffers"),
    )
    formulas = {
        "params": "2*C if affine",
        "buffers": "2*C (running mean, running variance) if track_running_stats",
        "flops": "norm: 2 per element (inference: folded scale + shift)",
    }
    ranks: tuple[int, ...] = (4,)
    prefix = "BatchNorm"

    def check(self, a: Attrs) -> None:
        check_range("momentum", a.momentum, 0.0, 1.0)
        if a.eps <= 0:
            raise SpecError(f"eps must be positive, found {a.eps}")

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if len(x) not in self.ranks:
            ranks = " or ".join(f"{r}-d" for r in self.ranks)
            raise ShapeError(f"{self.name} expects a {ranks} input, found shape {list(x)}")
        self.check_batch_statistics(a, x)
        return x

    def check_batch_statistics(self, a: Attrs, x: Shape) -> None:
        if not a.track_running_stats:  # normalizes with the batch's statistics, even at inference
            check_statistics(self, x[0] * prod(x[2:]), "the batch and spatial positions of each channel")

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        channels = ins[0][1]
        return Params(2 * channels if a.affine else 0, 2 * channels if a.track_running_stats else 0)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"norm": FOLDED_FLOPS * prod(out)}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        counts = self.params(a, ins, out)
        channels = ins[0][1]
        steps = [step("params", "2·{C}", counts.params, "scale and shift", C=channels)] if a.affine else []
        if a.track_running_stats:
            steps.append(step("buffers", "2·{C}", counts.buffers, "running mean and variance", C=channels))
        flops = sum(self.flops(a, ins, out).values())
        return [*steps, per_element(out, flops, a.affine, folded=self.folded(a))]

    def folded(self, a: Attrs) -> bool:
        """Inference normalizes with running statistics: scale and shift folded, 2 per element."""
        return True

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input and the batch mean and inverse std (float32, one per channel)."""
        return Saved(inputs=(0,), extra=((ins[0][1], "float32"),) * 2)

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        cls = getattr(nn, f"{self.prefix}{self.spatial_dims}d")
        return cls(ins[0][1], a.eps, a.momentum, a.affine, a.track_running_stats)


@register
class BatchNorm1d(BatchNormNd):
    name = "batchnorm1d"
    summary = "batch normalization over [N, C] or [N, C, L]"
    spatial_dims = 1
    ranks = (2, 3)


@register
class BatchNorm2d(BatchNormNd):
    name = "batchnorm2d"
    aliases = ("batchnorm", "bn")
    summary = "batch normalization over [N, C, H, W]"
    spatial_dims = 2
    ranks = (4,)


@register
class BatchNorm3d(BatchNormNd):
    name = "batchnorm3d"
    summary = "batch normalization over [N, C, D, H, W]"
    spatial_dims = 3
    ranks = (5,)


class InstanceNormNd(BatchNormNd):
    """Per-sample, per-channel normalization (no learned affine by default)."""

    attrs = (
        _eps(), _momentum(),
        Attr("affine", Bool(), False, "learn a per-channel scale and shift"),
        Attr("track_running_stats", Bool(), False, "keep (and at inference use) running stats"),
    )
    formulas = {
        "params": "2*C if affine",
        "buffers": "2*C if track_running_stats",
        "flops": "norm: 2 per element with running stats, else 5 (+2 if affine) per element",
    }
    prefix = "InstanceNorm"

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """As batch norm over [1, N*C, ...]: the input and N*C means and inverse stds, plus the
        per-channel weight and running statistics repeated N times (torch's instance_norm)."""
        copies = 2 + (1 if a.affine else 0) + (2 if a.track_running_stats else 0)
        return Saved(inputs=(0,), extra=((ins[0][0] * ins[0][1], "float32"),) * copies)

    def check_batch_statistics(self, a: Attrs, x: Shape) -> None:
        if not a.track_running_stats:
            check_statistics(self, prod(x[2:]), "the spatial positions of each sample and channel")

    def folded(self, a: Attrs) -> bool:
        return bool(a.track_running_stats)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        if a.track_running_stats:
            return super().flops(a, ins, out)
        return {"norm": stats_flops(prod(out), a.affine)}


@register
class InstanceNorm1d(InstanceNormNd):
    name = "instancenorm1d"
    summary = "instance normalization over [N, C, L]"
    spatial_dims = 1
    ranks = (3,)


@register
class InstanceNorm2d(InstanceNormNd):
    name = "instancenorm2d"
    aliases = ("instancenorm",)
    summary = "instance normalization over [N, C, H, W] (style transfer)"
    spatial_dims = 2
    ranks = (4,)


@register
class InstanceNorm3d(InstanceNormNd):
    name = "instancenorm3d"
    summary = "instance normalization over [N, C, D, H, W]"
    spatial_dims = 3
    ranks = (5,)


@register
class LayerNorm(LayerKind):
    """Normalization over the trailing axes of each sample: `dims` of them, or `shape`."""

    name = "layernorm"
    family = "norm"
    autocast = AUTOCAST_FLOAT32_ON_CUDA
    summary = "layer normalization over the trailing `dims` axes (or `shape`)"
    attrs = (
        Attr("dims", Int(minimum=1, optional=True), None, "trailing axes normalized (default 1)"),
        Attr("shape", Ints(optional=True, minimum=1), None, "the normalized trailing shape"),
        _eps(),
        Attr("elementwise_affine", Bool(), True, "learn a scale (and shift) per element"),
        Attr("bias", Bool(), True, "learn the shift too (with elementwise_affine)"),
    )
    formulas = {
        "params": "prod(normalized shape) * (2 if bias else 1) if elementwise_affine",
        "flops": "norm: 5 per element (+2 affine, +1 without bias)",
    }

    def check(self, a: Attrs) -> None:
        if a.dims is not None and a.shape is not None:
            raise SpecError("layernorm takes `dims` or `shape`, not both")

    def normalized(self, a: Attrs, x: Shape) -> Shape:
        if a.shape is not None:
            if len(a.shape) >= len(x) or tuple(x[-len(a.shape):]) != a.shape:
                raise ShapeError(
                    f"layernorm shape {list(a.shape)} does not match the trailing axes of the "
                    f"input {list(x)}"
                )
            return tuple(a.shape)
        dims = 1 if a.dims is None else a.dims
        if dims >= len(x):
            raise ShapeError(
                f"layernorm over {dims} trailing axes needs more than {dims} axes "
                f"(batch included), found shape {list(x)}"
            )
        return tuple(x[-dims:])

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        self.normalized(a, ins[0])
        return ins[0]

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        if not a.elementwise_affine:
            return Params()
        return Params(prod(self.normalized(a, ins[0])) * (2 if a.bias else 1))

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"norm": stats_flops(prod(out), a.elementwise_affine, a.bias)}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        normalized = self.normalized(a, ins[0])
        flops = per_element(out, sum(self.flops(a, ins, out).values()), a.elementwise_affine, a.bias)
        if not a.elementwise_affine:
            return [flops]
        note = f"normalized shape {list(normalized)}"
        params = self.params(a, ins, out).params
        if a.bias:
            return [step("params", "2·{elements}", params, note, elements=prod(normalized)), flops]
        return [step("params", "{elements}", params, note, elements=prod(normalized)), flops]

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input and a mean and inverse std per normalized row (float32)."""
        rows = prod(ins[0]) // prod(self.normalized(a, ins[0]))
        return Saved(inputs=(0,), extra=((rows, "float32"),) * 2)

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        shape = self.normalized(a, ins[0])
        return nn.LayerNorm(shape, a.eps, a.elementwise_affine, a.bias)


@register
class GroupNorm(LayerKind):
    name = "groupnorm"
    family = "norm"
    autocast = AUTOCAST_FLOAT32_ON_CUDA
    summary = "group normalization: statistics per sample over groups of channels"
    attrs = (
        Attr("groups", Int(minimum=1), doc="channel groups sharing statistics"),
        _eps(),
        Attr("affine", Bool(), True, "learn a per-channel scale and shift"),
    )
    formulas = {"params": "2*C if affine", "flops": "norm: 5 per element (+2 if affine)"}

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if len(x) < 2:
            raise ShapeError(f"groupnorm needs a channel axis, found shape {list(x)}")
        if x[1] % a.groups:
            raise ShapeError(
                f"groups must divide channels, but {a.groups} does not divide {x[1]}"
            )
        # torch's test counts the batch too (x[0] * channels per group * positions)
        check_statistics(self, x[0] * x[1] // a.groups * prod(x[2:]), "the channels and positions of each group")
        return x

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        return Params(2 * ins[0][1] if a.affine else 0)

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"norm": stats_flops(prod(out), a.affine)}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        flops = per_element(out, sum(self.flops(a, ins, out).values()), a.affine)
        if not a.affine:
            return [flops]
        return [step("params", "2·{C}", self.params(a, ins, out).params, C=ins[0][1]), flops]

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The input and a mean and inverse std per sample and group (float32)."""
        return Saved(inputs=(0,), extra=((ins[0][0] * a.groups, "float32"),) * 2)

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return nn.GroupNorm(a.groups, ins[0][1], a.eps, a.affine)


@register
class LocalResponseNorm(LayerKind):
    """AlexNet's LRN: x / (k + alpha/size * sum of squares over `size` neighbouring
    channels)^beta."""

    name = "lrn"
    aliases = ("local_response_norm",)
    family = "norm"
    summary = "local response normalization across channels (AlexNet)"
    attrs = (
        Attr("size", Int(minimum=1), 5, "neighbouring channels summed"),
        Attr("alpha", Float(), 1e-4, "scale"),
        Attr("beta", Float(), 0.75, "exponent"),
        Attr("k", Float(), 1.0, "additive constant"),
    )
    formulas = {"flops": "norm: (size + 4) per element"}

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        if len(x) < 3:
            raise ShapeError(f"lrn needs [N, C, *spatial], found shape {list(x)}")
        return x

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"norm": (a.size + 4) * prod(out)}

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        elements, numbers = shape_product(out)
        return [step("FLOPs", f"({{size}} + 4)·{elements}", sum(self.flops(a, ins, out).values()),
                     size=a.size, **numbers)]

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """torch's composite: the input, the squared input padded across channels
        [N, 1, C+size-1, ...], and two output-sized intermediates (the divisor and its power)."""
        n, channels, *size = ins[0]
        return Saved(inputs=(0,), extra=((n * (channels + a.size - 1) * prod(size), "act"),
                                          (prod(out), "act"), (prod(out), "act")))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return nn.LocalResponseNorm(a.size, a.alpha, a.beta, a.k)
