"""Sliding-window arithmetic, written once.

Convolution, pooling, transposed convolution, the receptive-field pass and the exam generator all
call these functions. Every function takes plain ints and raises `ShapeError` with the arithmetic
that failed, so a user sees *why* a layer does not fit.

Conventions (PyTorch's):
- output size: floor((n + pad_begin + pad_end - d*(k-1) - 1) / s) + 1
- ceil_mode (pooling only): ceil instead of floor, but a last window that would start inside the
  right padding is dropped (PyTorch's rule), so input 5, kernel 3, stride 3, padding 1 gives 2.
- transposed: (n - 1)*s - pad_begin - pad_end + d*(k-1) + output_padding + 1
- "same": total padding max((ceil(n/s) - 1)*s + d*(k-1) + 1 - n, 0), the odd pixel at the end
  (TensorFlow's and PyTorch's rule); "valid": no padding.
"""

from __future__ import annotations

from typing import NamedTuple

from cnncalc.errors import ShapeError


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """The span of a dilated kernel: d*(k-1) + 1."""
    return dilation * (kernel - 1) + 1


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """(begin, end) padding that makes the output ceil(size / stride) long."""
    out = -(-size // stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def ceil_output_size(size: int, kernel: int, stride: int = 1, padding: tuple[int, int] = (0, 0),
                     dilation: int = 1) -> int:
    """The textbook ceil_mode count ⌈(n + p_begin + p_end − k̂)/s⌉ + 1, before PyTorch drops a last
    window that would start in the right padding (conv_output_size applies that rule).

    >>> ceil_output_size(5, 3, stride=3, padding=(1, 1))
    3
    """
    return -(-(size + sum(padding) - effective_kernel(kernel, dilation)) // stride) + 1


def conv_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: tuple[int, int] = (0, 0),
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Number of window positions along one axis.

    >>> conv_output_size(224, 7, stride=2, padding=(3, 3))
    112
    >>> conv_output_size(5, 3, stride=3, padding=(1, 1), ceil_mode=True)
    2
    """
    pad_begin, pad_end = padding
    span = effective_kernel(kernel, dilation)
    padded = size + pad_begin + pad_end
    if ceil_mode:
        # a last, partial window is kept (PyTorch), unless it would start in the right padding
        out = ceil_output_size(size, kernel, stride, padding, dilation)
        if (out - 1) * stride >= size + pad_begin:
            out -= 1
        if out >= 1:
            return out
    if span > padded:
        dilated = f" (dilation {dilation}: {dilation}*({kernel}-1)+1 = {span})" if dilation > 1 else ""
        raise ShapeError(
            f"kernel {span}{dilated} > padded input {padded} "
            f"({size} + {pad_begin} + {pad_end})"
        )
    return (padded - span) // stride + 1


def transposed_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: tuple[int, int] = (0, 0),
    dilation: int = 1,
    output_padding: int = 0,
) -> int:
    """Output length of a transposed convolution along one axis.

    >>> transposed_output_size(2, 3, stride=2)
    5
    """
    if output_padding >= max(stride, dilation):
        raise ShapeError(
            f"output_padding {output_padding} must be smaller than stride {stride} "
            f"or dilation {dilation}"
        )
    out = (size - 1) * stride - sum(padding) + dilation * (kernel - 1) + output_padding + 1
    if out <= 0:
        raise ShapeError(
            f"output size ({size}-1)*{stride} - {sum(padding)} + {dilation}*({kernel}-1) "
            f"+ {output_padding} + 1 = {out} is not positive"
        )
    return out


class Worked(NamedTuple):
    """One axis's output size, shown the way a student writes it: the formula, the same formula
    with the numbers substituted (it evaluates to `value`; tests check that), the value from the
    functions above, and a note for a rule the formula alone does not show."""

    formula: str
    substituted: str
    value: int
    note: str = ""


def _padding_terms(padding: tuple[int, int]) -> tuple[str, str]:
    begin, end = padding
    if begin == end:
        return "2p", f"2·{begin}"
    return "p_begin + p_end", f"{begin} + {end}"


def explain_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: tuple[int, int] = (0, 0),
    dilation: int = 1,
    ceil_mode: bool = False,
) -> Worked:
    """conv_output_size with its working: `⌊(32 + 2·2 − 5)/1⌋ + 1` = 32.

    The dilation term appears only when the dilation is not 1 (k̂ = d·(k − 1) + 1 is then written
    out), ceil_mode uses ⌈ ⌉, and PyTorch's dropped last window is a visible `− 1` with a note.

    >>> explain_output_size(32, 5, 1, (2, 2)).substituted
    '⌊(32 + 2·2 − 5)/1⌋ + 1'
    >>> explain_output_size(5, 3, 3, (1, 1), ceil_mode=True).substituted
    '⌈(5 + 2·1 − 3)/3⌉ + 1 − 1'
    """
    value = conv_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    pad_symbols, pad_numbers = _padding_terms(padding)
    if dilation == 1:
        span_symbols, span_numbers = "k", f"{kernel}"
    else:
        span_symbols, span_numbers = "d·(k − 1) − 1", f"{dilation}·({kernel} − 1) − 1"
    left, right = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    formula = f"{left}(n + {pad_symbols} − {span_symbols})/s{right} + 1"
    substituted = f"{left}({size} + {pad_numbers} − {span_numbers})/{stride}{right} + 1"
    note = ""
    rounded_up = ceil_output_size(size, kernel, stride, padding, dilation)
    if ceil_mode and value == rounded_up - 1:
        substituted += " − 1"
        note = (
            f"the last window would start at ({rounded_up} − 1)·{stride} = {(rounded_up - 1) * stride}"
            f" ≥ {size} + {padding[0]}, in the right padding: PyTorch drops it"
        )
    return Worked(formula, substituted, value, note)


def explain_transposed_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: tuple[int, int] = (0, 0),
    dilation: int = 1,
    output_padding: int = 0,
) -> Worked:
    """transposed_output_size with its working: `(3 − 1)·2 − 2·1 + 3 + 1` = 6.

    >>> explain_transposed_output_size(3, 3, 2, (1, 1), output_padding=1).substituted
    '(3 − 1)·2 − 2·1 + 3 + 1'
    """
    value = transposed_output_size(size, kernel, stride, padding, dilation, output_padding)
    begin, end = padding
    if begin == end:
        pad_symbols, pad_numbers = "2p", f"2·{begin}"
    else:
        pad_symbols, pad_numbers = "(p_begin + p_end)", f"({begin} + {end})"
    if dilation == 1:
        span_symbols, span_numbers = "k", f"{kernel}"
    else:
        span_symbols, span_numbers = "d·(k − 1) + 1", f"{dilation}·({kernel} − 1) + 1"
    formula = f"(n − 1)·s − {pad_symbols} + {span_symbols}"
    substituted = f"({size} − 1)·{stride} − {pad_numbers} + {span_numbers}"
    if output_padding:
        formula += " + op"
        substituted += f" + {output_padding}"
    return Worked(formula, substituted, value)


def adaptive_window(size: int, out: int, index: int) -> tuple[int, int]:
    """[start, end) of window `index` of adaptive pooling from `size` to `out` (PyTorch's rule)."""
    return (index * size) // out, -(-((index + 1) * size) // out)


def resolve_padding(
    padding: str | tuple[tuple[int, int], ...],
    sizes: tuple[int, ...],
    kernels: tuple[int, ...],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """Explicit (begin, end) padding per axis; `same` and `valid` resolved for these sizes."""
    if padding == "valid":
        return tuple((0, 0) for _ in sizes)
    if padding == "same":
        return tuple(
            same_padding(n, k, s, d) for n, k, s, d in zip(sizes, kernels, strides, dilations)
        )
    assert not isinstance(padding, str)
    return padding
