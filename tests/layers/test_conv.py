"""Convolution kinds (conv.py) against torch: shapes, parameters and MACs counted by fvcore."""

from __future__ import annotations

from math import prod

import pytest

from cnncalc.errors import ShapeError
from cnncalc.layers import lookup
from cnncalc.layers.base import Window
from tests.conftest import needs_fvcore, needs_torch
from tests.oracle import assert_layer_contract, assert_layer_matches_torch, case_id

CONV = [
    ("conv1d", {"out": 8, "kernel": 3}, [(2, 4, 16)]),
    ("conv1d", {"out": 8, "kernel": 5, "stride": 2, "padding": 2, "dilation": 2}, [(2, 4, 17)]),
    ("conv1d", {"out": 6, "kernel": 3, "groups": 2, "padding": [[1, 2]]}, [(1, 4, 9)]),
    ("conv1d", {"out": 4, "kernel": 4, "padding": "same", "padding_mode": "reflect"}, [(1, 2, 9)]),
    ("conv1d", {"out": 4, "kernel": 3, "padding": 1, "padding_mode": "circular"}, [(1, 2, 9)]),
    ("conv2d", {"out": 16, "kernel": 3}, [(2, 3, 10, 10)]),
    ("conv2d", {"out": 16, "kernel": 7, "stride": 2, "padding": 3, "bias": False}, [(1, 3, 32, 32)]),
    ("conv2d", {"out": 8, "kernel": 3, "groups": 4, "padding": 1}, [(1, 8, 8, 8)]),
    ("conv2d", {"out": 8, "kernel": 3, "groups": 8, "padding": 1}, [(1, 8, 8, 8)]),  # depthwise
    ("conv2d", {"out": 16, "kernel": 3, "groups": 8, "stride": 2}, [(1, 8, 9, 9)]),  # multiplier 2
    ("conv2d", {"out": 4, "kernel": 3, "dilation": [2, 1], "padding": [2, 1]}, [(1, 3, 9, 9)]),
    ("conv2d", {"out": 4, "kernel": [1, 3], "padding": [0, 1]}, [(1, 3, 6, 7)]),  # asymmetric 1x3
    ("conv2d", {"out": 4, "kernel": [3, 1], "padding": [1, 0]}, [(1, 3, 6, 7)]),  # and 3x1
    ("conv2d", {"out": 4, "kernel": 3, "padding": [[0, 1], [1, 2]]}, [(1, 3, 6, 7)]),
    ("conv2d", {"out": 4, "kernel": 3, "stride": 2, "padding": "same"}, [(1, 3, 8, 9)]),
    ("conv2d", {"out": 4, "kernel": 5, "padding": "same", "dilation": 2}, [(1, 3, 11, 11)]),
    ("conv2d", {"out": 4, "kernel": 3, "padding": "valid"}, [(1, 3, 6, 7)]),
    ("conv2d", {"out": 4, "kernel": 3, "padding": 1, "padding_mode": "reflect"}, [(1, 3, 6, 7)]),
    ("conv2d", {"out": 4, "kernel": 3, "padding": 2, "padding_mode": "replicate"}, [(1, 3, 6, 7)]),
    ("conv2d", {"out": 4, "kernel": 3, "padding": [[0, 2], [1, 1]], "padding_mode": "wrap"}, [(1, 3, 6, 7)]),
    ("conv", {"out": 4, "kernel": 1}, [(3, 5, 4, 4)]),
    ("conv3d", {"out": 4, "kernel": 3}, [(1, 2, 5, 6, 6)]),
    ("conv3d", {"out": 4, "kernel": [1, 3, 3], "stride": [1, 2, 2], "padding": [0, 1, 1]}, [(1, 2, 3, 8, 8)]),
    ("conv3d", {"out": 6, "kernel": 2, "groups": 2, "padding": "same"}, [(1, 4, 4, 5, 5)]),
]
TRANSPOSED = [
    ("conv_transpose1d", {"out": 4, "kernel": 3, "stride": 2}, [(2, 6, 7)]),
    ("conv_transpose2d", {"out": 8, "kernel": 4, "stride": 2, "padding": 1}, [(1, 16, 5, 5)]),
    ("conv_transpose2d", {"out": 4, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
     [(1, 8, 4, 4)]),
    ("conv_transpose2d", {"out": 6, "kernel": 3, "groups": 2, "bias": False}, [(1, 4, 5, 5)]),
    ("conv_transpose2d", {"out": 4, "kernel": 3, "dilation": 2, "stride": [1, 2], "output_padding": [1, 1]},
     [(1, 2, 5, 5)]),
    ("deconv2d", {"out": 2, "kernel": [2, 3], "stride": [2, 1]}, [(2, 3, 3, 4)]),
    ("conv_transpose3d", {"out": 4, "kernel": 2, "stride": 2}, [(1, 2, 2, 3, 3)]),
]
LOCAL = [
    ("locally_connected1d", {"out": 4, "kernel": 3}, [(2, 3, 10)]),
    ("locally_connected1d", {"out": 4, "kernel": 3, "stride": 2, "padding": 1, "dilation": 2}, [(1, 2, 11)]),
    ("locally_connected2d", {"out": 4, "kernel": 3}, [(2, 3, 6, 6)]),
    ("locally_connected2d", {"out": 5, "kernel": [3, 2], "stride": 2, "padding": [[1, 0], [0, 1]],
                             "bias": False}, [(1, 2, 7, 6)]),
    ("locally_connected2d", {"out": 2, "kernel": 3, "padding": "same"}, [(1, 2, 5, 5)]),
]
DEFORM = [
    ("deform_conv2d", {"out": 8, "kernel": 3, "padding": 1}, [(1, 4, 6, 6)]),
    ("deform_conv2d", {"out": 4, "kernel": 3, "stride": 2, "bias": False}, [(2, 2, 7, 8)]),
    ("deform_conv2d", {"out": 6, "kernel": 3, "groups": 2, "offset_groups": 2, "padding": "same"},
     [(1, 4, 5, 5)]),
    ("deform_conv2d", {"out": 4, "kernel": [3, 2], "dilation": 2, "padding": [[2, 1], [1, 0]]}, [(1, 3, 7, 6)]),
]
# LeNet-5's C3 (LeCun et al. 1998, Table I): 16 maps over subsets of S2's 6 maps
LENET_C3 = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
            [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
            [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]
PARTIAL = [
    ("partial_conv2d", {"out": 16, "kernel": 5, "connections": LENET_C3}, [(2, 6, 14, 14)]),
    ("partial_conv2d", {"out": 3, "kernel": 3, "stride": 2, "padding": [[1, 0], [0, 1]], "bias": False,
                        "connections": [[0], [1, 2], [0, 2]]}, [(1, 3, 7, 6)]),
]
CASES = CONV + TRANSPOSED + LOCAL + DEFORM + PARTIAL


@needs_fvcore
@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_matches_torch(kind, attrs, shapes)


@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_contract(kind: str, attrs: dict, shapes: list) -> None:
    a, out, flops, windows = assert_layer_contract(kind, attrs, shapes)
    assert flops["conv"] == 2 * lookup(kind).macs(a, shapes, out)
    assert windows is not None


def analyse(kind: str, attrs: dict, shape: tuple[int, ...]) -> tuple:
    layer = lookup(kind)
    a = layer.make_attrs(attrs)
    out = layer.shape(a, [shape])
    return out, layer.params(a, [shape], out).params, layer.macs(a, [shape], out), layer.window(a, [shape], out)


def test_resnet_stem_numbers() -> None:
    out, params, macs, windows = analyse("conv2d", {"out": 64, "kernel": 7, "stride": 2, "padding": 3,
                                                    "bias": False}, (1, 3, 224, 224))
    assert out == (1, 64, 112, 112) and params == 9408 and macs == 118_013_952
    assert windows == (Window(7, 2, 1, 3),) * 2


def test_depthwise_and_transposed_counts() -> None:
    _, params, macs, _ = analyse("conv2d", {"out": 32, "kernel": 3, "groups": 32, "padding": 1}, (1, 32, 8, 8))
    assert params == 32 * 9 + 32 and macs == 32 * 64 * 9
    out, params, macs, windows = analyse("conv_transpose2d", {"out": 8, "kernel": 4, "stride": 2, "padding": 1},
                                         (1, 16, 5, 5))
    assert out == (1, 8, 10, 10) and macs == 16 * 25 * 8 * 16
    assert windows == (Window(4, 2, 1, 1, transposed=True),) * 2


def test_same_padding_window_uses_the_resolved_begin() -> None:
    assert analyse("conv2d", {"out": 1, "kernel": 4, "padding": "same"}, (1, 1, 8, 8))[3] == (Window(4, 1, 1, 1),) * 2


def test_locally_connected_and_deform_params() -> None:
    out, params, macs, _ = analyse("locally_connected2d", {"out": 4, "kernel": 3}, (1, 2, 5, 5))
    assert out == (1, 4, 3, 3) and params == 9 * 4 * 2 * 9 + 4 * 9 and macs == 4 * 9 * 2 * 9
    out, params, macs, _ = analyse("deform_conv2d", {"out": 8, "kernel": 3, "padding": 1}, (1, 4, 6, 6))
    assert params == (8 * 4 * 9 + 8) + (18 * 4 * 9 + 18)
    assert macs == 36 * (8 * 4 * 9 + 18 * 4 * 9)


def test_shape_errors() -> None:
    with pytest.raises(ShapeError, match=r"kernel 7 > padded input 5 \(5 \+ 0 \+ 0\)"):
        analyse("conv2d", {"out": 4, "kernel": 7}, (1, 3, 5, 5))
    with pytest.raises(ShapeError, match=r"kernel 9 \(dilation 4: 4\*\(3-1\)\+1 = 9\) > padded input 7"):
        analyse("conv1d", {"out": 4, "kernel": 3, "dilation": 4, "padding": 1}, (1, 3, 5))
    with pytest.raises(ShapeError, match="groups must divide input channels, but 3 does not divide 16"):
        analyse("conv2d", {"out": 6, "kernel": 3, "groups": 3}, (1, 16, 8, 8))
    with pytest.raises(ShapeError, match="groups must divide output channels, but 4 does not divide 6"):
        analyse("conv2d", {"out": 6, "kernel": 3, "groups": 4}, (1, 16, 8, 8))
    with pytest.raises(ShapeError, match="output_padding 2 must be smaller than stride 2 or dilation 1"):
        analyse("conv_transpose2d", {"out": 4, "kernel": 3, "stride": 2, "output_padding": 2}, (1, 3, 5, 5))
    with pytest.raises(ShapeError, match="reflect padding 3 must be smaller than input 3"):
        analyse("conv2d", {"out": 4, "kernel": 3, "padding": 3, "padding_mode": "reflect"}, (1, 3, 3, 3))
    with pytest.raises(ShapeError, match=r"conv3d expects a 5-d input \[N, C, D, H, W\], found shape \[1, 3, 8, 8\]"):
        analyse("conv3d", {"out": 4, "kernel": 3}, (1, 3, 8, 8))


@needs_torch
def test_deform_conv_without_offsets_is_the_plain_convolution() -> None:
    import torch

    attrs = {"out": 6, "kernel": 3, "stride": 2, "padding": [[1, 2], [0, 1]], "groups": 2,
             "dilation": [1, 2], "offset_groups": 2}
    shape = (2, 4, 9, 10)
    deform, conv = lookup("deform_conv2d"), lookup("conv2d")
    a = deform.make_attrs(attrs)
    out = deform.shape(a, [shape])
    module = deform.torch_module(a, [shape], out)
    plain_attrs = {k: v for k, v in attrs.items() if k != "offset_groups"}
    plain = conv.torch_module(conv.make_attrs(plain_attrs), [shape], out)
    inner = plain.inner if hasattr(plain, "inner") else plain
    with torch.no_grad():
        inner.weight.copy_(module.conv.weight)
        inner.bias.copy_(module.conv.bias)
        x = torch.randn(*shape)
        torch.testing.assert_close(module(x), plain(x), rtol=1e-4, atol=1e-5)


@needs_torch
def test_locally_connected_with_shared_weights_is_the_plain_convolution() -> None:
    import torch

    attrs = {"out": 3, "kernel": [3, 2], "stride": [2, 1], "padding": [[1, 0], [0, 1]], "dilation": [1, 2]}
    shape = (2, 2, 7, 6)
    local, conv = lookup("locally_connected2d"), lookup("conv2d")
    a = local.make_attrs(attrs)
    out = local.shape(a, [shape])
    module = local.torch_module(a, [shape], out)
    plain = conv.torch_module(conv.make_attrs(attrs), [shape], out)
    inner = plain.inner if hasattr(plain, "inner") else plain
    positions = prod(out[2:])
    with torch.no_grad():
        # conv weight [out, C, kh, kw] -> unfold order (C, kh, kw) per position: [L, C*K, out]
        module.weight.copy_(inner.weight.reshape(out[1], -1).t().expand(positions, -1, -1))
        module.bias.copy_(inner.bias[:, None].expand(-1, positions))
        x = torch.randn(*shape)
        torch.testing.assert_close(module(x), plain(x), rtol=1e-4, atol=1e-5)


def test_lenet_c3_has_1516_parameters_and_151600_connections() -> None:
    layer = lookup("partial_conv2d")
    a = layer.make_attrs({"out": 16, "kernel": 5, "connections": LENET_C3})
    out = layer.shape(a, [(1, 6, 14, 14)])
    assert out == (1, 16, 10, 10)
    assert layer.params(a, [(1, 6, 14, 14)], out).params == 1_516  # LeCun et al. 1998
    flops = layer.flops(a, [(1, 6, 14, 14)], out)
    assert layer.macs(a, [(1, 6, 14, 14)], out) + flops["bias"] == 151_600


@needs_torch
def test_partial_conv_equals_a_masked_full_convolution() -> None:
    import torch
    import torch.nn.functional as F

    layer = lookup("partial_conv2d")
    a = layer.make_attrs({"out": 16, "kernel": 5, "connections": LENET_C3})
    module = layer.torch_module(a, [(2, 6, 14, 14)], (2, 16, 10, 10)).double()
    weight = torch.zeros(16, 6, 5, 5, dtype=torch.float64)
    for j, (conv, row) in enumerate(zip(module.convs, LENET_C3)):
        weight[j, row] = conv.weight[0]
    bias = torch.cat([conv.bias for conv in module.convs])
    x = torch.randn(2, 6, 14, 14, dtype=torch.float64)
    assert torch.allclose(module(x), F.conv2d(x, weight, bias))


def test_partial_conv_errors() -> None:
    from cnncalc.errors import SpecError

    layer = lookup("partial_conv2d")
    with pytest.raises(SpecError, match="`connections` has 2 rows but `out` is 3"):
        layer.make_attrs({"out": 3, "kernel": 3, "connections": [[0], [1]]})
    with pytest.raises(SpecError, match=r"row 1 lists \[1, 1\]: channels must be distinct"):
        layer.make_attrs({"out": 2, "kernel": 3, "connections": [[0], [1, 1]]})
    a = layer.make_attrs({"out": 1, "kernel": 3, "connections": [[0, 4]]})
    with pytest.raises(ShapeError, match="row 0 reads channel 4, but the input has 3 channels"):
        layer.shape(a, [(1, 3, 5, 5)])
