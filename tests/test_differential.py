"""Differential property tests: hypothesis writes random valid specs (chains, residual adds,
concatenations, grouped/dilated/transposed convolutions, pooling with ceil_mode, heads) and
`verify` must find no disagreement between cnncalc's analytic numbers and torch + fvcore on any
of them (shapes, params, buffers, MACs, and whatever else verify checks).

The generator tracks [C, H, W] as it draws, so almost every spec fits; a spec that still does not
(a ShapeError) is discarded, but a SpecError means the generator wrote an invalid spec.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial
from math import gcd
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from cnncalc.analysis.shapes import infer_shapes
from cnncalc.errors import ShapeError
from cnncalc.graph import LayerGraph
from cnncalc.spec import load_graph
from tests.conftest import needs_fvcore, needs_torch

#: CNNCALC_DIFFERENTIAL_SCALE=10 runs ten times the examples (a deeper, slower search)
SCALE = float(os.environ.get("CNNCALC_DIFFERENTIAL_SCALE", "1"))
#: the suite draws the same examples on every run (CI must not go red by chance);
#: CNNCALC_DIFFERENTIAL_RANDOM=1 (`make fuzz`) searches new ones
RANDOM = os.environ.get("CNNCALC_DIFFERENTIAL_RANDOM") == "1"
MAX_CHANNELS = 16
MAX_SIZE = 40
SETTINGS = settings(deadline=None, derandomize=not RANDOM,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# -- size arithmetic (PyTorch's), used only to keep the generated specs valid -------------------


def span(kernel: int, dilation: int) -> int:
    return dilation * (kernel - 1) + 1


def window_out(n: int, k: int, s: int, pads: tuple[int, int], d: int = 1, ceil_mode: bool = False) -> int:
    padded = n + pads[0] + pads[1]
    if padded < span(k, d):
        return 0
    if ceil_mode:
        out = -(-(padded - span(k, d)) // s) + 1
        return out - 1 if (out - 1) * s >= n + pads[0] else out
    return (padded - span(k, d)) // s + 1


def same_pads(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    total = max((-(-n // s) - 1) * s + span(k, d) - n, 0)
    return total // 2, total - total // 2


def divisors(n: int) -> list[int]:
    return [g for g in range(1, n + 1) if n % g == 0]


def per_axis(values: tuple[int, int]) -> str:
    """One number when both axes agree, else [h, w]."""
    return str(values[0]) if values[0] == values[1] else f"[{values[0]}, {values[1]}]"


def flow(attrs: dict[str, object]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in attrs.items()) + "}"


def yaml_bool(value: bool) -> str:
    return "true" if value else "false"


# -- the spec under construction ------------------------------------------------------------------


@dataclass
class Spec:
    """The layers written so far, and the current tensor's name and [C, H, W]."""

    channels: int
    height: int
    width: int
    batch: int = 1
    current: str = "input"
    lines: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.channels0, self.height0, self.width0 = self.channels, self.height, self.width

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.channels, self.height, self.width

    def add(self, kind: str, attrs: dict[str, object], shape: tuple[int, int, int],
            inputs: list[str] | None = None) -> str:
        """Append a layer reading `inputs` (default: the current tensor); it becomes current."""
        name = f"l{len(self.names)}"
        body: dict[str, object] = {"name": name}
        if inputs is not None:
            body["from"] = inputs[0] if len(inputs) == 1 else "[" + ", ".join(inputs) + "]"
        elif self.current != (self.names[-1] if self.names else "input"):
            body["from"] = self.current
        body.update(attrs)
        self.lines.append(f"  - {kind}: {flow(body)}")
        self.names.append(name)
        self.current = name
        self.channels, self.height, self.width = shape
        return name

    def text(self) -> str:
        head = [
            "name: differential",
            f"input: [{self.channels0}, {self.height0}, {self.width0}]",
            f"batch: {self.batch}",
            "layers:",
        ]
        tail = [f"outputs: [{', '.join(self.outputs)}]"] if self.outputs else []
        return "\n".join(head + self.lines + tail) + "\n"


# -- layers -----------------------------------------------------------------------------------------

ACTIVATIONS = ["relu", "relu6", "leaky_relu", "silu", "gelu", "hardswish", "sigmoid", "tanh", "elu", "prelu"]


def activation(draw, spec: Spec, inplace_ok: bool = False) -> None:  # type: ignore[no-untyped-def]
    """An activation; `inplace: true` only where the caller knows nothing else reads the tensor."""
    kind = draw(st.sampled_from(ACTIVATIONS))
    attrs: dict[str, object] = {}
    if kind == "prelu":
        attrs["num_parameters"] = draw(st.sampled_from([1, spec.channels]))
    elif kind in ("relu", "relu6", "silu") and inplace_ok and spec.current != "input" and draw(st.booleans()):
        attrs["inplace"] = "true"
    elif kind == "leaky_relu" and draw(st.booleans()):
        attrs["negative_slope"] = 0.2
    elif kind == "gelu" and draw(st.booleans()):
        attrs["approximate"] = "tanh"
    spec.add(kind, attrs, spec.shape)


def norm(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    """Batch, group or instance norm. Statistics over a single value make torch raise
    ("Expected more than 1 value per channel / spatial element"), which cnncalc's shape pass does
    not reject (yet): such specs are not drawn."""
    kinds = ["batchnorm2d", "batchnorm2d"]
    if spec.height * spec.width > 1:
        kinds.append("instancenorm2d")
    groupings = [g for g in divisors(spec.channels) if spec.channels // g * spec.height * spec.width > 1]
    if groupings:
        kinds.append("groupnorm")
    kind = draw(st.sampled_from(kinds))
    attrs: dict[str, object] = {"affine": yaml_bool(draw(st.booleans()))}
    if kind == "batchnorm2d":
        if spec.batch * spec.height * spec.width > 1:
            attrs["track_running_stats"] = yaml_bool(draw(st.booleans()))
    elif kind == "groupnorm":
        attrs["groups"] = draw(st.sampled_from(groupings))
    else:
        attrs["track_running_stats"] = yaml_bool(draw(st.booleans()))
    spec.add(kind, attrs, spec.shape)


def conv_out_channels(draw, channels: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(groups, out): groups divides the input channels and out is a multiple of it."""
    groups = draw(st.sampled_from(divisors(channels)))
    out = groups * draw(st.integers(1, max(1, MAX_CHANNELS // groups)))
    return groups, out


def conv2d(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    """Any conv2d: per-axis kernel/stride/dilation, padding int, [ph, pw], [[t, b], [l, r]],
    same or valid, groups, bias, padding_mode."""
    groups, out = conv_out_channels(draw, spec.channels)
    style = draw(st.sampled_from(["int", "pair", "asym", "same", "valid"]))
    shared_pad = draw(st.integers(0, 2))
    kernels, strides, dilations, pads, sizes = [], [], [], [], []
    for n in (spec.height, spec.width):
        if style == "int":
            pad = (shared_pad, shared_pad)
        elif style == "pair":
            p = draw(st.integers(0, 2))
            pad = (p, p)
        elif style == "asym":
            pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        else:
            pad = (0, 0)
        room = n + sum(pad) if style != "same" else 99
        k = draw(st.integers(1, min(5, room)))
        d = draw(st.integers(1, 3 if k == 1 else max(1, min(3, (room - 1) // (k - 1)))))
        s = draw(st.integers(1, 3))
        if style == "same":
            pad = same_pads(n, k, s, d)
        kernels.append(k), strides.append(s), dilations.append(d), pads.append(pad)
        sizes.append(window_out(n, k, s, pad, d))
    attrs: dict[str, object] = {"out": out, "kernel": per_axis(tuple(kernels))}
    if strides != [1, 1] or draw(st.booleans()):
        attrs["stride"] = per_axis(tuple(strides))
    if style == "int":
        attrs["padding"] = shared_pad
    elif style == "pair":
        attrs["padding"] = f"[{pads[0][0]}, {pads[1][0]}]"
    elif style == "asym":
        attrs["padding"] = f"[[{pads[0][0]}, {pads[0][1]}], [{pads[1][0]}, {pads[1][1]}]]"
    else:
        attrs["padding"] = style
    if dilations != [1, 1]:
        attrs["dilation"] = per_axis(tuple(dilations))
    if groups > 1:
        attrs["groups"] = groups
    attrs["bias"] = yaml_bool(draw(st.booleans()))
    fits = all(max(p) < n for p, n in zip(pads, (spec.height, spec.width)))
    if style != "same" and any(map(sum, pads)) and fits and draw(st.integers(0, 3)) == 0:
        attrs["padding_mode"] = draw(st.sampled_from(["reflect", "replicate", "circular"]))
    spec.add("conv2d", attrs, (out, sizes[0], sizes[1]))


def depthwise(draw, spec: Spec, stride: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """groups = in = out (times a multiplier sometimes); keeps H, W when the stride is 1."""
    k = draw(st.sampled_from([1, 3, 5]))
    s = draw(st.integers(1, 2)) if stride is None else stride
    mult = draw(st.sampled_from([1, 1, 2])) if spec.channels * 2 <= MAX_CHANNELS else 1
    same = draw(st.booleans())
    pad = (k - 1) // 2
    attrs: dict[str, object] = {"out": spec.channels * mult, "kernel": k, "stride": s,
                                "padding": "same" if same else pad, "groups": spec.channels,
                                "bias": yaml_bool(draw(st.booleans()))}
    if same:
        sizes = tuple(-(-n // s) for n in (spec.height, spec.width))
    else:
        sizes = tuple(window_out(n, k, s, (pad, pad)) for n in (spec.height, spec.width))
    spec.add("conv2d", attrs, (spec.channels * mult, *sizes))


def preserving_conv(draw, spec: Spec, out: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """Stride 1, H and W kept: odd kernels with padding d*(k-1)/2, or `same` with any kernel."""
    channels = spec.channels if out is None else out
    groups = draw(st.sampled_from(divisors(gcd(spec.channels, channels))))
    d = draw(st.integers(1, 3))
    if draw(st.booleans()):
        k = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
        padding: object = "same"
    else:
        k = (draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([1, 3, 5])))
        padding = per_axis((d * (k[0] - 1) // 2, d * (k[1] - 1) // 2))
    attrs: dict[str, object] = {"out": channels, "kernel": per_axis(k), "padding": padding}
    if d > 1:
        attrs["dilation"] = d
    if groups > 1:
        attrs["groups"] = groups
    attrs["bias"] = yaml_bool(draw(st.booleans()))
    spec.add("conv2d", attrs, (channels, spec.height, spec.width))


def conv_transpose2d(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    """Per-axis kernel, stride, dilation, padding and output_padding (< max(stride, dilation))."""
    groups, out = conv_out_channels(draw, spec.channels)
    kernels, strides, dilations, pads, extras, sizes = [], [], [], [], [], []
    for n in (spec.height, spec.width):
        k = draw(st.integers(1, 4))
        s = draw(st.integers(1, 3 if n <= 12 else 1))
        d = draw(st.integers(1, 2))
        p = draw(st.integers(0, d * (k - 1)))
        op = draw(st.integers(0, max(s, d) - 1))
        size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if size < 1:
            p, size = 0, (n - 1) * s + d * (k - 1) + op + 1
        kernels.append(k), strides.append(s), dilations.append(d), pads.append(p), extras.append(op)
        sizes.append(size)
    attrs: dict[str, object] = {"out": out, "kernel": per_axis(tuple(kernels)), "stride": per_axis(tuple(strides))}
    if pads != [0, 0]:
        attrs["padding"] = per_axis(tuple(pads))
    if extras != [0, 0]:
        attrs["output_padding"] = per_axis(tuple(extras))
    if dilations != [1, 1]:
        attrs["dilation"] = per_axis(tuple(dilations))
    if groups > 1:
        attrs["groups"] = groups
    attrs["bias"] = yaml_bool(draw(st.booleans()))
    spec.add("conv_transpose2d", attrs, (out, sizes[0], sizes[1]))


def maxpool2d(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    """Max pooling: stride null or explicit, dilation, ceil_mode, padding none, int or [ph, pw]
    (at most half the kernel), asymmetric [[t, b], [l, r]], same or valid."""
    style = draw(st.sampled_from(["int", "pair", "asym", "same", "valid", "none"]))
    ceil_mode = draw(st.booleans())
    explicit_stride = draw(st.booleans())
    sides = (spec.height, spec.width)
    kernels = [draw(st.integers(1, 4)) for _ in sides]
    strides = [draw(st.integers(1, 3)) if explicit_stride else k for k in kernels]
    dilations = [draw(st.integers(1, 2)) for _ in sides]
    if style == "int":
        pads = [(min(draw(st.integers(0, 2)), *(k // 2 for k in kernels)),) * 2] * 2
    elif style == "pair":
        pads = [(p, p) for p in (draw(st.integers(0, k // 2)) for k in kernels)]
    elif style == "asym":
        pads = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in sides]
        # equal begin and end follow torch's half-window rule
        pads = [(k // 2, k // 2) if b == e and b > k // 2 else (b, e) for (b, e), k in zip(pads, kernels)]
    elif style == "same":
        pads = [same_pads(n, k, s, d) for n, k, s, d in zip(sides, kernels, strides, dilations)]
    else:
        pads = [(0, 0), (0, 0)]
    for axis, n in enumerate(sides):  # shrink the window to fit the padded input
        room = n + sum(pads[axis])
        if room < span(kernels[axis], dilations[axis]):
            dilations[axis] = 1
            kernels[axis] = min(kernels[axis], room)
            if not explicit_stride:
                strides[axis] = kernels[axis]
            if style == "same":
                pads[axis] = same_pads(n, kernels[axis], strides[axis], 1)
    attrs: dict[str, object] = {"kernel": per_axis(tuple(kernels))}
    if explicit_stride:
        attrs["stride"] = per_axis(tuple(strides))
    if style == "int":
        attrs["padding"] = pads[0][0]
    elif style == "pair":
        attrs["padding"] = f"[{pads[0][0]}, {pads[1][0]}]"
    elif style == "asym":
        attrs["padding"] = f"[[{pads[0][0]}, {pads[0][1]}], [{pads[1][0]}, {pads[1][1]}]]"
    elif style in ("same", "valid"):
        attrs["padding"] = style
    if dilations != [1, 1]:
        attrs["dilation"] = per_axis(tuple(dilations))
    if ceil_mode:
        attrs["ceil_mode"] = "true"
    sizes = [window_out(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(sides, kernels, strides, pads, dilations)]
    spec.add("maxpool2d", attrs, (spec.channels, sizes[0], sizes[1]))


def avgpool2d(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    """Average pooling: padding at most half the kernel, ceil_mode, count_include_pad."""
    ceil_mode = draw(st.booleans())
    explicit_stride = draw(st.booleans())
    kernels, strides, pads, sizes = [], [], [], []
    for n in (spec.height, spec.width):
        p = draw(st.integers(0, 2))
        k = draw(st.integers(max(1, 2 * p), min(4, n + 2 * p)))  # padding at most half the kernel
        s = draw(st.integers(1, 3)) if explicit_stride else k
        kernels.append(k), strides.append(s), pads.append(p)
        sizes.append(window_out(n, k, s, (p, p), 1, ceil_mode))
    attrs: dict[str, object] = {"kernel": per_axis(tuple(kernels))}
    if explicit_stride:
        attrs["stride"] = per_axis(tuple(strides))
    if pads != [0, 0]:
        attrs["padding"] = f"[{pads[0]}, {pads[1]}]" if pads[0] != pads[1] or draw(st.booleans()) else pads[0]
    if ceil_mode:
        attrs["ceil_mode"] = "true"
    attrs["count_include_pad"] = yaml_bool(draw(st.booleans()))
    spec.add("avgpool2d", attrs, (spec.channels, sizes[0], sizes[1]))


def adaptive_pool(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["adaptive_avgpool2d", "adaptive_avgpool2d", "adaptive_maxpool2d"]))
    size = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    spec.add(kind, {"output_size": per_axis(size)}, (spec.channels, *size))


SINGLE = {
    "conv2d": (conv2d, 6),
    "depthwise": (depthwise, 2),
    "conv_transpose2d": (conv_transpose2d, 3),
    "maxpool2d": (maxpool2d, 4),
    "avgpool2d": (avgpool2d, 3),
    "adaptive": (adaptive_pool, 1),
    "norm": (norm, 2),
    "activation": (partial(activation, inplace_ok=True), 3),
}
WEIGHTED = [name for name, (_, weight) in SINGLE.items() for _ in range(weight)]


def single(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    name = draw(st.sampled_from(WEIGHTED))
    if name == "conv_transpose2d" and max(spec.height, spec.width) > MAX_SIZE // 2:
        name = "conv2d"
    SINGLE[name][0](draw, spec)
    if spec.height > MAX_SIZE or spec.width > MAX_SIZE or spec.channels > MAX_CHANNELS:
        k = (max(1, -(-spec.height // 16)), max(1, -(-spec.width // 16)))
        spec.add("avgpool2d", {"kernel": per_axis(k)}, (spec.channels, spec.height // k[0], spec.width // k[1]))
        if spec.channels > MAX_CHANNELS:
            spec.add("conv2d", {"out": MAX_CHANNELS // 2, "kernel": 1}, (MAX_CHANNELS // 2, spec.height, spec.width))


# -- branches -------------------------------------------------------------------------------------


def shape_preserving_branch(draw, spec: Spec, start: str, out: int | None = None) -> str:  # type: ignore[no-untyped-def]
    """1-3 layers from `start` that keep H and W (and the channels unless `out` is given)."""
    spec.current = start
    channels = spec.channels
    steps = draw(st.lists(st.sampled_from(["conv", "conv", "depthwise", "norm", "act", "pool"]), min_size=1, max_size=3))
    if out is not None and "conv" not in steps:
        steps.append("conv")
    for step in steps:
        if step == "conv":
            preserving_conv(draw, spec, out)
        elif step == "depthwise":
            depthwise(draw, spec, stride=1)
        elif step == "norm":
            norm(draw, spec)
        elif step == "act":
            activation(draw, spec)
        elif draw(st.booleans()):
            spec.add("maxpool2d", {"kernel": 3, "stride": 1, "padding": 1}, spec.shape)
        else:
            spec.add("avgpool2d", {"kernel": 3, "stride": 1, "padding": 1,
                                   "count_include_pad": yaml_bool(draw(st.booleans()))}, spec.shape)
    if out is None and spec.channels != channels:  # a depthwise multiplier changed them: project back
        spec.add("conv2d", {"out": channels, "kernel": 1, "bias": "false"}, (channels, spec.height, spec.width))
    return spec.current


def residual(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    """x + f(x) with 1-3 shape-preserving layers, a three-way add, or a projection shortcut:
    a strided main branch against a 1x1 strided conv, both floor((n - 1) / s) + 1 long."""
    start, shape = spec.current, spec.shape
    variant = draw(st.sampled_from(["identity", "identity", "three", "projection"]))
    if variant == "identity":
        branch = shape_preserving_branch(draw, spec, start)
        spec.add("add", {}, shape, inputs=[branch, start] if draw(st.booleans()) else [start, branch])
    elif variant == "three":
        first = shape_preserving_branch(draw, spec, start)
        second = shape_preserving_branch(draw, spec, start)
        spec.add("add", {}, shape, inputs=[first, second, start])
    else:
        s = draw(st.integers(1, 2))
        out = draw(st.integers(1, MAX_CHANNELS))
        c, h, w = shape
        size = ((h - 1) // s + 1, (w - 1) // s + 1)
        same = draw(st.booleans())
        spec.add("conv2d", {"out": out, "kernel": 3, "stride": s, "padding": "same" if same else 1,
                            "bias": "false"}, (out, *size), inputs=[start])
        main = shape_preserving_branch(draw, spec, spec.current)
        spec.add("conv2d", {"out": out, "kernel": 1, "stride": s, "bias": yaml_bool(draw(st.booleans()))},
                 (out, *size), inputs=[start])
        if draw(st.booleans()):
            norm(draw, spec)
        spec.add("add", {}, (out, *size), inputs=[main, spec.current])
    if draw(st.booleans()):
        activation(draw, spec, inplace_ok=True)


def concatenation(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    """2-3 branches that keep H and W, joined along the channels; the input may be one of them."""
    start, (c, h, w) = spec.current, spec.shape
    count = draw(st.integers(2, 3))
    ends, channels = [], 0
    for index in range(count):
        if index == 0 and draw(st.integers(0, 3)) == 0:
            ends.append(start)
            channels += c
            continue
        spec.current, spec.channels = start, c
        out = draw(st.integers(1, max(1, MAX_CHANNELS // count)))
        ends.append(shape_preserving_branch(draw, spec, start, out=out))
        channels += spec.channels
    spec.add("concat", {}, (channels, h, w), inputs=ends)
    if channels > MAX_CHANNELS:
        spec.add("conv2d", {"out": MAX_CHANNELS // 2, "kernel": 1}, (MAX_CHANNELS // 2, h, w))


def head(draw, spec: Spec) -> None:  # type: ignore[no-untyped-def]
    """[pool] -> flatten -> linear [-> act -> linear]."""
    if spec.channels * spec.height * spec.width > 1024 or draw(st.booleans()):
        if draw(st.booleans()):
            spec.add("global_avgpool", {}, (spec.channels, 1, 1))
        else:
            adaptive_pool(draw, spec)
    spec.add("flatten", {}, spec.shape)
    out = draw(st.integers(1, 12))
    spec.add("linear", {"out": out, "bias": yaml_bool(draw(st.booleans()))}, (out, 1, 1))
    if draw(st.booleans()):
        spec.add("relu", {}, spec.shape)
        spec.add("linear", {"out": draw(st.integers(1, 10))}, spec.shape)


@st.composite
def specs(draw, branches: bool = True, heads: bool = True) -> str:  # type: ignore[no-untyped-def]
    spec = Spec(draw(st.integers(1, 8)), draw(st.integers(5, 24)), draw(st.integers(5, 24)),
                batch=draw(st.integers(1, 2)))
    stages = draw(st.integers(1, 6))
    for _ in range(stages):
        choice = draw(st.sampled_from(["single", "single", "residual", "concat"] if branches else ["single"]))
        if choice == "single":
            single(draw, spec)
        elif choice == "residual":
            residual(draw, spec)
        else:
            concatenation(draw, spec)
    if branches and len(spec.names) > 1 and draw(st.integers(0, 4)) == 0:
        # several heads: an intermediate layer is an output too
        spec.outputs = [draw(st.sampled_from(spec.names[:-1])), spec.names[-1]]
    elif heads and draw(st.booleans()):
        head(draw, spec)
    return spec.text()


# -- the property -----------------------------------------------------------------------------------


def load(tmp_path: Path, text: str) -> LayerGraph:
    path = tmp_path / "differential.yaml"
    path.write_text(text)
    graph = load_graph(str(path))
    infer_shapes(graph)
    return graph


def check(tmp_path: Path, text: str) -> None:
    """verify finds nothing on the spec `text`; the spec and every mismatch on failure."""
    from cnncalc.torch_backend.verify import verify

    mismatches = verify(load(tmp_path, text), "cpu", memory=False).mismatches
    assert mismatches == [], "\n".join([text, *map(repr, mismatches)])


def check_generated(tmp_path: Path, text: str) -> None:
    note(text)
    try:
        load(tmp_path, text)
    except ShapeError:  # the generator's size tracking missed something: not a test case
        assume(False)
    check(tmp_path, text)


@needs_torch
@needs_fvcore
@settings(SETTINGS, max_examples=max(1, round(200 * SCALE)))
@given(specs(branches=False, heads=False))
def test_chains_agree_with_torch(tmp_path, text):
    check_generated(tmp_path, text)


@needs_torch
@needs_fvcore
@settings(SETTINGS, max_examples=max(1, round(150 * SCALE)))
@given(specs())
def test_branching_specs_agree_with_torch(tmp_path, text):
    check_generated(tmp_path, text)


@needs_torch
@needs_fvcore
def test_branch_reading_padding_alone_adds_no_support(tmp_path):
    """Found by the property above (a CI run): l2's last row is all padding, so the l5 branch of
    the concat reads no input pixel for the centre unit, and its wider [0, 4] columns are not in
    the support; the field is clipped at the bottom, so the support need only lie within it."""
    check(tmp_path, """\
input: [1, 5, 5]
layers:
  - conv2d: {name: l0, out: 1, kernel: 1, padding: 0, bias: false}
  - maxpool2d: {name: l1, kernel: [3, 1], padding: 0}
  - maxpool2d: {name: l2, kernel: 1, padding: [[0, 1], [0, 0]]}
  - avgpool2d: {name: l3, kernel: 3, stride: 1, padding: 1, count_include_pad: false}
  - conv2d: {name: l4, out: 1, kernel: 1, padding: 0, bias: false}
  - conv2d: {name: l5, from: l2, out: 1, kernel: [1, 5], padding: [0, 2], bias: false}
  - concat: {name: l6, from: [l4, l5]}
outputs: [l0, l6]
""")


@needs_torch
@needs_fvcore
@pytest.mark.parametrize("size, pool", [
    (5, "{kernel: 1, padding: [[0, 0], [0, 1]], ceil_mode: true}"),
    (6, "{kernel: 3, stride: 3, padding: [[0, 2], [0, 2]], ceil_mode: true}"),
])
def test_maxpool_ceil_mode_with_asymmetric_padding(tmp_path, size, pool):
    """Found by the property above: with ceil_mode, a last window that would start in the right
    padding is dropped (PyTorch's rule, and cnncalc's shape), but the torch model applies the
    asymmetric padding explicitly in front of a ceil_mode pool, which keeps that window."""
    check(tmp_path, f"input: [1, {size}, {size}]\nlayers:\n  - maxpool2d: {pool}\n")
