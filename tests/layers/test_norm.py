"""Normalization kinds against torch (params and floating buffers included) and their rules."""

from __future__ import annotations

from math import prod

import pytest

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers import lookup
from cnncalc.layers.base import Params, Window
from tests.conftest import needs_fvcore
from tests.oracle import assert_layer_contract, assert_layer_matches_torch, case_id

CASES = [
    ("batchnorm1d", {}, [(4, 8)]),
    ("batchnorm1d", {"affine": False}, [(4, 8, 10)]),
    ("batchnorm2d", {}, [(2, 16, 5, 5)]),
    ("batchnorm2d", {"eps": 1e-3, "momentum": 0.01, "track_running_stats": False}, [(2, 6, 4, 4)]),
    ("batchnorm2d", {"affine": False, "track_running_stats": False}, [(2, 6, 4, 4)]),
    ("batchnorm3d", {}, [(2, 4, 3, 4, 5)]),
    ("layernorm", {}, [(2, 5, 16)]),
    ("layernorm", {"dims": 3}, [(2, 4, 5, 6)]),
    ("layernorm", {"shape": [5, 6]}, [(2, 4, 5, 6)]),
    ("layernorm", {"elementwise_affine": False}, [(3, 10)]),
    ("layernorm", {"bias": False, "dims": 2}, [(2, 7, 3, 3)]),
    ("groupnorm", {"groups": 4}, [(2, 16, 5, 5)]),
    ("groupnorm", {"groups": 1}, [(2, 6, 7)]),
    ("groupnorm", {"groups": 16, "affine": False}, [(2, 16, 3, 3)]),
    ("groupnorm", {"groups": 2, "eps": 1e-6}, [(1, 4, 2, 3, 4)]),
    ("instancenorm1d", {}, [(2, 3, 10)]),
    ("instancenorm2d", {"affine": True}, [(2, 3, 5, 5)]),
    ("instancenorm2d", {"track_running_stats": True}, [(2, 3, 5, 5)]),
    ("instancenorm3d", {"affine": True, "track_running_stats": True}, [(1, 2, 3, 4, 5)]),
    ("lrn", {}, [(1, 16, 7, 7)]),
    ("lrn", {"size": 3, "alpha": 2e-4, "beta": 0.5, "k": 2.0}, [(2, 8, 10)]),
    ("lrn", {"size": 2}, [(1, 4, 2, 3, 3)]),
]


@needs_fvcore
@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_matches_torch(kind, attrs, shapes)


@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_contract(kind: str, attrs: dict, shapes: list) -> None:
    a, out, flops, windows = assert_layer_contract(kind, attrs, shapes)
    assert out == shapes[0]
    assert set(flops) == {"norm"} and flops["norm"] > 0
    assert lookup(kind).macs(a, shapes, out) == 0
    assert windows is None or windows == (Window(),) * (len(out) - 2)


def analyse(kind: str, attrs: dict, shape: tuple[int, ...]) -> tuple:
    layer = lookup(kind)
    a = layer.make_attrs(attrs)
    out = layer.shape(a, [shape])
    return layer.params(a, [shape], out), layer.flops(a, [shape], out)


def test_batchnorm_counts() -> None:
    shape = (2, 64, 8, 8)
    assert analyse("batchnorm2d", {}, shape) == (Params(128, 128), {"norm": 2 * prod(shape)})
    assert analyse("batchnorm2d", {"affine": False}, shape)[0] == Params(0, 128)
    assert analyse("bn", {"track_running_stats": False}, shape)[0] == Params(128, 0)


def test_statistics_flops() -> None:
    shape = (2, 8, 4, 4)
    assert analyse("layernorm", {"dims": 3}, shape) == (Params(2 * 128), {"norm": 7 * prod(shape)})
    assert analyse("layernorm", {"bias": False}, shape) == (Params(4), {"norm": 6 * prod(shape)})
    assert analyse("groupnorm", {"groups": 2, "affine": False}, shape)[1] == {"norm": 5 * prod(shape)}
    assert analyse("instancenorm2d", {}, shape) == (Params(), {"norm": 5 * prod(shape)})
    assert analyse("instancenorm2d", {"track_running_stats": True}, shape)[1] == {"norm": 2 * prod(shape)}
    assert analyse("lrn", {"size": 5}, shape) == (Params(), {"norm": 9 * prod(shape)})


def test_groups_must_divide_channels() -> None:
    with pytest.raises(ShapeError, match="groups must divide channels, but 3 does not divide 16"):
        analyse("groupnorm", {"groups": 3}, (1, 16, 4, 4))


def test_layernorm_errors() -> None:
    with pytest.raises(SpecError, match="layernorm takes `dims` or `shape`, not both"):
        lookup("layernorm").make_attrs({"dims": 1, "shape": [4]})
    with pytest.raises(ShapeError, match=r"layernorm shape \[5, 7\] does not match the trailing axes"):
        analyse("layernorm", {"shape": [5, 7]}, (2, 4, 5, 6))
    with pytest.raises(ShapeError, match="layernorm over 3 trailing axes needs more than 3 axes"):
        analyse("layernorm", {"dims": 3}, (2, 4, 5))


def test_rank_errors() -> None:
    with pytest.raises(ShapeError, match=r"batchnorm2d expects a 4-d input, found shape \[2, 16, 5\]"):
        analyse("batchnorm2d", {}, (2, 16, 5))
    with pytest.raises(ShapeError, match=r"batchnorm1d expects a 2-d or 3-d input"):
        analyse("batchnorm1d", {}, (2, 16, 5, 5))
    with pytest.raises(ShapeError, match=r"lrn needs \[N, C, \*spatial\], found shape \[2, 16\]"):
        analyse("lrn", {}, (2, 16))


def test_bad_momentum() -> None:
    with pytest.raises(SpecError, match="momentum must be between 0.0 and 1.0, found 2.0"):
        lookup("batchnorm2d").make_attrs({"momentum": 2})
