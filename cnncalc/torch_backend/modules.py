"""Small torch modules for what torch.nn lacks, used by the layer kinds' `torch_module`."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnncalc.layers import pool


class Padded(nn.Module):
    """Explicit (possibly asymmetric) padding in front of a layer that is built unpadded.

    `keep`: the output's spatial size. A ceil_mode pool over an explicitly padded input keeps a
    last window that starts in the end padding, which torch's own padding drops; `keep` crops it.
    """

    def __init__(self, pads: tuple[tuple[int, int], ...], mode: str, inner: nn.Module, value: float = 0.0,
                 keep: tuple[int, ...] | None = None):
        super().__init__()
        self.pad = flat_pads(pads)
        self.mode = "constant" if mode == "zeros" else mode
        self.value = value
        self.inner = inner
        self.keep = keep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "constant":
            out: torch.Tensor = self.inner(F.pad(x, self.pad, mode="constant", value=self.value))
        else:
            out = self.inner(F.pad(x, self.pad, mode=self.mode))
        if self.keep is not None:
            out = out[(..., *(slice(0, n) for n in self.keep))]
        return out


def conv_module(dims: int | None, channels_in: int, a: Any, pads: tuple[tuple[int, int], ...]) -> nn.Module:
    cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims or 2]
    symmetric = all(begin == end for begin, end in pads)
    conv = cls(
        channels_in, a.out, a.kernel, a.stride,
        tuple(begin for begin, _ in pads) if symmetric else 0,
        a.dilation, a.groups, a.bias, a.padding_mode if symmetric else "zeros",
    )
    return conv if symmetric else Padded(pads, a.padding_mode, conv)


def flat_pads(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """(begin, end) pairs per axis, first axis first, in F.pad's order (last axis first)."""
    return tuple(p for pair in reversed(pads) for p in pair)


# -- merges (several inputs) ------------------------------------------------------------------


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Multiply(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int = 1):
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


class MatMul(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


# -- reshaping ----------------------------------------------------------------------------------


class Reshape(nn.Module):
    """Reshape every sample to `shape` (one -1 allowed), keeping the batch axis."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


class Permute(nn.Module):
    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


class Pad(nn.Module):
    """F.pad with (begin, end) per spatial axis, first axis first, then the channel pair."""

    def __init__(self, pads: tuple[tuple[int, int], ...], mode: str = "constant", value: float = 0.0,
                 channels: tuple[int, int] = (0, 0)):
        super().__init__()
        self.pad = flat_pads(pads) + (tuple(channels) if any(channels) else ())
        self.mode = mode
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "constant":
            return F.pad(x, self.pad, mode="constant", value=self.value)
        return F.pad(x, self.pad, mode=self.mode)


class Crop(nn.Module):
    """Keep `size` (or the second input's spatial size) from `offset` on every spatial axis."""

    def __init__(self, offset: tuple[int, ...], size: tuple[int, ...] | None = None):
        super().__init__()
        self.offset = offset
        self.size = size

    def forward(self, x: torch.Tensor, ref: torch.Tensor | None = None) -> torch.Tensor:
        size = self.size if self.size is not None else tuple(ref.shape[2:])  # type: ignore[union-attr]
        for axis, (begin, target) in enumerate(zip(self.offset, size), start=2):
            x = x.narrow(axis, begin, target)
        return x


class Slice(nn.Module):
    def __init__(self, dim: int, start: int, stop: int, step: int):
        super().__init__()
        self.index = (slice(None),) * dim + (slice(start, stop, step),)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[self.index]


# -- pooling --------------------------------------------------------------------------------------


class GlobalPool(nn.Module):
    """Mean or max over every spatial axis, keeping them as size 1."""

    def __init__(self, op: str = "avg"):
        super().__init__()
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.dim()))
        if self.op == "max":
            return x.amax(dim=dims, keepdim=True)
        return x.mean(dim=dims, keepdim=True)


class ChannelMaxPool(nn.Module):
    """Maxout: max over each run of `pieces` consecutive channels."""

    def __init__(self, pieces: int):
        super().__init__()
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grouped = x.reshape(x.shape[0], x.shape[1] // self.pieces, self.pieces, *x.shape[2:])
        return grouped.amax(dim=2)


class RoIPool(nn.Module):
    """Fast R-CNN RoI max pooling with R fixed boxes per image (no torchvision needed).

    The boxes are given in image coordinates (feature coordinates / spatial_scale) and mapped
    back with round(v * spatial_scale) like torchvision's roi_pool; each box is split into
    T x T bins [floor(i*h/T), ceil((i+1)*h/T)), which is exactly adaptive max pooling.
    """

    def __init__(self, output_size: int, rois: int, spatial_scale: float = 1.0):
        super().__init__()
        self.output_size = output_size
        self.rois = rois
        self.spatial_scale = spatial_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = int(x.shape[2]), int(x.shape[3])
        crops = []
        for n in range(x.shape[0]):
            for box in pool.even_boxes(height, width, self.rois):
                image_box = [v / self.spatial_scale for v in box]
                x1, y1, x2, y2 = (round(v * self.spatial_scale) for v in image_box)
                x1, x2 = min(max(x1, 0), width - 1), min(max(x2, 0), width - 1)
                y1, y2 = min(max(y1, 0), height - 1), min(max(y2, 0), height - 1)
                crop = x[n:n + 1, :, y1:y2 + 1, x1:x2 + 1]
                crops.append(F.adaptive_max_pool2d(crop, self.output_size))
        return torch.cat(crops, dim=0)


# -- upsampling -----------------------------------------------------------------------------------


class BedOfNails(nn.Module):
    """Each input value at the top-left of its r x r block, zeros elsewhere."""

    def __init__(self, scale: tuple[int, ...]):
        super().__init__()
        self.scale = tuple(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sizes = [n * r for n, r in zip(x.shape[2:], self.scale, strict=True)]
        out = x.new_zeros(*x.shape[:2], *sizes)
        index = (slice(None), slice(None), *(slice(None, None, r) for r in self.scale))
        out[index] = x
        return out


class SpaceToDepth(nn.Module):
    """TensorFlow's space_to_depth: channel index (by*r + bx)*C + c (pixel_unshuffle uses
    c*r*r + by*r + bx; the shapes are the same)."""

    def __init__(self, block: int):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        r = self.block
        x = x.reshape(n, c, h // r, r, w // r, r).permute(0, 3, 5, 1, 2, 4)
        return x.reshape(n, c * r * r, h // r, w // r)


class DepthToSpace(nn.Module):
    """TensorFlow's depth_to_space (DCR order), the inverse of SpaceToDepth."""

    def __init__(self, block: int):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        r = self.block
        x = x.reshape(n, r, r, c // (r * r), h, w).permute(0, 3, 4, 1, 5, 2)
        return x.reshape(n, c // (r * r), h * r, w * r)


class MaxUnpool(nn.Module):
    """Max unpooling. The graph passes the indices of the named pool; called with the pooled
    tensor alone (an isolated test), it makes valid indices by max-pooling a random tensor of
    the unpooled size with the same window."""

    def __init__(self, kernel: tuple[int, ...], stride: tuple[int, ...],
                 padding: tuple[int, ...], out_spatial: tuple[int, ...]):
        super().__init__()
        self.kernel, self.stride, self.padding = tuple(kernel), tuple(stride), tuple(padding)
        self.out_spatial = tuple(out_spatial)
        dims = len(self.kernel)
        self.pool = getattr(F, f"max_pool{dims}d")
        self.unpool = getattr(F, f"max_unpool{dims}d")

    def forward(self, x: torch.Tensor, indices: torch.Tensor | None = None) -> torch.Tensor:
        if indices is None:
            source = torch.randn(*x.shape[:2], *self.out_spatial, device=x.device, dtype=x.dtype)
            _, indices = self.pool(source, self.kernel, self.stride, self.padding,
                                   return_indices=True)
        out: torch.Tensor = self.unpool(x, indices, self.kernel, self.stride, self.padding,
                                        output_size=self.out_spatial)
        return out


# -- convolutions torch.nn lacks ------------------------------------------------------------------


class PartialConv(nn.Module):
    """One single-output convolution per row of a connection table, over the input channels
    that row lists; outputs concatenated in row order."""

    def __init__(self, a: Any, pads: tuple[tuple[int, int], ...]):
        super().__init__()
        self.rows = [list(row) for row in a.connections]
        self.convs = nn.ModuleList(
            conv_module(2, len(row), _with(a, out=1), pads) for row in self.rows
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, row]) for conv, row in zip(self.convs, self.rows)], dim=1)


def _with(a: Any, **changes: Any) -> Any:
    from cnncalc.layers.base import Attrs

    return Attrs({**a, **changes})


class LocallyConnected(nn.Module):
    """Unshared convolution (1-D or 2-D): unfold the windows, then one batched matmul with a
    separate [C*K, out] weight per output position (+ a bias per channel and position)."""

    def __init__(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...],
                 kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                 pads: tuple[tuple[int, int], ...], bias: bool = True):
        super().__init__()
        one_d = len(kernel) == 1
        self.kernel = (1, *kernel) if one_d else tuple(kernel)
        self.stride = (1, *stride) if one_d else tuple(stride)
        self.dilation = (1, *dilation) if one_d else tuple(dilation)
        self.pad = flat_pads(pads)
        self.out_shape = tuple(out_shape[1:])
        positions = math.prod(out_shape[2:])
        taps = in_shape[1] * math.prod(kernel)
        self.weight = nn.Parameter(torch.randn(positions, taps, out_shape[1]) / taps ** 0.5)
        self.bias = nn.Parameter(torch.zeros(out_shape[1], positions)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.pad)
        if x.dim() == 3:
            x = x.unsqueeze(2)
        cols = F.unfold(x, self.kernel, dilation=self.dilation, stride=self.stride)
        out = torch.bmm(cols.permute(2, 0, 1), self.weight).permute(1, 2, 0)  # [N, out, L]
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(x.shape[0], *self.out_shape)


class DeformConv2d(nn.Module):
    """Deformable convolution v1 without torchvision.

    An offset convolution (same window, 2*offset_groups*kh*kw channels, bias) predicts a (dy, dx)
    per tap and position; every tap is sampled bilinearly (grid_sample, zeros outside) into a
    [N, C, Ho*kh, Wo*kw] tensor, which a kh x kw convolution with stride (kh, kw) and the layer's
    groups reduces to [N, out, Ho, Wo]. The offsets start at zero, so a fresh module computes
    the plain convolution.
    """

    def __init__(self, channels_in: int, a: Any, pads: tuple[tuple[int, int], ...]):
        super().__init__()
        self.kernel, self.stride, self.dilation = tuple(a.kernel), tuple(a.stride), tuple(a.dilation)
        self.pads = pads
        self.offset_groups = a.offset_groups
        taps = math.prod(self.kernel)
        self.offset = nn.Conv2d(channels_in, 2 * a.offset_groups * taps, self.kernel,
                                self.stride, 0, self.dilation, bias=True)
        nn.init.zeros_(self.offset.weight)
        if self.offset.bias is not None:
            nn.init.zeros_(self.offset.bias)
        self.conv = nn.Conv2d(channels_in, a.out, self.kernel, self.kernel, 0, 1, a.groups, a.bias)

    def _base(self, axis: int, size: int, like: torch.Tensor) -> torch.Tensor:
        """Input coordinate of tap k at output position i along `axis`: [k, i]."""
        taps = torch.arange(self.kernel[axis], device=like.device).unsqueeze(1) * self.dilation[axis]
        starts = torch.arange(size, device=like.device).unsqueeze(0) * self.stride[axis]
        coords: torch.Tensor = (taps + starts - self.pads[axis][0]).to(like.dtype)
        return coords

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        kh, kw = self.kernel
        groups = self.offset_groups
        offset = self.offset(F.pad(x, flat_pads(self.pads)))
        ho, wo = offset.shape[-2:]
        offset = offset.reshape(n, groups, kh, kw, 2, ho, wo)
        py = self._base(0, ho, x)[:, None, :, None] + offset[:, :, :, :, 0]
        px = self._base(1, wo, x)[None, :, None, :] + offset[:, :, :, :, 1]
        grid = torch.stack([(2 * px + 1) / w - 1, (2 * py + 1) / h - 1], dim=-1)
        # [N, G, kh, kw, Ho, Wo, 2] -> [N*G, Ho*kh, Wo*kw, 2]
        grid = grid.permute(0, 1, 4, 2, 5, 3, 6).reshape(n * groups, ho * kh, wo * kw, 2)
        sampled = F.grid_sample(x.reshape(n * groups, c // groups, h, w), grid,
                                mode="bilinear", padding_mode="zeros", align_corners=False)
        out: torch.Tensor = self.conv(sampled.reshape(n, c, ho * kh, wo * kw))
        return out


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: while training, zero the input for a sample ("row") or
    the batch with probability p and scale the survivors by 1/(1-p); the identity in eval."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        size = [x.shape[0]] + [1] * (x.dim() - 1) if self.mode == "row" else [1] * x.dim()
        keep = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        if self.p < 1.0:
            keep.div_(1.0 - self.p)
        return x * keep


class Subsampling(nn.Module):
    """LeNet-5's S layers: window sum * coefficient + bias, one pair per channel."""

    def __init__(self, channels: int, kernel: tuple[int, ...], stride: tuple[int, ...]):
        super().__init__()
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = F.avg_pool2d(x, self.kernel, self.stride) * math.prod(self.kernel)
        return sums * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class Rbf(nn.Module):
    """sum_i (x_i - w_ji)^2 = |x|^2 - 2 x.w_j + |w_j|^2: the cross term is one linear map."""

    def __init__(self, features: int, units: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(units, features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cross = F.linear(x, self.weight)
        return (x * x).sum(-1, keepdim=True) - 2 * cross + (self.weight * self.weight).sum(-1)


class ScaledTanh(nn.Module):
    def __init__(self, amplitude: float, slope: float):
        super().__init__()
        self.amplitude = amplitude
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)


class Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor
