"""Window arithmetic against brute-force enumeration (and torch where the rule is torch's)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.errors import ShapeError
from cnncalc.window import (
    conv_output_size,
    effective_kernel,
    same_padding,
    transposed_output_size,
)
from tests.conftest import needs_torch

sizes = st.integers(1, 64)
kernels = st.integers(1, 9)
strides = st.integers(1, 5)
dilations = st.integers(1, 4)
pads = st.integers(0, 6)


def enumerate_windows(n: int, k: int, s: int, pb: int, pe: int, d: int) -> int:
    """Count window positions by sliding one: a window fits if all taps lie in the padded input."""
    span = d * (k - 1) + 1
    count, start = 0, 0
    while start + span <= n + pb + pe:
        count += 1
        start += s
    return count


@given(sizes, kernels, strides, pads, pads, dilations)
def test_conv_output_size_matches_enumeration(n, k, s, pb, pe, d):
    expected = enumerate_windows(n, k, s, pb, pe, d)
    if expected == 0:
        with pytest.raises(ShapeError, match=r"kernel \d+.* > padded input \d+"):
            conv_output_size(n, k, s, (pb, pe), d)
    else:
        assert conv_output_size(n, k, s, (pb, pe), d) == expected


def scatter_extent(n: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """Transposed conv by enumeration: input i writes to i*s + d*j; crop p each side, add op."""
    last = max(i * s + d * j for i in range(n) for j in range(k))
    return last + 1 - 2 * p + op


@given(sizes, kernels, strides, st.integers(0, 3), dilations, st.integers(0, 4))
def test_transposed_output_size_matches_enumeration(n, k, s, p, d, op):
    expected = scatter_extent(n, k, s, p, d, op)
    if op >= max(s, d):
        with pytest.raises(ShapeError, match="output_padding"):
            transposed_output_size(n, k, s, (p, p), d, op)
    elif expected <= 0:
        with pytest.raises(ShapeError, match="is not positive"):
            transposed_output_size(n, k, s, (p, p), d, op)
    else:
        assert transposed_output_size(n, k, s, (p, p), d, op) == expected


@given(sizes, kernels, strides, dilations)
def test_same_padding_gives_ceil_of_size_over_stride(n, k, s, d):
    begin, end = same_padding(n, k, s, d)
    assert end - begin in (0, 1)  # the odd pixel goes at the end
    if effective_kernel(k, d) <= n + begin + end:
        assert conv_output_size(n, k, s, (begin, end), d) == -(-n // s)


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "d", "expected"),
    [  # REFERENCE.md section 5
        (63, 7, 2, 0, 1, 29), (121, 4, 3, 0, 1, 40), (224, 7, 2, 3, 1, 112), (224, 7, 2, 3, 2, 109),
        (32, 6, 2, 1, 1, 15), (227, 11, 4, 0, 1, 55), (224, 11, 4, 0, 1, 54),
    ],
)
def test_published_output_sizes(n, k, s, p, d, expected):
    assert conv_output_size(n, k, s, (p, p), d) == expected


def test_ceil_mode_drops_window_starting_in_right_padding():
    # REFERENCE.md: input 5, kernel 3, stride 3, padding 1 gives 2, not 3
    assert conv_output_size(5, 3, 3, (1, 1), ceil_mode=True) == 2


@needs_torch
@settings(max_examples=150, deadline=None)
@given(sizes, st.integers(1, 6), strides, st.integers(0, 3), st.integers(1, 3), st.booleans())
def test_pooling_sizes_match_torch(n, k, s, p, d, ceil):
    import torch

    if p > k // 2:  # torch requires padding <= kernel/2
        return
    pool = torch.nn.MaxPool1d(k, s, p, d, ceil_mode=ceil)
    try:
        expected = pool(torch.zeros(1, 1, n)).shape[-1]
    except RuntimeError:
        with pytest.raises(ShapeError):
            conv_output_size(n, k, s, (p, p), d, ceil_mode=ceil)
        return
    assert conv_output_size(n, k, s, (p, p), d, ceil_mode=ceil) == expected


@needs_torch
@settings(max_examples=100, deadline=None)
@given(sizes, kernels, strides, st.integers(0, 3), dilations)
def test_same_padding_stride_one_matches_torch(n, k, s, p, d):
    import torch

    conv = torch.nn.Conv1d(1, 1, k, padding="same", dilation=d, bias=False)
    begin, end = same_padding(n, k, 1, d)
    out = conv(torch.zeros(1, 1, n)).shape[-1]
    assert out == n == conv_output_size(n, k, 1, (begin, end), d)
