"""Activation kinds against torch, and the per-element FLOP table."""

from __future__ import annotations

from math import prod

import pytest

from cnncalc.errors import ShapeError
from cnncalc.layers import REGISTRY, lookup
from cnncalc.layers.activation import ACTIVATION_FLOPS, Activation
from cnncalc.layers.base import Params, Window
from tests.conftest import needs_fvcore, needs_torch
from tests.oracle import assert_layer_matches_torch, case_id

X = (2, 3, 4, 5)
CASES = [
    ("relu", {}, [X]),
    ("relu", {"inplace": True}, [(2, 8)]),
    ("relu6", {}, [X]),
    ("relu6", {"inplace": True}, [(1, 2, 9)]),
    ("leaky_relu", {}, [X]),
    ("leaky_relu", {"negative_slope": 0.2, "inplace": True}, [(1, 2, 3, 3, 3)]),
    ("prelu", {}, [X]),
    ("prelu", {"num_parameters": 3, "init": 0.1}, [X]),
    ("prelu", {"num_parameters": 6}, [(4, 6)]),
    ("elu", {}, [X]),
    ("elu", {"alpha": 0.5, "inplace": True}, [(1, 2, 9)]),
    ("gelu", {}, [X]),
    ("gelu", {"approximate": "tanh"}, [(2, 5, 16)]),
    ("silu", {}, [X]),
    ("swish", {"inplace": True}, [X]),
    ("sigmoid", {}, [X]),
    ("tanh", {}, [(2, 7)]),
    ("scale", {"factor": 0.01}, [X]),
    ("hardswish", {}, [X]),
    ("hardswish", {"inplace": True}, [(1, 2, 9)]),
    ("hardsigmoid", {}, [X]),
    ("softmax", {}, [(4, 10)]),
    ("softmax", {"dim": -1}, [X]),
    ("softmax", {"dim": 2}, [X]),
    ("log_softmax", {}, [(4, 10)]),
    ("log_softmax", {"dim": -1}, [(2, 8, 5)]),
]


@needs_fvcore
@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_matches_torch(kind, attrs, shapes)


def analyse(kind: str, attrs: dict, shape: tuple[int, ...]) -> tuple:
    layer = lookup(kind)
    a = layer.make_attrs(attrs)
    out = layer.shape(a, [shape])
    return out, layer.params(a, [shape], out), layer.flops(a, [shape], out), layer.window(a, [shape], out)


@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_elementwise_contract(kind: str, attrs: dict, shapes: list) -> None:
    out, _, flops, windows = analyse(kind, attrs, shapes[0])
    assert out == shapes[0]
    layer = lookup(kind)
    key = "gelu_tanh" if attrs.get("approximate") == "tanh" else layer.name
    assert flops == {"activation": ACTIVATION_FLOPS[key][0] * prod(out)}
    if windows is not None:
        assert len(windows) == len(out) - 2


def test_every_activation_is_in_the_table() -> None:
    kinds = [k for k in REGISTRY.values() if isinstance(k, Activation)]
    assert len(kinds) == 14
    for kind in kinds:
        assert kind.name in ACTIVATION_FLOPS
        assert "flops" in kind.formulas and "activation" in kind.formulas["flops"]


def test_inplace_only_where_torch_has_it() -> None:
    with_inplace = {k.name for k in REGISTRY.values()
                    if isinstance(k, Activation) and k.attr("inplace") is not None}
    assert with_inplace == {"relu", "relu6", "leaky_relu", "elu", "silu", "hardswish", "hardsigmoid"}


def test_prelu_params() -> None:
    assert analyse("prelu", {}, (2, 64, 8, 8))[1] == Params(1)
    assert analyse("prelu", {"num_parameters": 64}, (2, 64, 8, 8))[1] == Params(64)
    with pytest.raises(ShapeError, match="prelu num_parameters must be 1 or the channel count 64, found 32"):
        analyse("prelu", {"num_parameters": 32}, (2, 64, 8, 8))


def test_softmax_dim_out_of_range() -> None:
    with pytest.raises(ShapeError, match=r"softmax dim 4 is out of range for shape \[2, 3, 4, 5\]"):
        analyse("softmax", {"dim": 4}, X)


def test_softmax_windows() -> None:
    assert analyse("softmax", {}, X)[3] == (Window(), Window())
    assert analyse("softmax", {"dim": -1}, X)[3] == (Window(), Window(9, 1, 1, 4))
    assert analyse("relu", {}, X)[3] == (Window(), Window())
    assert analyse("relu", {}, (2, 8))[3] is None


@needs_torch
def test_softmax_window_covers_the_axis() -> None:
    """The gradient of one softmax output reaches every input along the axis, and only it."""
    import torch

    x = torch.randn(1, 1, 3, 5, requires_grad=True)
    torch.softmax(x, dim=-1)[0, 0, 1, 0].backward()
    assert x.grad is not None
    touched = (x.grad[0, 0] != 0).nonzero().tolist()
    assert touched == [[1, j] for j in range(5)]


@needs_torch
def test_lenet_scaled_tanh() -> None:
    import torch

    layer = lookup("tanh")
    a = layer.make_attrs({"amplitude": 1.7159, "slope": 2 / 3})
    x = torch.linspace(-3, 3, 13).reshape(1, 13)
    assert torch.allclose(layer.torch_module(a, [(1, 13)], (1, 13))(x), 1.7159 * torch.tanh(2 / 3 * x))
    assert layer.flops(a, [(1, 13)], (1, 13)) == {"activation": 3 * 13}
    assert analyse("tanh", {"amplitude": 1.7159}, (1, 13))[2] == {"activation": 2 * 13}
