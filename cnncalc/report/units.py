"""Number formatting shared by the renderers, and the conventions footnote."""

from __future__ import annotations

import re
from fractions import Fraction

from cnncalc.analysis.receptive_field import ReceptiveField
from cnncalc.analysis.report import ConventionTotals

CONVENTIONS = (
    "MACs: multiply-accumulates of conv, linear and matmul, bias excluded. "
    "FLOPs: 2*MACs + bias adds + elementwise work (norm, activation, pool, merge, upsample). "
    "Memory: output tensor bytes per layer, {dtype}, batch {batch}; KiB/MiB/GiB are powers of 2. "
    "RF: receptive field size/jump on the input, per spatial axis."
)


def convention_note(convention: ConventionTotals) -> str:
    """The footnote sentence for `--convention`: what the counts follow."""
    return f"Convention {convention.name} ({convention.unit}): {convention.tool}; {convention.summary}."


def exact_text(value: int | Fraction) -> str:
    """An exact count with thousands separators; a fraction (a tool divided by the batch) as
    a decimal."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):,.2f}"
    return f"{int(value):,}"


def si(value: int | Fraction) -> str:
    """1234567 -> '1.23M' (decimal prefixes, for MACs and FLOPs)."""
    number: int | float = int(value) if isinstance(value, int) or value.denominator == 1 else float(value)
    for factor, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(number) >= factor:
            return f"{number / factor:.2f}{suffix}"
    return f"{number:.2f}" if isinstance(number, float) else str(number)


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


COUNT_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
BYTE_UNITS = {"": 1, "b": 1, "k": 2**10, "kib": 2**10, "kb": 10**3, "m": 2**20, "mib": 2**20,
              "mb": 10**6, "g": 2**30, "gib": 2**30, "gb": 10**9, "t": 2**40, "tib": 2**40,
              "tb": 10**12}


def parse_quantity(text: str | int | float, unit: str) -> int:
    """A count ('4.1G', '26M', 25_557_032) or a size in bytes ('24GiB', '80GB', '512MiB').

    Counts take decimal prefixes K/M/G/T; sizes take KiB/MiB/GiB/TiB (and bare K/M/G/T) as powers
    of 2 and kB/MB/GB/TB as powers of 10. Raises ValueError with the accepted forms.

    >>> parse_quantity("4.1G", "count"), parse_quantity("1.5KiB", "bytes")
    (4100000000, 1536)
    """
    units = COUNT_UNITS if unit == "count" else BYTE_UNITS
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(_quantity_forms(unit))
    match = re.fullmatch(r"\s*([0-9][0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    suffix = match.group(2).lower() if match else ""
    if not match or suffix not in units:
        raise ValueError(_quantity_forms(unit))
    value = Fraction(match.group(1).replace("_", "")) * units[suffix]
    if value < 0:
        raise ValueError(_quantity_forms(unit))
    return int(value)


def _quantity_forms(unit: str) -> str:
    if unit == "count":
        return "expected a count such as 25557032, 26M or 4.1G (K/M/G/T are powers of 10)"
    return "expected a size such as 24GiB, 80GB or 512MiB (KiB/MiB/GiB are powers of 2, kB/MB/GB of 10)"
