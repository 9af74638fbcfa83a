"""Number formatting shared by the renderers, and the conventions footnote."""

from __future__ import annotations

from fractions import Fraction

from cnncalc.analysis.receptive_field import ReceptiveField

CONVENTIONS = (
    "MACs: multiply-accumulates of conv, linear and matmul, bias excluded. "
    "FLOPs: 2*MACs + bias adds + elementwise work (norm, activation, pool, merge, upsample). "
    "Memory: output tensor bytes per layer, {dtype}, batch {batch}; KiB/MiB/GiB are powers of 2. "
    "RF: receptive field size/jump on the input, per spatial axis."
)


def si(value: int) -> str:
    """1234567 -> '1.23M' (decimal prefixes, for MACs and FLOPs)."""
    for factor, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.2f}{suffix}"
    return str(value)


def binary(value: int) -> str:
    """Bytes with binary prefixes: 1536 -> '1.50 KiB'."""
    for factor, suffix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {suffix}"
    return f"{value} B"


def plain_number(value: Fraction | int) -> int | float:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    return value


def fraction_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def rf_text(rf: ReceptiveField | None) -> str:
    """'7x7/2' (size per axis, then jump when it is not 1), '-' without spatial axes."""
    if rf is None:
        return "-"
    sizes = "x".join(fraction_text(a.size) for a in rf.axes)
    jumps = {a.jump for a in rf.axes}
    jump = "/" + "x".join(fraction_text(a.jump) for a in rf.axes) if jumps != {1} else ""
    if len(jumps) == 1 and jump:
        jump = "/" + fraction_text(next(iter(jumps)))
    return sizes + jump + ("" if rf.aligned else " !")


def shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"
