"""Merge kinds against torch (several inputs), broadcasting and matmul MACs."""

from __future__ import annotations

import pytest

from cnncalc.errors import ShapeError
from cnncalc.layers import lookup
from cnncalc.layers.base import Window
from tests.conftest import needs_fvcore, needs_torch
from tests.oracle import assert_layer_contract, assert_layer_matches_torch, case_id

CASES = [
    ("add", {}, [(1, 8, 5, 5), (1, 8, 5, 5)]),
    ("add", {}, [(2, 4, 3, 3), (2, 4, 3, 3), (2, 4, 3, 3)]),
    ("add", {}, [(2, 4, 1, 1), (2, 4, 6, 6)]),
    ("add", {}, [(2, 16), (16,)]),
    ("multiply", {}, [(2, 8, 1, 1), (2, 8, 7, 7)]),
    ("multiply", {}, [(2, 8, 7, 7), (2, 1, 7, 7), (1, 8, 1, 1)]),
    ("concat", {}, [(1, 64, 8, 8), (1, 32, 8, 8)]),
    ("concat", {}, [(1, 4, 5), (1, 2, 5), (1, 6, 5)]),
    ("concat", {"dim": -1}, [(2, 3, 4, 5), (2, 3, 4, 2)]),
    ("concat", {"dim": 2}, [(2, 3, 4, 5), (2, 3, 1, 5)]),
    ("matmul", {}, [(2, 3, 4), (2, 4, 5)]),
    ("matmul", {}, [(2, 8, 16, 32), (2, 8, 32, 16)]),
    ("matmul", {}, [(3, 4), (4, 5)]),
    ("matmul", {}, [(2, 3, 4), (4, 6)]),
    ("matmul", {}, [(4,), (4, 5)]),
]


@needs_fvcore
@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_matches_torch(kind, attrs, shapes)


@needs_torch
@pytest.mark.parametrize("shapes", [
    [(3, 4), (2, 4, 5)],  # fvcore counts prod(first) * m: it misses the broadcast batch of the 2nd
    [(2, 3, 4), (4,)],  # fvcore's matmul handle indexes shape[-2] of a 1-d second operand and fails
    [(4,), (4,)],  # the same IndexError
])
def test_matmul_shapes_fvcore_cannot_count(shapes: list) -> None:
    assert_layer_matches_torch("matmul", {}, shapes, with_fvcore=False)


@pytest.mark.parametrize("kind, attrs, shapes", CASES, ids=[case_id(c) for c in CASES])
def test_contract(kind: str, attrs: dict, shapes: list) -> None:
    assert_layer_contract(kind, attrs, shapes)


def analyse(kind: str, attrs: dict, *shapes: tuple[int, ...]) -> tuple:
    layer = lookup(kind)
    a = layer.make_attrs(attrs)
    ins = list(shapes)
    out = layer.shape(a, ins)
    return out, layer.macs(a, ins, out), layer.flops(a, ins, out), layer.window(a, ins, out)


def test_elementwise_flops() -> None:
    out, macs, flops, window = analyse("add", {}, (1, 8, 4, 4), (1, 8, 4, 4), (1, 8, 4, 4))
    assert macs == 0 and flops == {"merge": 2 * 128}
    assert window == (Window(), Window())
    out, _, flops, _ = analyse("multiply", {}, (2, 8, 1, 1), (2, 8, 7, 7))
    assert out == (2, 8, 7, 7) and flops == {"merge": 2 * 8 * 49}


def test_concat_rules() -> None:
    out, _, flops, window = analyse("concat", {}, (1, 64, 56, 56), (1, 32, 56, 56))
    assert out == (1, 96, 56, 56) and flops == {"merge": 0} and window == (Window(), Window())
    assert analyse("concat", {"dim": 3}, (1, 2, 3, 4), (1, 2, 3, 4))[3] is None


def test_matmul_macs() -> None:
    assert analyse("matmul", {}, (3, 4), (2, 4, 5))[:2] == ((2, 3, 5), 2 * 3 * 4 * 5)
    assert analyse("matmul", {}, (2, 3, 4), (4,))[:2] == ((2, 3), 2 * 3 * 4)
    assert analyse("matmul", {}, (4,), (4,))[:2] == ((), 4)
    _, macs, flops, window = analyse("matmul", {}, (2, 8, 16, 32), (2, 8, 32, 16))
    assert macs == 2 * 8 * 16 * 32 * 16 and flops == {"matmul": 2 * macs} and window is None


def test_broadcast_error_names_both_shapes() -> None:
    with pytest.raises(ShapeError, match=r"add cannot broadcast \[1, 64, 56, 56\] with \[1, 32, 56, 56\]"):
        analyse("add", {}, (1, 64, 56, 56), (1, 32, 56, 56))
    with pytest.raises(ShapeError, match=r"multiply cannot broadcast \[2, 8, 1, 1\] with \[2, 4, 7, 7\]"):
        analyse("multiply", {}, (2, 8, 1, 1), (2, 4, 7, 7))


def test_concat_errors() -> None:
    with pytest.raises(ShapeError, match=r"concat along axis 1 needs equal sizes on the other axes, "
                                         r"found \[1, 64, 56, 56\] and \[1, 32, 28, 28\]"):
        analyse("concat", {}, (1, 64, 56, 56), (1, 32, 28, 28))
    with pytest.raises(ShapeError, match=r"concat needs inputs of equal rank, found \[1, 4, 5\] and \[1, 4\]"):
        analyse("concat", {}, (1, 4, 5), (1, 4))


def test_matmul_errors() -> None:
    with pytest.raises(ShapeError, match=r"matmul needs matching inner sizes, found \[2, 3, 4\] @ \[2, 5, 6\] \(4 != 5\)"):
        analyse("matmul", {}, (2, 3, 4), (2, 5, 6))
    with pytest.raises(ShapeError, match=r"matmul cannot broadcast the batch axes of \[2, 3, 4\] and \[3, 4, 5\]"):
        analyse("matmul", {}, (2, 3, 4), (3, 4, 5))
