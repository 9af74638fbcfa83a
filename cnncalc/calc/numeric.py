"""Exact numeric convolution, pooling and unpooling on small matrices, for worked examples.

Numbers are ints or Fractions and stay exact (a box filter of 1/9 gives 10, not 9.999...);
matrices are lists of rows. The output sizes come from cnncalc.window, the same arithmetic the
analyzer uses, and every function follows PyTorch's convention so its result equals torch's:

- convolution is cross-correlation (no kernel flip): y[i][j] = sum w[a][b]·x[i·s − p + a·d][j·s − p + b·d];
- transposed convolution scatters: x[i][j]·w[a][b] is added at (i·s − p + a, j·s − p + b), the
  gradient of the convolution with respect to its input (so it equals toeplitz(...)ᵀ·vec(x));
- max pooling pads with −∞ (padded positions never win) and returns the argmax as flat indices
  into the unpadded input, the first maximum in row-major order on ties (torch's CPU kernel);
- average pooling divides by the window clipped to the padded input (count_include_pad, the
  default) or by the real positions it covers.

>>> conv2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0], [0, -1]])
[[-4, -4], [-4, -4]]
>>> pool2d([[1, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]], 2)
([[5, 6], [7, 8]], [[5, 2], [12, 15]])
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Literal, Union

from cnncalc.errors import ShapeError
from cnncalc.window import conv_output_size, transposed_output_size

Number = Union[int, Fraction]
Matrix = list[list[Number]]
Pair = Union[int, tuple[int, int]]
Pads = tuple[tuple[int, int], tuple[int, int]]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]


def pair(value: Pair | Sequence[int], what: str = "value") -> tuple[int, int]:
    """(h, w) from an int or a pair."""
    if isinstance(value, int):
        return value, value
    values = tuple(value)
    if len(values) != 2:
        raise ShapeError(f"{what} needs one int or an (h, w) pair, found {list(values)}")
    return values[0], values[1]


def exact(value: Number) -> Number:
    """A Fraction with denominator 1 as an int (so results print as 10, not 10/1)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


def size(x: Sequence[Sequence[Number]], what: str = "matrix") -> tuple[int, int]:
    """(rows, columns) of a non-empty rectangular matrix."""
    if not x or not x[0]:
        raise ShapeError(f"the {what} is empty")
    width = len(x[0])
    for number, row in enumerate(x):
        if len(row) != width:
            raise ShapeError(f"the {what} is not rectangular: row 0 has {width} values, row {number} has {len(row)}")
    return len(x), width


def symmetric(padding: Pair) -> Pads:
    ph, pw = pair(padding, "padding")
    return (ph, ph), (pw, pw)


def pad2d(x: Sequence[Sequence[Number]], pads: Pads, mode: PaddingMode = "zeros") -> Matrix:
    """x padded by ((top, bottom), (left, right)): zeros, or PyTorch's reflect (mirror without
    the edge), replicate (copy the edge) or circular (wrap around)."""
    rows, cols = size(x)
    (top, bottom), (left, right) = pads
    if mode == "reflect" and (max(top, bottom) >= rows or max(left, right) >= cols):
        raise ShapeError(f"reflect padding {max(top, bottom, left, right)} must be smaller than the input {rows}x{cols}")
    if mode == "circular" and (max(top, bottom) > rows or max(left, right) > cols):
        raise ShapeError(f"circular padding {max(top, bottom, left, right)} must be at most the input {rows}x{cols}")

    def source(index: int, length: int) -> int | None:
        if 0 <= index < length:
            return index
        if mode == "zeros":
            return None
        if mode == "replicate":
            return min(max(index, 0), length - 1)
        if mode == "circular":
            return index % length
        return -index if index < 0 else 2 * (length - 1) - index  # reflect

    result: Matrix = []
    for i in range(-top, rows + bottom):
        r = source(i, rows)
        row: list[Number] = []
        for j in range(-left, cols + right):
            c = source(j, cols)
            row.append(0 if r is None or c is None else x[r][c])
        result.append(row)
    return result


def correlate(x: Sequence[Sequence[Number]], w: Sequence[Sequence[Number]], stride: Pair = 1,
              pads: Pads = ((0, 0), (0, 0)), dilation: Pair = 1) -> Matrix:
    """conv2d with (begin, end) zero padding per axis (`same` resolved, asymmetric)."""
    rows, cols = size(x, "input")
    kh, kw = size(w, "kernel")
    (sh, sw), (dh, dw) = pair(stride, "stride"), pair(dilation, "dilation")
    out_h = conv_output_size(rows, kh, sh, pads[0], dh)
    out_w = conv_output_size(cols, kw, sw, pads[1], dw)
    result: Matrix = []
    for i in range(out_h):
        row: list[Number] = []
        for j in range(out_w):
            total: Number = 0
            for a in range(kh):
                r = i * sh - pads[0][0] + a * dh
                if 0 <= r < rows:
                    for b in range(kw):
                        c = j * sw - pads[1][0] + b * dw
                        if 0 <= c < cols:
                            total += w[a][b] * x[r][c]
            row.append(exact(total))
        result.append(row)
    return result


def conv2d(x: Sequence[Sequence[Number]], w: Sequence[Sequence[Number]], stride: Pair = 1,
           padding: Pair = 0, dilation: Pair = 1) -> Matrix:
    """One channel, one filter: torch.nn.functional.conv2d (cross-correlation, zero padding).

    >>> conv2d([[1, 2, 3, 4, 5]], [[Fraction(1, 3)] * 3])  # a 1-D box filter as a 1xN matrix
    [[2, 3, 4]]
    """
    return correlate(x, w, stride, symmetric(padding), dilation)


def conv2d_channels(x: Sequence[Sequence[Sequence[Number]]], filters: Sequence[Sequence[Sequence[Sequence[Number]]]],
                    stride: Pair = 1, pads: Pads = ((0, 0), (0, 0)), dilation: Pair = 1,
                    bias: Sequence[Number] | None = None) -> list[Matrix]:
    """Several channels and filters: output map f is the sum over channels c of
    correlate(x[c], filters[f][c]) plus bias[f] (torch's weight layout [C_out][C_in][kh][kw])."""
    maps: list[Matrix] = []
    for f, weights in enumerate(filters):
        if len(weights) != len(x):
            raise ShapeError(f"filter {f} has {len(weights)} channels, the input has {len(x)}")
        total = [correlate(channel, kernel, stride, pads, dilation) for channel, kernel in zip(x, weights)]
        offset = bias[f] if bias is not None else 0
        maps.append([[exact(sum((m[i][j] for m in total), offset)) for j in range(len(total[0][0]))]
                     for i in range(len(total[0]))])
    return maps


def conv_transpose2d(x: Sequence[Sequence[Number]], w: Sequence[Sequence[Number]], stride: Pair = 1,
                     padding: Pair = 0, output_padding: Pair = 0, dilation: Pair = 1) -> Matrix:
    """One channel, one filter: torch.nn.functional.conv_transpose2d, by scatter-add.

    >>> conv_transpose2d([[1, 2]], [[1, 2, 3]], stride=(1, 2))
    [[1, 2, 5, 4, 6]]
    """
    rows, cols = size(x, "input")
    kh, kw = size(w, "kernel")
    (sh, sw), (ph, pw) = pair(stride, "stride"), pair(padding, "padding")
    (oph, opw), (dh, dw) = pair(output_padding, "output_padding"), pair(dilation, "dilation")
    out_h = transposed_output_size(rows, kh, sh, (ph, ph), dh, oph)
    out_w = transposed_output_size(cols, kw, sw, (pw, pw), dw, opw)
    result: Matrix = [[0] * out_w for _ in range(out_h)]
    for i in range(rows):
        for j in range(cols):
            for a in range(kh):
                r = i * sh - ph + a * dh
                if 0 <= r < out_h:
                    for b in range(kw):
                        c = j * sw - pw + b * dw
                        if 0 <= c < out_w:
                            result[r][c] += x[i][j] * w[a][b]
    return [[exact(v) for v in row] for row in result]


def pool2d(x: Sequence[Sequence[Number]], kernel: Pair, stride: Pair | None = None, padding: Pair = 0,
           mode: Literal["max", "avg"] = "max", ceil_mode: bool = False,
           count_include_pad: bool = True, dilation: Pair = 1) -> tuple[Matrix, Matrix | None]:
    """Max or average pooling of one channel: (result, argmax flat indices or None for avg).

    The stride defaults to the kernel; padding may be at most half the kernel (PyTorch's rule).

    >>> pool2d([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 3, 1, 1, mode="avg")[0][0][0]
    Fraction(4, 9)
    """
    rows, cols = size(x, "input")
    (kh, kw), (ph, pw) = pair(kernel, "kernel"), pair(padding, "padding")
    sh, sw = pair(kernel if stride is None else stride, "stride")
    dh, dw = pair(dilation, "dilation")
    if mode not in ("max", "avg"):
        raise ShapeError(f"pooling mode must be max or avg, found {mode!r}")
    if mode == "avg" and (dh, dw) != (1, 1):
        raise ShapeError("average pooling has no dilation")
    if ph > kh // 2 or pw > kw // 2:
        raise ShapeError(f"padding ({ph}, {pw}) must be at most half the kernel ({kh}, {kw})")
    out_h = conv_output_size(rows, kh, sh, (ph, ph), dh, ceil_mode)
    out_w = conv_output_size(cols, kw, sw, (pw, pw), dw, ceil_mode)
    result: Matrix = []
    indices: Matrix = []
    for i in range(out_h):
        values: list[Number] = []
        where: list[Number] = []
        for j in range(out_w):
            if mode == "max":
                best, index = _window_max(x, i * sh - ph, j * sw - pw, (kh, kw), (dh, dw))
                values.append(best)
                where.append(index)
            else:
                values.append(_window_mean(x, i * sh - ph, j * sw - pw, (kh, kw), (ph, pw), count_include_pad))
        result.append(values)
        indices.append(where)
    return result, (indices if mode == "max" else None)


def _window_max(x: Sequence[Sequence[Number]], top: int, left: int, kernel: tuple[int, int],
                dilation: tuple[int, int]) -> tuple[Number, int]:
    rows, cols = len(x), len(x[0])
    best: Number | None = None
    index = -1
    for a in range(kernel[0]):
        r = top + a * dilation[0]
        for b in range(kernel[1]):
            c = left + b * dilation[1]
            if 0 <= r < rows and 0 <= c < cols and (best is None or x[r][c] > best):
                best, index = x[r][c], r * cols + c
    if best is None:  # pragma: no cover - padding <= kernel/2 keeps a real position in every window
        raise ShapeError("a pooling window lies entirely in the padding")
    return best, index


def _window_mean(x: Sequence[Sequence[Number]], top: int, left: int, kernel: tuple[int, int],
                 padding: tuple[int, int], count_include_pad: bool) -> Number:
    rows, cols = len(x), len(x[0])
    bottom, right = min(top + kernel[0], rows + padding[0]), min(left + kernel[1], cols + padding[1])
    padded_count = (bottom - top) * (right - left)
    top, left, bottom, right = max(top, 0), max(left, 0), min(bottom, rows), min(right, cols)
    total = sum((x[r][c] for r in range(top, bottom) for c in range(left, right)), Fraction(0))
    divisor = padded_count if count_include_pad else (bottom - top) * (right - left)
    return exact(Fraction(total) / divisor)


def max_unpool2d(x: Sequence[Sequence[Number]], indices: Sequence[Sequence[Number]], output_size: Pair) -> Matrix:
    """Each value placed at its flat index in a zero matrix of `output_size` (torch's max_unpool2d).

    >>> max_unpool2d([[5, 6], [7, 8]], [[5, 2], [12, 15]], 4)
    [[0, 0, 6, 0], [0, 5, 0, 0], [0, 0, 0, 0], [7, 0, 0, 8]]
    """
    if size(x, "input") != size(indices, "indices"):
        raise ShapeError(f"indices are {size(indices)} but the input is {size(x)}")
    rows, cols = pair(output_size, "output_size")
    result: Matrix = [[0] * cols for _ in range(rows)]
    for values, places in zip(x, indices):
        for value, place in zip(values, places):
            if not (isinstance(place, int) and 0 <= place < rows * cols):
                raise ShapeError(f"index {place} is outside the {rows}x{cols} output (0 to {rows * cols - 1})")
            result[place // cols][place % cols] = value
    return result


def bed_of_nails2d(x: Sequence[Sequence[Number]], stride: Pair) -> Matrix:
    """Each value at the top-left of its stride x stride block, zeros elsewhere.

    >>> bed_of_nails2d([[1, 2], [3, 4]], 2)
    [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    """
    rows, cols = size(x, "input")
    sh, sw = pair(stride, "stride")
    result: Matrix = [[0] * (cols * sw) for _ in range(rows * sh)]
    for i in range(rows):
        for j in range(cols):
            result[i * sh][j * sw] = x[i][j]
    return result


def nearest_upsample2d(x: Sequence[Sequence[Number]], scale: Pair) -> Matrix:
    """Each value repeated over its scale x scale block (nearest-neighbour upsampling).

    >>> nearest_upsample2d([[1, 2], [3, 4]], 2)
    [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    """
    rows, cols = size(x, "input")
    sh, sw = pair(scale, "scale")
    return [[x[i // sh][j // sw] for j in range(cols * sw)] for i in range(rows * sh)]


def toeplitz(input_size: Pair, w: Sequence[Sequence[Number]], stride: Pair = 1, padding: Pair = 0,
             dilation: Pair = 1) -> Matrix:
    """The convolution as a matrix: one row per output position and one column per input
    position (both row-major), so conv2d(x, w, ...) is toeplitz(...) @ vec(x), reshaped.
    Taps that fall in the zero padding have no column.

    >>> toeplitz(3, [[1, 2], [3, 4]])[0]
    [1, 2, 0, 3, 4, 0, 0, 0, 0]
    """
    return convolution_matrix(pair(input_size, "input_size"), w, stride, symmetric(padding), dilation)


def convolution_matrix(input_size: tuple[int, int], w: Sequence[Sequence[Number]], stride: Pair = 1,
                       pads: Pads = ((0, 0), (0, 0)), dilation: Pair = 1) -> Matrix:
    """toeplitz with (begin, end) zero padding per axis."""
    rows, cols = input_size
    kh, kw = size(w, "kernel")
    (sh, sw), (dh, dw) = pair(stride, "stride"), pair(dilation, "dilation")
    out_h = conv_output_size(rows, kh, sh, pads[0], dh)
    out_w = conv_output_size(cols, kw, sw, pads[1], dw)
    matrix: Matrix = []
    for i in range(out_h):
        for j in range(out_w):
            line: list[Number] = [0] * (rows * cols)
            for a in range(kh):
                r = i * sh - pads[0][0] + a * dh
                for b in range(kw):
                    c = j * sw - pads[1][0] + b * dw
                    if 0 <= r < rows and 0 <= c < cols:
                        line[r * cols + c] += w[a][b]
            matrix.append(line)
    return matrix


def transposed(m: Sequence[Sequence[Number]]) -> Matrix:
    """The transpose of a matrix (the transposed convolution's matrix is toeplitz(...)ᵀ)."""
    return [list(column) for column in zip(*m)]


def vec(x: Sequence[Sequence[Number]]) -> list[Number]:
    """A matrix flattened row by row (the column vector v(x) of the Toeplitz product)."""
    return [value for row in x for value in row]


def unvec(values: Sequence[Number], cols: int) -> Matrix:
    """`values` as rows of `cols` (the inverse of vec)."""
    return [list(values[i:i + cols]) for i in range(0, len(values), cols)]


def matvec(m: Sequence[Sequence[Number]], v: Sequence[Number]) -> list[Number]:
    """m @ v, exactly."""
    return [exact(sum((a * b for a, b in zip(row, v, strict=True)), Fraction(0))) for row in m]
