"""Exact numeric convolution, pooling and unpooling (cnncalc.calc.numeric).

Two independent references: the lecture notes' worked examples (shared/seeds/, cited by file and
line; the published reference values of shared/reference/EXAM.md where the seeds draw pictures),
reproduced exactly; and torch's functional ops in float64 on random small integer matrices, where
float64 is exact (and within 1e-12 for averages).
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnncalc.calc.numeric import (
    bed_of_nails2d,
    conv2d,
    conv2d_channels,
    conv_transpose2d,
    matvec,
    max_unpool2d,
    nearest_upsample2d,
    pad2d,
    pool2d,
    toeplitz,
    transposed,
    unvec,
    vec,
)
from cnncalc.errors import ShapeError
from tests.conftest import needs_torch

F = Fraction
BOX = [[F(1, 9)] * 3] * 3

# -- the seeds' worked examples ------------------------------------------------------------------

# 003_f443aa62cddefb27.txt lines 284-300: u ⋆ x, the convolution matrix U and U·v(x)
SEED003_U_KERNEL = [[1, 4, 1], [1, 4, 3], [3, 3, 1]]
SEED003_X = [[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]]
SEED003_U = [
    [1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0, 0, 0, 0, 0],
    [0, 1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0, 0, 0, 0],
    [0, 0, 0, 0, 1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0],
    [0, 0, 0, 0, 0, 1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1],
]

# 002_52167cf6b100b21c.txt lines 520-529 (f) and 533-540 (h): the 1/9 box filter, valid
SEED002_F = [
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 90, 90, 90, 90, 90, 0, 0],
    [0, 0, 0, 90, 90, 90, 90, 90, 0, 0],
    [0, 0, 0, 90, 90, 90, 90, 90, 0, 0],
    [0, 0, 0, 90, 0, 90, 90, 90, 0, 0],
    [0, 0, 0, 90, 90, 90, 90, 90, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 90, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
]
SEED002_H = [
    [0, 10, 20, 30, 30, 30, 20, 10],
    [0, 20, 40, 60, 60, 60, 40, 20],
    [0, 30, 60, 90, 90, 90, 60, 30],
    [0, 30, 50, 80, 80, 90, 60, 30],
    [0, 30, 50, 80, 80, 90, 60, 30],
    [0, 20, 30, 50, 50, 60, 40, 20],
    [10, 20, 30, 30, 30, 30, 20, 10],
    [10, 10, 10, 0, 0, 0, 0, 0],
]

# 004_45c4b953efe2cfb1.txt lines 247-251 (image, kernel as the x1/x0 subscripts) and lines 331-332,
# 358 (the convolved feature rows; the last frame prints its final row only)
SEED004_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
SEED004_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
SEED004_FEATURE = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


def test_seed003_convolution_and_its_toeplitz_matrix():
    assert conv2d(SEED003_X, SEED003_U_KERNEL) == [[122, 148], [126, 134]]
    assert toeplitz((4, 4), SEED003_U_KERNEL) == SEED003_U
    assert vec(SEED003_X) == [4, 5, 8, 7, 1, 8, 8, 8, 3, 6, 6, 4, 6, 5, 7, 8]  # line 296
    assert matvec(SEED003_U, vec(SEED003_X)) == [122, 148, 126, 134]  # line 300


def test_seed002_box_filter_is_exact():
    result = conv2d(SEED002_F, BOX)
    assert result == SEED002_H
    assert all(type(v) is int for row in result for v in row)  # exact: 10, not 9.999...


def test_seed000_box_filter_on_the_wider_image():
    # 000_666c4c5f9028d9b0.txt lines 148-157 (a 10x11 F: seed 002's image with a zero column) and
    # lines 161-168 (G: 8 rows of 8 values, the ninth column left blank: it is 0)
    image = [row + [0] for row in SEED002_F]
    result = conv2d(image, BOX)
    assert [row[:8] for row in result] == SEED002_H
    assert [row[8] for row in result] == [0] * 8


def test_seed004_worked_convolution():
    assert conv2d(SEED004_IMAGE, SEED004_KERNEL) == SEED004_FEATURE


def test_seed004_transposed_convolution_by_hand():
    # 004_45c4b953efe2cfb1.txt lines 640-653: input [[0,1],[2,3]], kernel [[0,1],[2,3]], stride 1
    assert conv_transpose2d([[0, 1], [2, 3]], [[0, 1], [2, 3]]) == [[0, 0, 1], [0, 4, 6], [4, 12, 9]]


def test_seed004_transposed_sizes_2x1_input_3x1_filter_stride_2():
    # 004_45c4b953efe2cfb1.txt lines 627-631: a 2x1 input, a 3x1 filter, stride 2 -> 5x1
    result = conv_transpose2d([[1], [1]], [[1], [1], [1]], stride=(2, 1))
    assert (len(result), len(result[0])) == (5, 1)


def test_seed004_nearest_and_bed_of_nails():
    # 004_45c4b953efe2cfb1.txt lines 586-596 (nearest neighbour) and 604-616 (bed of nails)
    assert nearest_upsample2d([[1, 2], [3, 4]], 2) == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    assert bed_of_nails2d([[1, 2], [3, 4]], 2) == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]


def test_seed000_filter_intuition_identity_shift_and_sharpen():
    # 000_666c4c5f9028d9b0.txt lines 175-235 (and 002 lines 549-640): the centre impulse changes
    # nothing, an impulse right of centre shifts the image left, 2·δ − box sharpens
    image = [[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8], [9, 7, 9, 3]]
    identity = [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    shift = [[0, 0, 0], [0, 0, 1], [0, 0, 0]]
    sharpen = [[2 * identity[i][j] - BOX[i][j] for j in range(3)] for i in range(3)]
    assert conv2d(image, identity, padding=1) == image
    assert conv2d(image, shift, padding=1) == [row[1:] + [0] for row in image]
    blur = conv2d(image, BOX, padding=1)
    assert conv2d(image, sharpen, padding=1) == [[2 * image[i][j] - blur[i][j] for j in range(4)] for i in range(4)]


# -- published values (shared/reference/EXAM.md, templates T19-T24) ------------------------------


def test_exam_t19_one_dimensional_filters():
    assert conv2d([[1, 2, 3, 4, 5]], [[F(1, 3)] * 3]) == [[2, 3, 4]]
    assert conv2d([[3, 7, 2, 8, 4]], [[1, 0, -1]]) == [[1, -1, -2]]


def test_exam_t21_toeplitz_and_its_transpose():
    c = toeplitz((1, 5), [[1, 0, -1]])
    assert c == [[1, 0, -1, 0, 0], [0, 1, 0, -1, 0], [0, 0, 1, 0, -1]]
    assert matvec(transposed(c), [1, 2, 3]) == [1, 2, 2, -2, -3]
    assert conv_transpose2d([[1, 2, 3]], [[1, 0, -1]]) == [[1, 2, 2, -2, -3]]


def test_exam_t22_transposed_by_hand():
    assert conv_transpose2d([[1, 2]], [[1, 2, 3]], stride=(1, 2)) == [[1, 2, 5, 4, 6]]


def test_exam_t23_t24_pool_then_unpool():
    x = [[1, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]]
    pooled, indices = pool2d(x, 2)
    assert pooled == [[5, 6], [7, 8]]
    assert indices is not None
    assert max_unpool2d(pooled, indices, 4) == [[0, 0, 6, 0], [0, 5, 0, 0], [0, 0, 0, 0], [7, 0, 0, 8]]


def test_exam_t23_padding_conventions():
    ones = [[1] * 3 for _ in range(3)]
    assert pool2d(ones, 3, 1, 1, "avg")[0][0][0] == F(4, 9)
    assert pool2d(ones, 3, 1, 1, "avg", count_include_pad=False)[0][0][0] == 1
    negative = [[-1] * 3 for _ in range(3)]
    assert pool2d(negative, 3, 1, 1)[0] == negative  # -inf padding, not zeros


def test_bad_inputs_raise_shape_errors():
    with pytest.raises(ShapeError, match=r"kernel 3 > padded input 2"):
        conv2d([[1, 2], [3, 4]], [[1, 1, 1]])
    with pytest.raises(ShapeError, match="not rectangular"):
        conv2d([[1, 2], [3]], [[1]])
    with pytest.raises(ShapeError, match="at most half the kernel"):
        pool2d([[1, 2], [3, 4]], 2, 1, 2)
    with pytest.raises(ShapeError, match="outside the 2x2 output"):
        max_unpool2d([[1]], [[4]], 2)


# -- against torch (float64) ---------------------------------------------------------------------

values = st.integers(-5, 5)


@st.composite
def matrices(draw, rows=st.integers(1, 6), cols=st.integers(1, 6)):  # type: ignore[no-untyped-def]
    h, w = draw(rows), draw(cols)
    return [[draw(values) for _ in range(w)] for _ in range(h)]


def tensor(m, dims: int = 4):  # type: ignore[no-untyped-def]
    import torch

    t = torch.tensor([[float(v) for v in row] for row in m], dtype=torch.float64)
    return t.reshape(*(1,) * (dims - 2), *t.shape)


def plain(t) -> list[list[float]]:  # type: ignore[no-untyped-def]
    return [[float(v) for v in row] for row in t.reshape(t.shape[-2], t.shape[-1]).tolist()]


def as_float(m) -> list[list[float]]:  # type: ignore[no-untyped-def]
    return [[float(v) for v in row] for row in m]


pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@needs_torch
@settings(max_examples=60, deadline=None)
@given(matrices(), matrices(st.integers(1, 3), st.integers(1, 3)), pairs, st.tuples(st.integers(0, 2), st.integers(0, 2)),
       st.tuples(st.integers(1, 2), st.integers(1, 2)))
def test_conv2d_and_toeplitz_match_torch(x, w, stride, padding, dilation):
    import torch.nn.functional as fn

    try:
        ours = conv2d(x, w, stride, padding, dilation)
    except ShapeError:
        assume(False)
    theirs = fn.conv2d(tensor(x), tensor(w), stride=stride, padding=padding, dilation=dilation)
    assert as_float(ours) == plain(theirs)
    matrix = toeplitz((len(x), len(x[0])), w, stride, padding, dilation)
    assert unvec(matvec(matrix, vec(x)), len(ours[0])) == ours


@needs_torch
@settings(max_examples=60, deadline=None)
@given(matrices(st.integers(1, 4), st.integers(1, 4)), matrices(st.integers(1, 4), st.integers(1, 4)), pairs,
       st.tuples(st.integers(0, 3), st.integers(0, 3)), st.tuples(st.integers(0, 2), st.integers(0, 2)),
       st.tuples(st.integers(1, 2), st.integers(1, 2)))
def test_conv_transpose2d_matches_torch_and_the_toeplitz_transpose(x, w, stride, padding, extra, dilation):
    import torch.nn.functional as fn

    assume(all(e < max(s, d) for e, s, d in zip(extra, stride, dilation)))
    try:
        ours = conv_transpose2d(x, w, stride, padding, extra, dilation)
    except ShapeError:
        assume(False)
    theirs = fn.conv_transpose2d(tensor(x), tensor(w), stride=stride, padding=padding,
                                 output_padding=extra, dilation=dilation)
    assert as_float(ours) == plain(theirs)
    if extra == (0, 0):  # the output maps back to x's size under the forward convolution
        matrix = toeplitz((len(ours), len(ours[0])), w, stride, padding, dilation)
        assume(len(matrix) == len(vec(x)))
        assert unvec(matvec(transposed(matrix), vec(x)), len(ours[0])) == ours


@needs_torch
@settings(max_examples=80, deadline=None)
@given(matrices(), pairs, st.one_of(st.none(), pairs), st.tuples(st.integers(0, 1), st.integers(0, 1)),
       st.booleans(), st.tuples(st.integers(1, 2), st.integers(1, 2)))
def test_max_pool_and_unpool_match_torch(x, kernel, stride, padding, ceil_mode, dilation):
    import torch.nn.functional as fn

    assume(all(p <= k // 2 for p, k in zip(padding, kernel)))
    try:
        ours, indices = pool2d(x, kernel, stride, padding, "max", ceil_mode, dilation=dilation)
    except ShapeError:
        assume(False)
    theirs, their_indices = fn.max_pool2d(tensor(x), kernel, stride, padding, dilation, ceil_mode,
                                          return_indices=True)
    assert as_float(ours) == plain(theirs)
    assert indices == [[int(v) for v in row] for row in their_indices.reshape(theirs.shape[-2:]).tolist()]
    if dilation != (1, 1):  # torch's max_unpool2d checks output_size against undilated windows
        return
    size = (len(x), len(x[0]))
    unpooled = fn.max_unpool2d(theirs, their_indices, kernel, stride, padding, output_size=size)
    assert as_float(max_unpool2d(ours, indices, size)) == plain(unpooled)


@needs_torch
@settings(max_examples=80, deadline=None)
@given(matrices(), pairs, st.one_of(st.none(), pairs), st.tuples(st.integers(0, 1), st.integers(0, 1)),
       st.booleans(), st.booleans())
def test_avg_pool_matches_torch(x, kernel, stride, padding, ceil_mode, count_include_pad):
    import torch.nn.functional as fn

    assume(all(p <= k // 2 for p, k in zip(padding, kernel)))
    try:
        ours, indices = pool2d(x, kernel, stride, padding, "avg", ceil_mode, count_include_pad)
    except ShapeError:
        assume(False)
    theirs = plain(fn.avg_pool2d(tensor(x), kernel, stride, padding, ceil_mode, count_include_pad))
    assert indices is None
    assert len(ours) == len(theirs) and len(ours[0]) == len(theirs[0])
    for mine, torch_row in zip(ours, theirs):
        assert [float(v) for v in mine] == pytest.approx(torch_row, abs=1e-12)


@needs_torch
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(2, 5), st.integers(2, 5), st.integers(1, 3), st.data())
def test_channels_and_bias_match_torch(channels, filters, h, w, k, data):
    import torch
    import torch.nn.functional as fn

    assume(k <= min(h, w))
    x = [[[data.draw(values) for _ in range(w)] for _ in range(h)] for _ in range(channels)]
    weights = [[[[data.draw(values) for _ in range(k)] for _ in range(k)] for _ in range(channels)]
               for _ in range(filters)]
    bias = [data.draw(values) for _ in range(filters)]
    ours = conv2d_channels(x, weights, bias=bias)
    theirs = fn.conv2d(torch.tensor([x], dtype=torch.float64), torch.tensor(weights, dtype=torch.float64),
                       torch.tensor(bias, dtype=torch.float64))
    assert [as_float(m) for m in ours] == theirs[0].tolist()


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "zeros"])
def test_padding_modes_match_torch(mode):
    import torch.nn.functional as fn

    x = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    pads = ((1, 2), (2, 1))
    theirs = fn.pad(tensor(x), (2, 1, 1, 2), mode="constant" if mode == "zeros" else mode)
    assert as_float(pad2d(x, pads, mode)) == plain(theirs)


@needs_torch
@settings(max_examples=30, deadline=None)
@given(matrices(st.integers(1, 4), st.integers(1, 4)), pairs)
def test_upsampling_matches_torch(x, scale):
    import torch
    import torch.nn.functional as fn

    nearest = fn.interpolate(tensor(x), scale_factor=scale, mode="nearest")
    assert as_float(nearest_upsample2d(x, scale)) == plain(nearest)
    nails = torch.zeros(1, 1, len(x) * scale[0], len(x[0]) * scale[1], dtype=torch.float64)
    nails[..., :: scale[0], :: scale[1]] = tensor(x)
    assert as_float(bed_of_nails2d(x, scale)) == plain(nails)
