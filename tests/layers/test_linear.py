"""Linear and shape-plumbing kinds against torch, and their rules."""

from __future__ import annotations

import pytest

from cnncalc.errors import ShapeError, SpecError
from cnncalc.layers import lookup
from cnncalc.layers.base import Params, Window
from tests.conftest import needs_fvcore, needs_torch
from tests.oracle import assert_layer_contract, assert_layer_matches_torch, case_id

CASES = [
    ("linear", {"out": 10}, [(4, 32)]),
    ("linear", {"out": 7, "bias": False}, [(3, 12)]),
    ("linear", {"out": 8}, [(2, 5, 16)]),
    ("fc", {"out": 4}, [(2, 3, 4, 8)]),
    ("flatten", {}, [(2, 3, 4, 5)]),
    ("flatten", {"start_dim": 2}, [(2, 3, 4, 5)]),
    ("flatten", {"start_dim": 1, "end_dim": 2}, [(2, 3, 4, 5)]),
    ("flatten", {"start_dim": -2}, [(2, 3, 4, 5)]),
    ("reshape", {"shape": [-1]}, [(2, 3, 4, 5)]),
    ("reshape", {"shape": [4, -1]}, [(2, 3, 4, 5)]),
    ("reshape", {"shape": [3, 20]}, [(2, 3, 4, 5)]),
    ("permute", {"dims": [0, 2, 3, 1]}, [(2, 3, 4, 5)]),
    ("permute", {"dims": [0, 2, 1]}, [(2, 3, 4)]),
    ("dropout", {}, [(2, 3, 4, 5)]),
    ("dropout", {"p": 0.1, "inplace": True}, [(4, 10)]),
    ("dropout1d", {"p": 0.2}, [(2, 3, 8)]),
    ("dropout2d", {}, [(2, 3, 4, 4)]),
    ("dropout3d", {"p": 0.3}, [(1, 2, 3, 4, 4)]),
    ("identity", {}, [(2, 3, 4, 5)]),
    ("pad", {"padding": 1}, [(1, 2, 4, 5)]),
    ("pad", {"padding": [1, 2]}, [(1, 2, 4, 5)]),
    ("pad", {"padding": [[1, 2], [0, 3]], "value": 1.5}, [(1, 2, 4, 5)]),
    ("pad", {"padding": [[2, 0]], "mode": "reflect"}, [(1, 2, 5)]),
    ("pad", {"padding": [[1, 0], [2, 1]], "mode": "reflect"}, [(1, 2, 4, 5)]),
    ("pad", {"padding": [1, 2, 3], "mode": "copy"}, [(1, 2, 3, 4, 5)]),
    ("pad", {"padding": 4, "mode": "circular"}, [(1, 2, 4, 5)]),
    ("center_crop", {"size": 4}, [(1, 2, 8, 9)]),
    ("center_crop", {"size": [3, 5]}, [(1, 2, 8, 9)]),
    ("center_crop", {}, [(1, 64, 64, 64), (1, 64, 56, 56)]),
    ("center_crop", {"size": 6}, [(2, 3, 10)]),
    ("crop", {"offset": 5, "size": 4}, [(1, 2, 12, 11)]),
    ("crop", {"offset": [9, 2]}, [(1, 21, 40, 40), (1, 21, 30, 30)]),
    ("pad", {"channels": [8, 8]}, [(1, 16, 4, 4)]),
    ("pad", {"padding": 1, "channels": 3}, [(1, 2, 4, 5)]),
    ("slice", {"dim": 1, "stop": 58}, [(1, 116, 7, 7)]),
    ("slice", {"dim": 1, "start": 58}, [(1, 116, 7, 7)]),
    ("slice", {"dim": 2, "step": 2}, [(2, 16, 32, 32)]),
    ("slice", {"dim": 3, "start": 1, "stop": 6, "step": 2}, [(2, 3, 4, 7)]),
    ("slice", {"dim": 1, "start": 2, "stop": 5}, [(3, 8)]),
    ("stochastic_depth", {"p": 0.2}, [(2, 3, 4, 4)]),
    ("stochastic_depth", {"p": 0.1, "mode": "batch"}, [(2, 8)]),
    ("channel_shuffle", {"groups": 2}, [(1, 8, 3, 3)]),
    ("channel_shuffle", {"groups": 3}, [(2, 12, 5)]),
    ("rbf", {"out": 10}, [(2, 84)]),
    ("rbf", {"out": 3}, [(2, 4, 6)]),
]


@needs_fvcore
@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_matches_torch(kind, attrs, shapes)


@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_contract(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_contract(kind, attrs, shapes)


def analyse(kind: str, attrs: dict, *shapes: tuple[int, ...]) -> tuple:
    layer = lookup(kind)
    a = layer.make_attrs(attrs)
    ins = list(shapes)
    out = layer.shape(a, ins)
    return out, layer.params(a, ins, out), layer.macs(a, ins, out), layer.flops(a, ins, out), layer.window(a, ins, out)


def test_linear_counts_over_the_last_axis() -> None:
    out, params, macs, flops, window = analyse("linear", {"out": 8}, (2, 5, 16))
    assert out == (2, 5, 8) and params == Params(16 * 8 + 8)
    assert macs == 2 * 5 * 16 * 8
    assert flops == {"linear": 2 * macs, "bias": 2 * 5 * 8}
    assert window is None
    assert analyse("linear", {"out": 8, "bias": False}, (2, 16))[3] == {"linear": 2 * 2 * 16 * 8, "bias": 0}


def test_no_receptive_field_through_reshaping() -> None:
    for kind, attrs in (("flatten", {}), ("reshape", {"shape": [-1]}), ("permute", {"dims": [0, 2, 3, 1]})):
        assert analyse(kind, attrs, (1, 2, 3, 4))[4] is None


def test_pad_and_crop_windows_shift_coordinates() -> None:
    assert analyse("pad", {"padding": [[1, 2], [0, 3]]}, (1, 2, 4, 5))[4] == (Window(1, 1, 1, 1), Window())
    out, *_, window = analyse("center_crop", {}, (1, 64, 64, 64), (1, 64, 56, 57))
    assert out == (1, 64, 56, 57)
    assert window == (Window(1, 1, 1, -4), Window(1, 1, 1, -3))
    assert analyse("dropout", {}, (1, 2, 3, 3))[4] == (Window(), Window())


@needs_torch
def test_center_crop_keeps_the_centre() -> None:
    import torch

    layer = lookup("center_crop")
    a = layer.make_attrs({"size": 2})
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    y = layer.torch_module(a, [(1, 1, 4, 4)], (1, 1, 2, 2))(x)
    assert y.flatten().tolist() == [5.0, 6.0, 9.0, 10.0]


def test_reshape_errors() -> None:
    with pytest.raises(ShapeError, match=r"reshape cannot turn \[512, 7, 7\] \(25088 elements per sample\) "
                                         r"into \[4096\] \(4096 elements\)"):
        analyse("reshape", {"shape": [4096]}, (1, 512, 7, 7))
    with pytest.raises(ShapeError, match=r"into \[-1, 3\] \(10 is not a multiple of 3\)"):
        analyse("reshape", {"shape": [-1, 3]}, (1, 10))
    with pytest.raises(SpecError, match=r"at most one -1, found \[-1, -1\]"):
        lookup("reshape").make_attrs({"shape": [-1, -1]})


def test_flatten_errors() -> None:
    with pytest.raises(ShapeError, match="flatten must keep the batch axis"):
        analyse("flatten", {"start_dim": 0}, (2, 3))
    with pytest.raises(ShapeError, match=r"flatten end_dim 5 is out of range for shape \[2, 3, 4\]"):
        analyse("flatten", {"end_dim": 5}, (2, 3, 4))


def test_permute_errors() -> None:
    with pytest.raises(SpecError, match="permute must keep the batch axis first: dims\\[0\\] is 2"):
        lookup("permute").make_attrs({"dims": [2, 0, 1]})
    with pytest.raises(SpecError, match=r"permutation of 0..2, found \[0, 1, 1\]"):
        lookup("permute").make_attrs({"dims": [0, 1, 1]})
    with pytest.raises(ShapeError, match=r"permute dims \[0, 2, 1\] name 3 axes, the input \[1, 2, 3, 4\] has 4"):
        analyse("permute", {"dims": [0, 2, 1]}, (1, 2, 3, 4))


def test_pad_errors() -> None:
    with pytest.raises(ShapeError, match="reflect padding 5 must be smaller than input 5"):
        analyse("pad", {"padding": 5, "mode": "reflect"}, (1, 1, 5, 5))
    with pytest.raises(ShapeError, match="circular padding 6 must be at most input 5"):
        analyse("pad", {"padding": 6, "mode": "wrap"}, (1, 1, 5, 5))
    with pytest.raises(SpecError, match="attribute `padding`: expected explicit sizes, found `same`"):
        lookup("pad").make_attrs({"padding": "same"})
    with pytest.raises(SpecError, match="`value` needs mode constant, not reflect"):
        lookup("pad").make_attrs({"padding": 1, "mode": "reflect", "value": 1})


def test_center_crop_errors() -> None:
    with pytest.raises(ShapeError, match=r"center_crop size 64 > input 56 on spatial axis 0 of \[1, 3, 56, 56\]"):
        analyse("center_crop", {"size": 64}, (1, 3, 56, 56))
    with pytest.raises(SpecError, match="center_crop needs `size` or a second input"):
        analyse("center_crop", {}, (1, 3, 56, 56))


def test_dropout_errors() -> None:
    with pytest.raises(SpecError, match="dropout probability must be between 0 and 1, found 1.5"):
        lookup("dropout").make_attrs({"p": 1.5})
    with pytest.raises(ShapeError, match=r"dropout2d expects a 4-d input, found shape \[2, 3, 4\]"):
        analyse("dropout2d", {}, (2, 3, 4))


def test_new_plumbing_windows() -> None:
    assert analyse("crop", {"offset": [9, 2], "size": 3}, (1, 2, 20, 20))[4] == (Window(1, 1, 1, -9), Window(1, 1, 1, -2))
    assert analyse("slice", {"dim": 3, "start": 1, "step": 2}, (1, 2, 8, 8))[4] == (Window(), Window(1, 2, 1, -1))
    assert analyse("slice", {"dim": 1, "stop": 1}, (1, 2, 8, 8))[4] == (Window(), Window())
    assert analyse("slice", {"dim": 1, "stop": 1}, (1, 2))[4] is None
    assert analyse("pad", {"channels": [1, 2]}, (1, 2, 8, 8))[0] == (1, 5, 8, 8)


def test_new_plumbing_errors() -> None:
    with pytest.raises(ShapeError, match=r"crop offset 5 \+ size 4 > input 8 on spatial axis 0"):
        analyse("crop", {"offset": 5, "size": 4}, (1, 2, 8, 9))
    with pytest.raises(ShapeError, match=r"slice 4:2 is empty or outside axis 1 of size 8"):
        analyse("slice", {"start": 4, "stop": 2}, (1, 8, 3, 3))
    with pytest.raises(ShapeError, match=r"slice `dim` 4 is not an axis of \[1, 8, 3, 3\]"):
        analyse("slice", {"dim": 4}, (1, 8, 3, 3))
    with pytest.raises(ShapeError, match="channel_shuffle needs .* divisible by 3"):
        analyse("channel_shuffle", {"groups": 3}, (1, 8, 3, 3))
    with pytest.raises(SpecError, match="channel padding needs mode constant, not reflect"):
        lookup("pad").make_attrs({"channels": 1, "mode": "reflect"})


@needs_torch
def test_new_plumbing_moves_the_right_elements() -> None:
    import torch
    import torch.nn.functional as F

    x = torch.arange(2 * 6 * 4 * 5, dtype=torch.float32).reshape(2, 6, 4, 5)

    def run(kind: str, attrs: dict, *extra: torch.Tensor) -> torch.Tensor:
        layer = lookup(kind)
        a = layer.make_attrs(attrs)
        ins = [tuple(x.shape), *(tuple(e.shape) for e in extra)]
        return layer.torch_module(a, ins, layer.shape(a, ins))(x, *extra)

    assert torch.equal(run("slice", {"dim": 1, "start": 3}), x.chunk(2, dim=1)[1])
    assert torch.equal(run("slice", {"dim": 3, "step": 2}), x[:, :, :, ::2])
    assert torch.equal(run("crop", {"offset": [1, 2], "size": [2, 3]}), x[:, :, 1:3, 2:5])
    assert torch.equal(run("crop", {"offset": 1}, torch.zeros(1, 1, 2, 2)), x[:, :, 1:3, 1:3])
    assert torch.equal(run("pad", {"channels": [2, 1]}), F.pad(x, (0, 0, 0, 0, 2, 1)))
    shuffled = run("channel_shuffle", {"groups": 2})  # ShuffleNet: [a0 b0 a1 b1 a2 b2]
    assert torch.equal(shuffled[:, [0, 2, 4]], x[:, :3]) and torch.equal(shuffled[:, [1, 3, 5]], x[:, 3:])


@needs_torch
def test_rbf_is_the_squared_euclidean_distance() -> None:
    import torch

    layer = lookup("rbf")
    module = layer.torch_module(layer.make_attrs({"out": 10}), [(3, 84)], (3, 10)).double()
    x = torch.randn(3, 84, dtype=torch.float64)
    brute = ((x[:, None, :] - module.weight[None, :, :]) ** 2).sum(-1)
    assert torch.allclose(module(x), brute)
    out, params, macs, flops, window = analyse("rbf", {"out": 10}, (3, 84))
    assert (out, params, macs, window) == ((3, 10), Params(840), 3 * 840, None)
