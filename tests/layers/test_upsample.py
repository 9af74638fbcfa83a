"""Upsampling kinds against torch, and their FLOP and window rules."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers import lookup
from cnncalc.layers.base import Window
from tests.conftest import needs_fvcore, needs_torch
from tests.oracle import assert_layer_contract, assert_layer_matches_torch, case_id

CASES = [
    ("upsample", {"scale": 2}, [(1, 3, 4, 5)]),
    ("upsample", {"scale": [2, 3]}, [(2, 2, 3, 3)]),
    ("upsample", {"size": [7, 9]}, [(1, 2, 4, 5)]),
    ("upsample", {"scale": 3}, [(1, 2, 5)]),
    ("upsample", {"scale": [1, 2, 2]}, [(1, 2, 3, 4, 4)]),
    ("upsample", {"mode": "linear", "scale": 2, "align_corners": True}, [(1, 2, 6)]),
    ("upsample", {"mode": "bilinear", "scale": 2}, [(1, 3, 4, 4)]),
    ("upsample", {"mode": "bilinear", "size": [5, 11], "align_corners": True}, [(1, 2, 4, 4)]),
    ("upsample", {"mode": "bicubic", "scale": [2, 4]}, [(1, 2, 3, 3)]),
    ("upsample", {"mode": "trilinear", "scale": 2}, [(1, 2, 2, 3, 4)]),
    ("bed_of_nails", {"scale": 2}, [(1, 3, 4, 5)]),
    ("bed_of_nails", {"scale": [2, 3]}, [(2, 2, 3, 3)]),
    ("bed_of_nails", {"scale": 4}, [(1, 2, 5)]),
    ("bed_of_nails", {}, [(1, 2, 2, 3, 3)]),
    ("max_unpool1d", {"indices": "pool", "kernel": 2}, [(2, 3, 5)]),
    ("max_unpool2d", {"indices": "pool", "kernel": 2}, [(1, 4, 3, 4)]),
    ("max_unpool2d", {"indices": "pool", "kernel": 3, "stride": 2, "padding": 1}, [(1, 2, 4, 4)]),
    ("max_unpool2d", {"indices": "pool", "kernel": 2, "output_size": [7, 8]}, [(1, 2, 3, 4)]),
    ("max_unpool3d", {"indices": "pool", "kernel": [1, 2, 2]}, [(1, 2, 3, 2, 2)]),
    ("pixel_shuffle", {"upscale": 2}, [(1, 8, 3, 3)]),
    ("pixel_shuffle", {"upscale": 3}, [(2, 18, 2, 4)]),
    ("pixel_unshuffle", {"downscale": 2}, [(1, 2, 4, 6)]),
    ("space_to_depth", {"block": 2}, [(1, 3, 4, 6)]),
    ("space_to_depth", {"block": 4}, [(2, 1, 8, 4)]),
    ("depth_to_space", {"block": 2}, [(1, 12, 2, 3)]),
]


@needs_fvcore
@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_matches_torch(kind, attrs, shapes)


@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_contract(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_contract(kind, attrs, shapes)


def analyse(kind: str, attrs: dict, shape: tuple[int, ...]) -> tuple:
    layer = lookup(kind)
    a = layer.make_attrs(attrs)
    out = layer.shape(a, [shape])
    return out, layer.flops(a, [shape], out), layer.window(a, [shape], out)


def test_interpolation_flops() -> None:
    assert analyse("upsample", {"mode": "bilinear", "scale": 2}, (1, 1, 2, 2))[1] == {"upsample": 16 * 7}
    assert analyse("upsample", {"scale": 2}, (1, 1, 2, 2))[1] == {"upsample": 0}
    assert analyse("upsample", {"mode": "linear", "scale": 2}, (1, 1, 4))[1] == {"upsample": 8 * 3}
    assert analyse("upsample", {"mode": "trilinear", "scale": 1}, (1, 1, 2, 2, 2))[1] == {"upsample": 8 * 15}
    assert analyse("upsample", {"mode": "bicubic", "scale": 1}, (1, 1, 2, 2))[1] == {"upsample": 4 * 31}


def test_windows() -> None:
    up = Window(2, 2, transposed=True)
    assert analyse("upsample", {"scale": 2}, (1, 1, 4, 4))[2] == (up, up)
    assert analyse("upsample", {"mode": "bilinear", "scale": 2}, (1, 1, 4, 4))[2] == (
        Window(4, 2, 1, 1, transposed=True),) * 2
    assert analyse("upsample", {"mode": "bilinear", "scale": [4, 1]}, (1, 1, 4, 4))[2] == (
        Window(8, 4, 1, 2, transposed=True), Window())
    assert analyse("upsample", {"mode": "bicubic", "scale": 2}, (1, 1, 4, 4))[2] == (
        Window(8, 2, 1, 3, transposed=True),) * 2
    assert analyse("upsample", {"size": 6}, (1, 1, 4))[2] == (Window(1, Fraction(2, 3)),)
    assert analyse("upsample", {"size": 2}, (1, 1, 4))[2] == (Window(1, 2),)
    assert analyse("bed_of_nails", {"scale": 3}, (1, 1, 4))[2] == (Window(1, 3, transposed=True),)
    assert analyse("pixel_shuffle", {"upscale": 2}, (1, 4, 4, 4))[2] == (up, up)
    assert analyse("pixel_unshuffle", {"downscale": 2}, (1, 4, 4, 4))[2] == (Window(2, 2),) * 2
    assert analyse("space_to_depth", {"block": 2}, (1, 4, 4, 4))[2] == (Window(2, 2),) * 2
    assert analyse("max_unpool1d", {"indices": "p", "kernel": 3, "stride": 2, "padding": 1},
                   (1, 1, 4))[2] == (Window(3, 2, 1, 1, transposed=True),)


def test_unpool_size_is_transposed_output_size() -> None:
    out = analyse("max_unpool2d", {"indices": "p", "kernel": 3, "stride": 2, "padding": 1}, (1, 2, 4, 4))[0]
    assert out == (1, 2, 7, 7)


def test_upsample_needs_scale_or_size() -> None:
    with pytest.raises(SpecError, match="upsample needs exactly one of `scale` and `size`"):
        lookup("upsample").make_attrs({})
    with pytest.raises(SpecError, match="upsample needs exactly one of `scale` and `size`"):
        lookup("upsample").make_attrs({"scale": 2, "size": 4})
    with pytest.raises(SpecError, match="align_corners needs an interpolating mode"):
        lookup("upsample").make_attrs({"scale": 2, "align_corners": True})


def test_shape_errors() -> None:
    with pytest.raises(ShapeError, match=r"upsample mode bilinear expects a 4-d input, found shape \[1, 2, 5\]"):
        analyse("upsample", {"mode": "bilinear", "scale": 2}, (1, 2, 5))
    with pytest.raises(ShapeError, match=r"upsample `scale` has 3 values but the input \[1, 2, 5, 5\] has 2"):
        analyse("upsample", {"scale": [2, 2, 2]}, (1, 2, 5, 5))
    with pytest.raises(ShapeError, match=r"pixel_shuffle needs channels divisible by upscale\^2 = 4, found 6"):
        analyse("pixel_shuffle", {"upscale": 2}, (1, 6, 3, 3))
    with pytest.raises(ShapeError, match=r"space_to_depth needs spatial sizes divisible by block 2, found \[4, 7\]"):
        analyse("space_to_depth", {"block": 2}, (1, 3, 4, 7))
    with pytest.raises(ShapeError, match="output_size 9 must be between 6 and 7"):
        analyse("max_unpool2d", {"indices": "p", "kernel": 2, "output_size": 9}, (1, 1, 3, 3))


@needs_torch
def test_bed_of_nails_values() -> None:
    import torch

    a = lookup("bed_of_nails").make_attrs({"scale": 2})
    module = lookup("bed_of_nails").torch_module(a, [(1, 2, 3, 3)], (1, 2, 6, 6))
    x = torch.randn(1, 2, 3, 3)
    y = module(x)
    assert torch.equal(y[..., ::2, ::2], x)
    assert int((y != 0).sum()) == int((x != 0).sum())  # zeros elsewhere


@needs_torch
def test_space_depth_round_trip() -> None:
    import torch

    to_depth = lookup("space_to_depth")
    to_space = lookup("depth_to_space")
    x = torch.randn(2, 3, 4, 6)
    a = to_depth.make_attrs({"block": 2})
    y = to_depth.torch_module(a, [tuple(x.shape)], (2, 12, 2, 3))(x)
    back = to_space.torch_module(to_space.make_attrs({"block": 2}), [tuple(y.shape)], (2, 3, 4, 6))(y)
    assert torch.equal(back, x)
    # TensorFlow's channel order differs from pixel_unshuffle's, the shapes do not
    assert not torch.equal(y, torch.nn.functional.pixel_unshuffle(x, 2))
    assert y.shape == torch.nn.functional.pixel_unshuffle(x, 2).shape
