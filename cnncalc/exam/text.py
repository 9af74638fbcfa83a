"""How numbers, shapes and matrices are written in questions, answers and feedback.

Question text is plain Unicode (× · − ⌊ ⌋ → …); each exporter escapes it for its format. Answers
are written without thousands separators (`7600`, `120.4224`) so that an LMS parses them;
prose uses separators (`120,422,400`) so that a student reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from cnncalc.exam.model import Matrix, Number, Value


def decimal(value: Number, places: int = 6) -> str:
    """An exact decimal when the value has one within `places` digits, else rounded.

    >>> decimal(Fraction(1204224, 10000)), decimal(Fraction(1, 3), 3), decimal(-2)
    ('120.4224', '0.333', '-2')
    """
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    scaled = value * 10**places
    rounded = round(scaled)  # exact half-to-even on Fractions: the same on every machine
    sign = "-" if rounded < 0 else ""
    digits = str(abs(rounded)).rjust(places + 1, "0")
    whole, frac = digits[:-places], digits[-places:].rstrip("0")
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def answer(value: Number, scale: int = 1) -> str:
    """A numeric answer as an LMS reads it: no separators, `.` as the decimal mark."""
    return decimal(Fraction(value) / scale)


def num(value: Number) -> str:
    """A number in prose: thousands separators for integers, `a/b` for other fractions."""
    value = Fraction(value)
    if value.denominator == 1:
        return f"{value.numerator:,}"
    exact = decimal(value, 4)
    if Fraction(exact) == value:
        return exact
    return f"{value.numerator}/{value.denominator}"


def entry(value: Number) -> str:
    """A matrix entry: an integer, a short exact decimal, or a fraction."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    exact = decimal(value, 3)
    return exact if Fraction(exact) == value else f"{value.numerator}/{value.denominator}"


def matrix_text(matrix: Matrix) -> str:
    """`[[1, 2], [3, 4]]`, the way an option shows a matrix on one line."""
    return "[" + ", ".join("[" + ", ".join(entry(v) for v in row) + "]" for row in matrix) + "]"


def vector_text(values: Sequence[Number]) -> str:
    return "[" + ", ".join(entry(v) for v in values) + "]"


def volume(channels: int, *spatial: int, convention: str = "pytorch") -> str:
    """A feature map's size in the convention's layout: C×H×W (PyTorch) or H×W×C (Keras)."""
    sizes = [*spatial, channels] if convention == "keras" else [channels, *spatial]
    return "×".join(str(n) for n in sizes)


def layout(convention: str, spatial: int = 2) -> str:
    names = "HW" if spatial == 2 else "L"
    return "×".join([*names, "C"]) if convention == "keras" else "×".join(["C", *names])


def value_text(value: Value) -> str:
    """Any key or option value as one line of text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Fraction)):
        return answer(value)
    if value and isinstance(value[0], tuple):
        return matrix_text(value)
    return "×".join(value_text(v) for v in value)
