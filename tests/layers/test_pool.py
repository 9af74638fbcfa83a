"""Pooling kinds against torch (shape, params, buffers, MACs via fvcore) and their own rules."""

from __future__ import annotations

from fractions import Fraction
from math import prod

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers import lookup
from cnncalc.layers.base import Window
from cnncalc.window import adaptive_window
from tests.conftest import needs_fvcore, needs_torch
from tests.oracle import assert_layer_contract, assert_layer_matches_torch, case_id

CASES = [
    ("maxpool1d", {"kernel": 3, "stride": 2}, [(2, 4, 11)]),
    ("maxpool1d", {"kernel": 2, "ceil_mode": True}, [(2, 4, 7)]),
    ("maxpool1d", {"kernel": 3, "padding": 1, "dilation": 2}, [(1, 2, 10)]),
    ("maxpool2d", {"kernel": 2}, [(2, 3, 8, 8)]),
    ("maxpool2d", {"kernel": 3, "stride": 2, "padding": 1}, [(1, 4, 15, 15)]),
    ("maxpool2d", {"kernel": 3, "stride": 2, "ceil_mode": True}, [(1, 2, 8, 8)]),
    ("maxpool2d", {"kernel": 3, "stride": 3, "padding": 1, "ceil_mode": True}, [(1, 1, 5, 5)]),
    ("maxpool2d", {"kernel": [3, 2], "stride": [2, 1], "padding": [1, 0], "dilation": [2, 1]},
     [(1, 2, 9, 7)]),
    ("maxpool3d", {"kernel": 2}, [(1, 2, 4, 6, 6)]),
    ("maxpool3d", {"kernel": [1, 3, 3], "stride": [1, 2, 2], "padding": [0, 1, 1]}, [(1, 2, 3, 7, 7)]),
    ("avgpool1d", {"kernel": 4, "stride": 2, "padding": 2, "count_include_pad": False}, [(2, 3, 9)]),
    ("avgpool2d", {"kernel": 2}, [(2, 3, 6, 6)]),
    ("avgpool2d", {"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}, [(1, 2, 8, 8)]),
    ("avgpool2d", {"kernel": [2, 4], "stride": [1, 2], "count_include_pad": False, "padding": [1, 2]},
     [(1, 2, 5, 9)]),
    ("avgpool3d", {"kernel": [2, 2, 2], "stride": 1}, [(1, 2, 3, 4, 5)]),
    ("lppool1d", {"norm_type": 2, "kernel": 3}, [(2, 3, 10)]),
    ("lppool2d", {"norm_type": 3, "kernel": 2, "stride": 1}, [(1, 2, 5, 5)]),
    ("lppool2d", {"norm_type": 2, "kernel": [3, 2], "ceil_mode": True}, [(1, 2, 7, 7)]),
    ("lppool3d", {"norm_type": 1, "kernel": 2}, [(1, 2, 4, 4, 4)]),
    ("adaptive_avgpool1d", {"output_size": 4}, [(2, 3, 10)]),
    ("adaptive_avgpool2d", {"output_size": 1}, [(2, 8, 7, 7)]),
    ("adaptive_avgpool2d", {"output_size": [3, 7]}, [(1, 2, 5, 14)]),
    ("adaptive_avgpool2d", {"output_size": 6}, [(1, 2, 4, 4)]),
    ("adaptive_avgpool3d", {"output_size": [1, 2, 3]}, [(1, 2, 4, 5, 6)]),
    ("adaptive_maxpool1d", {"output_size": 3}, [(2, 3, 8)]),
    ("adaptive_maxpool2d", {"output_size": 2}, [(1, 4, 7, 7)]),
    ("adaptive_maxpool3d", {"output_size": 2}, [(1, 2, 4, 5, 6)]),
    ("global_avgpool", {}, [(2, 8, 5)]),
    ("global_avgpool", {}, [(2, 8, 7, 7)]),
    ("global_avgpool", {}, [(1, 4, 3, 4, 5)]),
    ("global_maxpool", {}, [(2, 8, 7, 7)]),
    ("global_maxpool", {}, [(1, 4, 3, 4, 5)]),
    ("roi_pool", {"output_size": 7, "rois": 4, "spatial_scale": 0.0625}, [(2, 8, 14, 14)]),
    ("roi_pool", {"output_size": 2}, [(1, 3, 5, 6)]),
    ("roi_pool", {"output_size": 3, "rois": 3}, [(2, 2, 2, 3)]),
    ("channel_maxpool", {"pieces": 2}, [(2, 8, 5, 5)]),
    ("channel_maxpool", {"pieces": 4}, [(1, 8, 10)]),
    ("maxout", {"pieces": 3}, [(4, 12)]),
    ("maxpool2d", {"kernel": 3, "stride": 2, "padding": "same"}, [(1, 4, 74, 74)]),
    ("maxpool2d", {"kernel": 3, "stride": 2, "padding": "same"}, [(1, 4, 147, 147)]),
    ("maxpool2d", {"kernel": 3, "stride": 2, "padding": "same", "ceil_mode": True}, [(1, 4, 37, 38)]),
    ("maxpool2d", {"kernel": 2, "stride": 2, "padding": [[0, 1], [1, 0]], "ceil_mode": True}, [(1, 2, 7, 8)]),
    ("maxpool2d", {"kernel": 3, "padding": "valid"}, [(1, 2, 7, 8)]),
    ("maxpool1d", {"kernel": 4, "stride": 3, "padding": [[3, 0]]}, [(1, 2, 11)]),
    ("subsampling2d", {"kernel": 2}, [(2, 6, 28, 28)]),
    ("subsampling2d", {"kernel": [2, 3], "stride": 1}, [(1, 3, 5, 7)]),
]


@needs_fvcore
@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_matches_torch(kind, attrs, shapes)


@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_contract(kind: str, attrs: dict, shapes: list) -> None:
    """FLOPs use known categories and are non-negative; one window per output spatial axis."""
    assert_layer_contract(kind, attrs, shapes)


def analyse(kind: str, attrs: dict, shape: tuple[int, ...]) -> tuple:
    layer = lookup(kind)
    a = layer.make_attrs(attrs)
    out = layer.shape(a, [shape])
    return out, layer.flops(a, [shape], out), layer.window(a, [shape], out)


def test_max_and_avg_pool_flops() -> None:
    out, flops, _ = analyse("maxpool2d", {"kernel": 2}, (1, 1, 4, 4))
    assert out == (1, 1, 2, 2) and flops == {"pool": 3 * 4}
    _, flops, _ = analyse("avgpool2d", {"kernel": 2}, (1, 1, 4, 4))
    assert flops == {"pool": 4 * 4}
    _, flops, _ = analyse("lppool1d", {"kernel": 3}, (1, 1, 9))
    assert flops == {"pool": 6 * 3}


def test_adaptive_flops_sum_exact_windows() -> None:
    out, flops, _ = analyse("adaptive_avgpool2d", {"output_size": [3, 2]}, (2, 3, 5, 7))
    reads = 0
    for i in range(3):
        for j in range(2):
            h0, h1 = adaptive_window(5, 3, i)
            w0, w1 = adaptive_window(7, 2, j)
            reads += (h1 - h0) * (w1 - w0)
    assert flops == {"pool": 2 * 3 * reads}
    _, flops, _ = analyse("adaptive_maxpool2d", {"output_size": [3, 2]}, (2, 3, 5, 7))
    assert flops == {"pool": 2 * 3 * (reads - 6)}


def test_global_pool_flops_and_shape() -> None:
    out, flops, windows = analyse("global_avgpool", {}, (2, 8, 7, 7))
    assert out == (2, 8, 1, 1) and flops == {"pool": 2 * 8 * 49}
    assert windows == (Window(7, 7), Window(7, 7))
    _, flops, _ = analyse("global_maxpool", {}, (2, 8, 7, 7))
    assert flops == {"pool": 2 * 8 * 48}


def test_windows() -> None:
    _, _, windows = analyse("maxpool2d", {"kernel": 3, "stride": 2, "padding": 1}, (1, 1, 9, 9))
    assert windows == (Window(3, 2, 1, 1),) * 2
    _, _, windows = analyse("maxpool1d", {"kernel": 2}, (1, 1, 9))
    assert windows == (Window(2, 2),)
    _, _, windows = analyse("adaptive_avgpool2d", {"output_size": [4, 3]}, (1, 1, 8, 5))
    assert windows == (Window(2, 2), Window(3, Fraction(5, 3)))
    assert analyse("roi_pool", {"output_size": 2}, (1, 1, 8, 8))[2] is None
    assert analyse("channel_maxpool", {"pieces": 2}, (1, 4, 8, 8))[2] == (Window(),) * 2


def test_stride_defaults_to_kernel() -> None:
    assert analyse("maxpool2d", {"kernel": 3}, (1, 1, 9, 9))[0] == (1, 1, 3, 3)
    assert analyse("avgpool2d", {"kernel": 3, "stride": 1}, (1, 1, 9, 9))[0] == (1, 1, 7, 7)


def test_roi_pool_shape() -> None:
    out, flops, _ = analyse("roi_pool", {"output_size": 7, "rois": 128}, (2, 256, 14, 14))
    assert out == (256, 256, 7, 7)
    assert flops == {"pool": (2 * 2 - 1) * prod(out)}


def test_kernel_larger_than_padded_input() -> None:
    with pytest.raises(ShapeError, match=r"kernel 7 > padded input 5 \(5 \+ 0 \+ 0\)"):
        analyse("maxpool2d", {"kernel": 7}, (1, 1, 5, 5))


def test_padding_more_than_half_kernel() -> None:
    with pytest.raises(SpecError, match="padding 2 must be at most half the kernel 3"):
        analyse("maxpool2d", {"kernel": 3, "padding": 2}, (1, 1, 8, 8))


def test_wrong_rank() -> None:
    with pytest.raises(ShapeError, match=r"maxpool2d expects a 4-d input \[N, C, H, W\], found shape \[1, 3, 8\]"):
        analyse("maxpool2d", {"kernel": 2}, (1, 3, 8))
    with pytest.raises(ShapeError, match=r"global_avgpool needs spatial axes"):
        analyse("global_avgpool", {}, (1, 3))


def test_channel_maxpool_needs_divisible_channels() -> None:
    with pytest.raises(ShapeError, match="pieces must divide channels, but 3 does not divide 8"):
        analyse("channel_maxpool", {"pieces": 3}, (1, 8, 4, 4))


@needs_torch
@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(1, 12), kernel=st.integers(1, 5), stride=st.integers(1, 4),
    padding=st.integers(0, 2), dilation=st.integers(1, 3), ceil=st.booleans(),
)
def test_maxpool1d_shape_property(size: int, kernel: int, stride: int, padding: int,
                                  dilation: int, ceil: bool) -> None:
    """Whenever torch accepts a max pool, our shape equals its; whenever we reject it, so does torch."""
    import torch

    attrs = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation,
             "ceil_mode": ceil}
    try:
        ours = analyse("maxpool1d", attrs, (1, 1, size))[0]
    except (ShapeError, SpecError):
        ours = None
    try:
        pool = torch.nn.MaxPool1d(kernel, stride, padding, dilation, ceil_mode=ceil)
        theirs = tuple(pool(torch.zeros(1, 1, size)).shape)
    except RuntimeError:
        theirs = None
    assert ours == theirs



@needs_torch
def test_ceil_mode_overhanging_kernel() -> None:
    """In ceil mode torch keeps a window that starts inside the input and overhangs its end."""
    import torch

    theirs = tuple(torch.nn.MaxPool1d(2, 2, ceil_mode=True)(torch.zeros(1, 1, 1)).shape)
    assert analyse("maxpool1d", {"kernel": 2, "ceil_mode": True}, (1, 1, 1))[0] == theirs == (1, 1, 1)


def test_lenet_subsampling_has_two_parameters_per_map() -> None:
    layer = lookup("subsampling2d")
    a = layer.make_attrs({"kernel": 2})
    out = layer.shape(a, [(1, 6, 28, 28)])
    assert out == (1, 6, 14, 14)
    assert layer.params(a, [(1, 6, 28, 28)], out).params == 12  # LeCun et al. 1998: S2
    flops = layer.flops(a, [(1, 6, 28, 28)], out)
    assert flops["pool"] + flops["bias"] == 5_880  # S2's 5,880 connections: (4 + 1) per unit
    assert layer.window(a, [(1, 6, 28, 28)], out) == (Window(2, 2), Window(2, 2))


@needs_torch
def test_subsampling_sums_the_window() -> None:
    import torch

    layer = lookup("subsampling2d")
    a = layer.make_attrs({"kernel": 2})
    module = layer.torch_module(a, [(1, 2, 4, 4)], (1, 2, 2, 2))
    with torch.no_grad():
        module.weight.copy_(torch.tensor([2.0, 3.0]))
        module.bias.copy_(torch.tensor([1.0, -1.0]))
    x = torch.arange(32.0).reshape(1, 2, 4, 4)
    brute = torch.tensor([[x[0, c, i:i + 2, j:j + 2].sum() for j in (0, 2)] for c in (0, 1) for i in (0, 2)])
    expected = brute.reshape(2, 2, 2) * torch.tensor([2.0, 3.0]).view(2, 1, 1) + torch.tensor([1.0, -1.0]).view(2, 1, 1)
    assert torch.allclose(module(x)[0], expected)


@needs_torch
def test_tf_same_max_pool_pads_with_minus_infinity_at_the_end() -> None:
    """TensorFlow's SAME max pool: out = ceil(n / stride), the odd padding at the end, -inf."""
    import torch

    layer = lookup("maxpool2d")
    a = layer.make_attrs({"kernel": 3, "stride": 2, "padding": "same"})
    ins = [(1, 1, 4, 4)]
    out = layer.shape(a, ins)
    assert out == (1, 1, 2, 2)
    assert layer.window(a, ins, out) == (Window(3, 2, 1, 0), Window(3, 2, 1, 0))  # pads (0, 1)
    x = -torch.arange(16.0).reshape(1, 1, 4, 4)  # all <= 0: a zero pad would win the max
    y = layer.torch_module(a, ins, out)(x)
    brute = torch.tensor([[max(x[0, 0, i:i + 3, j:j + 3].flatten().tolist()) for j in (0, 2)] for i in (0, 2)])
    assert torch.equal(y[0, 0], brute)


def test_torch_half_kernel_rule_only_binds_symmetric_padding() -> None:
    with pytest.raises(SpecError, match="maxpool2d padding 2 must be at most half the kernel 3"):
        lookup("maxpool2d").make_attrs({"kernel": 3, "padding": 2})
    lookup("maxpool2d").make_attrs({"kernel": 3, "padding": [[2, 0], [0, 2]]})  # explicit -inf pad
