"""The torch modules cnncalc's backend builds, described without torch.

Peer tools count per torch module call (thop, ptflops, torchinfo, torchscan hook modules by
class; ptflops also patches some `torch.nn.functional` and tensor functions), so a profile
needs to know, for every layer, which module `GraphModule` runs: its class, its children, the
shapes each call sees, its parameters, and the patched functions its `forward` calls. This
module says it, in one place, from the layer kind and attributes; `tests/test_conventions.py`
checks it against the modules `torch_backend.build` makes for every layer test case.

What GraphModule builds (`kind.torch_module`):
- one module per layer; a layer that `share`s weights calls its owner's module again;
- torch.nn classes where torch has the layer (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Upsample...);
- `Padded(inner)` around a convolution with asymmetric padding, or a max pool whose padding
  torch cannot do (asymmetric, `same`, over half the window): `F.pad` then the inner module on
  the padded input (a ceil-mode pool's extra window is cropped after it);
- small custom modules (torch_backend/modules.py) for merges (Add, Multiply, Concat, MatMul),
  reshapes, global pooling, RoI pooling, partial/deformable/locally connected convolutions,
  LeNet's subsampling and RBF units; peers treat them as unknown modules (count 0, or count
  the torch.nn children they contain: PartialConv's per-row Conv2d, DeformConv2d's offset and
  main Conv2d).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import prod
from typing import Any

from cnncalc.layers import activation, conv, linear, merge, norm, pool, upsample
from cnncalc.layers.base import Attrs, LayerKind, Shape
from cnncalc.window import conv_output_size

#: torch's class hierarchy for the classes peers test with isinstance
TORCH_BASES: dict[str, tuple[str, ...]] = {
    **{f"Conv{d}d": ("_ConvNd",) for d in (1, 2, 3)},
    **{f"ConvTranspose{d}d": ("_ConvTransposeNd", "_ConvNd") for d in (1, 2, 3)},
    **{f"BatchNorm{d}d": ("_BatchNorm", "_NormBase") for d in (1, 2, 3)},
    **{f"InstanceNorm{d}d": ("_InstanceNorm", "_NormBase") for d in (1, 2, 3)},
    **{f"MaxPool{d}d": ("_MaxPoolNd",) for d in (1, 2, 3)},
    **{f"AvgPool{d}d": ("_AvgPoolNd",) for d in (1, 2, 3)},
    **{f"LPPool{d}d": ("_LPPoolNd",) for d in (1, 2, 3)},
    **{f"AdaptiveMaxPool{d}d": ("_AdaptiveMaxPoolNd",) for d in (1, 2, 3)},
    **{f"AdaptiveAvgPool{d}d": ("_AdaptiveAvgPoolNd",) for d in (1, 2, 3)},
    "ReLU6": ("Hardtanh",),
    **{name: ("_DropoutNd",) for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d")},
}


@dataclass(frozen=True)
class Function:
    """A call of a torch function inside a module's forward: `name` as torch spells it
    (`F.relu`, `F.max_pool2d`, `F.interpolate`, `torch.bmm`, `Tensor.mul`), the shapes of its
    tensor arguments, its output shape and the arguments that matter (`scalar`: the second
    operand is a Python number; `size`/`scale`: interpolate's)."""

    name: str
    ins: tuple[Shape, ...]
    out: Shape
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Module:
    """One module call: class name, the tensors it is called with and returns, its own
    parameters (name, elements), the calls of its children, torch functions its own forward
    calls (only those some peer counts; see `Function`), and its hyperparameters."""

    cls: str
    ins: tuple[Shape, ...]
    out: Shape
    params: tuple[tuple[str, int], ...] = ()
    children: tuple[Module, ...] = ()
    functions: tuple[Function, ...] = ()
    hyper: Mapping[str, Any] = field(default_factory=dict)

    @property
    def leaf(self) -> bool:
        return not self.children

    def isa(self, name: str) -> bool:
        """isinstance(module, torch.nn.<name>) for the classes in TORCH_BASES."""
        return name == self.cls or name in TORCH_BASES.get(self.cls, ())

    def walk(self) -> list[Module]:
        """This call and every child call, depth first (the order their hooks run in)."""
        found = [self]
        for child in self.children:
            found += child.walk()
        return found


def describe(kind: LayerKind, a: Attrs, ins: Sequence[Shape], out: Shape) -> Module:
    """The module GraphModule runs for one layer call."""
    ins = tuple(ins)
    for cls, builder in _BUILDERS:
        if isinstance(kind, cls):
            return builder(kind, a, ins, out)
    return Module(_custom_name(kind), ins, out)


# -- convolutions -------------------------------------------------------------------------------


def _conv(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    assert isinstance(kind, conv.ConvNd)
    pads = kind.padding(a, ins)
    return conv_call(kind.spatial_dims or 2, ins[0], out, a, pads)


def conv_call(dims: int, x: Shape, out: Shape, a: Attrs, pads: tuple[tuple[int, int], ...],
              channels_out: int | None = None) -> Module:
    """conv_module(): nn.ConvNd, or Padded(nn.ConvNd) when the padding is asymmetric."""
    channels_out = a.out if channels_out is None else channels_out
    symmetric = all(b == e for b, e in pads)
    inner_in = x if symmetric else (*x[:2], *(n + b + e for n, (b, e) in zip(x[2:], pads)))
    inner = _conv_module(f"Conv{dims}d", inner_in, out, x[1], channels_out, a.kernel, a.groups, a.bias)
    return inner if symmetric else Module("Padded", (x,), out, children=(inner,))


def _conv_module(cls: str, x: Shape, out: Shape, channels_in: int, channels_out: int,
                 kernel: tuple[int, ...], groups: int, bias: bool, transposed: bool = False) -> Module:
    weight = (channels_in if transposed else channels_out) * \
        ((channels_out if transposed else channels_in) // groups) * prod(kernel)
    params = (("weight", weight),) + ((("bias", channels_out),) if bias else ())
    return Module(cls, (x,), out, params, hyper={
        "kernel_size": tuple(kernel), "groups": groups, "in_channels": channels_in,
        "out_channels": channels_out, "bias": bias, "transposed": transposed,
    })


def _conv_transpose(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    dims = kind.spatial_dims or 2
    return _conv_module(f"ConvTranspose{dims}d", ins[0], out, ins[0][1], a.out, a.kernel, a.groups, a.bias,
                        transposed=True)


def _locally_connected(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    """Unfold, then torch.bmm([L, N, C*K] windows, [L, C*K, out] weights), + bias."""
    positions, taps = prod(out[2:]), ins[0][1] * prod(a.kernel)
    params = (("weight", positions * taps * a.out),) + ((("bias", a.out * positions),) if a.bias else ())
    bmm = Function("torch.bmm", ((positions, ins[0][0], taps), (positions, taps, a.out)),
                   (positions, ins[0][0], a.out))
    return Module("LocallyConnected", ins, out, params, functions=(bmm,))


def _partial(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    """One single-output conv_module per row of the connection table, on the channels it lists."""
    assert isinstance(kind, conv.PartialConv2d)
    pads = kind.padding(a, ins)
    n, _, *size = ins[0]
    rows = tuple(
        conv_call(2, (n, len(row), *size), (n, 1, *out[2:]), Attrs({**a, "groups": 1}), pads, channels_out=1)
        for row in a.connections
    )
    return Module("PartialConv", ins, out, children=rows)


def _deform(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    """An offset Conv2d on the explicitly padded input, bilinear sampling of every tap into
    [N, C, Ho*kh, Wo*kw], and a Conv2d with stride = kernel over that."""
    assert isinstance(kind, conv.DeformConv2d)
    pads = kind.padding(a, ins)
    n, channels, *size = ins[0]
    padded = (n, channels, *(s + b + e for s, (b, e) in zip(size, pads)))
    taps = 2 * a.offset_groups * prod(a.kernel)
    offset = _conv_module("Conv2d", padded, (n, taps, *out[2:]), channels, taps, a.kernel, 1, True)
    sampled = (n, channels, *(o * k for o, k in zip(out[2:], a.kernel)))
    main = _conv_module("Conv2d", sampled, out, channels, a.out, a.kernel, a.groups, a.bias)
    return Module("DeformConv2d", ins, out, children=(offset, main))


# -- normalization ------------------------------------------------------------------------------


def _batchnorm(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    assert isinstance(kind, norm.BatchNormNd)
    channels = ins[0][1]
    params = (("weight", channels), ("bias", channels)) if a.affine else ()
    return Module(f"{kind.prefix}{kind.spatial_dims}d", ins, out, params, hyper={
        "affine": a.affine, "track_running_stats": a.track_running_stats, "num_features": channels,
    })


def _layernorm(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    assert isinstance(kind, norm.LayerNorm)
    shape = kind.normalized(a, ins[0])
    params: tuple[tuple[str, int], ...] = ()
    if a.elementwise_affine:
        params = (("weight", prod(shape)),) + ((("bias", prod(shape)),) if a.bias else ())
    return Module("LayerNorm", ins, out, params, hyper={
        "normalized_shape": shape, "elementwise_affine": a.elementwise_affine, "bias": a.bias,
    })


def _groupnorm(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    channels = ins[0][1]
    params = (("weight", channels), ("bias", channels)) if a.affine else ()
    return Module("GroupNorm", ins, out, params, hyper={"affine": a.affine, "groups": a.groups})


def _lrn(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    """F.local_response_norm: x.mul(x), a zero pad of size-1 channels, avg_pool2d (3-d input,
    on [N, 1, C+size-1, L]) or avg_pool3d (on [N, 1, C+size-1, H, W*...]), .mul(alpha),
    .add(k), .pow(beta), x / div."""
    x = ins[0]
    n, channels, *size = x
    padded = (n, 1, channels + a.size - 1, *size)
    pool = "F.avg_pool2d" if len(x) == 3 else "F.avg_pool3d"
    return Module("LocalResponseNorm", ins, out, functions=(
        Function("Tensor.mul", (x, x), x),
        Function(pool, (padded,), (n, 1, channels, *size)),
        Function("Tensor.mul", (x,), x, {"scalar": True}),
        Function("Tensor.add", (x,), x, {"scalar": True}),
    ), hyper={"size": a.size})


# -- activations --------------------------------------------------------------------------------

#: the torch.nn.functional function each activation module's forward calls
_ACTIVATION_FUNCTION = {
    "ReLU": "F.relu", "ReLU6": "F.hardtanh", "LeakyReLU": "F.leaky_relu", "PReLU": "F.prelu",
    "ELU": "F.elu", "GELU": "F.gelu", "SiLU": "F.silu", "Sigmoid": "torch.sigmoid",
    "Tanh": "torch.tanh", "Hardswish": "F.hardswish", "Hardsigmoid": "F.hardsigmoid",
    "Softmax": "F.softmax", "LogSoftmax": "F.log_softmax",
}


def _activation(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    assert isinstance(kind, activation.Activation)
    if isinstance(kind, activation.Scale):
        return Module("Scale", ins, out)
    if isinstance(kind, activation.Tanh) and (a.amplitude != 1.0 or a.slope != 1.0):
        return Module("ScaledTanh", ins, out)
    cls = kind.torch_name
    params = (("weight", a.num_parameters),) if cls == "PReLU" else ()
    hyper = {"dim": a.dim} if "dim" in a else {}
    return Module(cls, ins, out, params, functions=(Function(_ACTIVATION_FUNCTION[cls], ins[:1], out),),
                  hyper=hyper)


# -- pooling ------------------------------------------------------------------------------------


def _maxpool(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    """nn.MaxPoolNd, or Padded(nn.MaxPoolNd) on the -inf padded input (a ceil-mode window that
    starts in the end padding is computed, then cropped)."""
    assert isinstance(kind, pool.MaxPoolNd)
    dims = kind.spatial_dims or 2
    strides = pool.strides(a)
    pads = kind.explicit_pads(a, ins)
    hyper = {"kernel_size": tuple(a.kernel), "stride": strides, "dilation": tuple(a.dilation)}
    if pads is None:
        return Module(f"MaxPool{dims}d", ins, out, functions=(Function(f"F.max_pool{dims}d", ins, out),),
                      hyper=hyper)
    x = ins[0]
    padded = (*x[:2], *(n + b + e for n, (b, e) in zip(x[2:], pads)))
    inner_out = (*x[:2], *(conv_output_size(n, k, s, (0, 0), d, a.ceil_mode)
                           for n, k, s, d in zip(padded[2:], a.kernel, strides, a.dilation)))
    inner = Module(f"MaxPool{dims}d", (padded,), inner_out,
                   functions=(Function(f"F.max_pool{dims}d", (padded,), inner_out),), hyper=hyper)
    return Module("Padded", ins, out, children=(inner,))


def _avgpool(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    dims = kind.spatial_dims or 2
    return Module(f"AvgPool{dims}d", ins, out, functions=(Function(f"F.avg_pool{dims}d", ins, out),),
                  hyper={"kernel_size": tuple(a.kernel)})


def _lppool(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    """F.lp_poolNd: avg_poolNd(x.pow(p)), then (sign(out) * relu(abs(out))).mul(k).pow(1/p)."""
    dims = kind.spatial_dims or 2
    return Module(f"LPPool{dims}d", ins, out, functions=(
        Function(f"F.avg_pool{dims}d", ins, out),
        Function("F.relu", (out,), out),
        Function("Tensor.mul", (out,), out, {"scalar": True}),
    ), hyper={"kernel_size": tuple(a.kernel)})


def _adaptive(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    assert isinstance(kind, pool.AdaptivePoolNd)
    dims = kind.spatial_dims or 2
    op = "Max" if kind.op == "max" else "Avg"
    return Module(f"Adaptive{op}Pool{dims}d", ins, out,
                  functions=(Function(f"F.adaptive_{op.lower()}_pool{dims}d", ins, out),))


def _subsampling(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    channels = ins[0][1]
    return Module("Subsampling", ins, out, (("weight", channels), ("bias", channels)),
                  functions=(Function("F.avg_pool2d", ins, out),))


def _roi(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    """RoIPool: per image and box, F.adaptive_max_pool2d of the box's crop to T x T."""
    n, channels, height, width = ins[0]
    calls = []
    for _ in range(n):
        for y1, y2, x1, x2 in roi_crops(height, width, a.rois, a.spatial_scale):
            crop = (1, channels, y2 - y1 + 1, x2 - x1 + 1)
            calls.append(Function("F.adaptive_max_pool2d", (crop,), (1, channels, a.output_size, a.output_size)))
    return Module("RoIPool", ins, out, functions=tuple(calls))


def roi_crops(height: int, width: int, rois: int, scale: float) -> list[tuple[int, int, int, int]]:
    """(y1, y2, x1, x2), inclusive, of the fixed boxes RoIPool's torch module crops: `rois`
    boxes of half the map along its diagonal (layers.pool.even_boxes), mapped to image coordinates
    and back with round(v * scale), clamped to the map."""
    crops = []
    for box in pool.even_boxes(height, width, rois):
        x1, y1, x2, y2 = (round(v / scale * scale) for v in box)
        x1, x2 = min(max(x1, 0), width - 1), min(max(x2, 0), width - 1)
        y1, y2 = min(max(y1, 0), height - 1), min(max(y2, 0), height - 1)
        crops.append((y1, y2, x1, x2))
    return crops


# -- upsampling, linear, plumbing -----------------------------------------------------------------


def _upsample(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    """nn.Upsample(size=...) or (scale_factor=(float, ...)): F.interpolate."""
    info: dict[str, Any]
    if a.size is not None:
        info = {"size": tuple(out[2:])}
    else:
        info = {"scale": tuple(float(r) for r in upsample.per_axis(kind, "scale", a.scale, ins[0]))}
    return Module("Upsample", ins, out, functions=(Function("F.interpolate", ins, out, info),),
                  hyper={"mode": a.mode})


def _linear(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    features = ins[0][-1]
    if isinstance(kind, linear.Rbf):
        return Module("Rbf", ins, out, (("weight", features * a.out),))
    params = (("weight", features * a.out),) + ((("bias", a.out),) if a.bias else ())
    return Module("Linear", ins, out, params, hyper={"in_features": features, "out_features": a.out,
                                                     "bias": a.bias})


def _dropout(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    if isinstance(kind, linear.StochasticDepth):
        return Module("StochasticDepth", ins, out)
    assert isinstance(kind, linear.DropoutKind)
    return Module(kind.torch_name, ins, out, hyper={"p": a.p})


def _matmul(kind: LayerKind, a: Attrs, ins: tuple[Shape, ...], out: Shape) -> Module:
    return Module("MatMul", ins, out, functions=(Function("torch.matmul", ins, out),))


#: custom modules and torch.nn classes without parameters or functions any peer counts
_CUSTOM = {
    "add": "Add", "multiply": "Multiply", "concat": "Concat", "flatten": "Flatten",
    "reshape": "Reshape", "permute": "Permute", "pad": "Pad", "crop": "Crop", "center_crop": "Crop",
    "slice": "Slice", "channel_shuffle": "ChannelShuffle", "identity": "Identity",
    "global_avgpool": "GlobalPool", "global_maxpool": "GlobalPool", "channel_maxpool": "ChannelMaxPool",
    "bed_of_nails": "BedOfNails", "pixel_shuffle": "PixelShuffle", "pixel_unshuffle": "PixelUnshuffle",
    "space_to_depth": "SpaceToDepth", "depth_to_space": "DepthToSpace",
}


def _custom_name(kind: LayerKind) -> str:
    if isinstance(kind, upsample.MaxUnpoolNd):
        return "MaxUnpool"
    return _CUSTOM.get(kind.name, type(kind).__name__)


Builder = Callable[[Any, Attrs, tuple[Shape, ...], Shape], Module]

_BUILDERS: tuple[tuple[type[LayerKind], Builder], ...] = (
    (conv.LocallyConnectedNd, _locally_connected),
    (conv.PartialConv2d, _partial),
    (conv.DeformConv2d, _deform),
    (conv.ConvNd, _conv),
    (conv.ConvTransposeNd, _conv_transpose),
    (norm.BatchNormNd, _batchnorm),  # InstanceNormNd too
    (norm.LayerNorm, _layernorm),
    (norm.GroupNorm, _groupnorm),
    (norm.LocalResponseNorm, _lrn),
    (activation.Activation, _activation),
    (pool.MaxPoolNd, _maxpool),
    (pool.AvgPoolNd, _avgpool),
    (pool.LPPoolNd, _lppool),
    (pool.AdaptivePoolNd, _adaptive),
    (pool.Subsampling2d, _subsampling),
    (pool.RoIPool, _roi),
    (upsample.Upsample, _upsample),
    (linear.Linear, _linear),  # Rbf too
    (linear.DropoutKind, _dropout),  # StochasticDepth too
    (merge.MatMul, _matmul),
)
