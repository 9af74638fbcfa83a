"""Text and JSON for `cnncalc calc` and `cnncalc solve` (plain data in, one string out).

JSON numbers stay exact: ints as ints, other fractions as strings such as "4/9".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from cnncalc.calc.apply import NumericResult
from cnncalc.calc.chain import Trace
from cnncalc.calc.layer import Calculation
from cnncalc.calc.numeric import Matrix, matvec, transposed, vec
from cnncalc.calc.solve import ATTRIBUTES, Problem, Solution, determined
from cnncalc.layers.base import Attrs, LayerKind, Name, Step
from cnncalc.report.to_json import row_dict
from cnncalc.report.units import shape_text

CALC_SCHEMA = "cnncalc.calc/1"
NUMERIC_SCHEMA = "cnncalc.calc.numeric/1"
CHAIN_SCHEMA = "cnncalc.calc.chain/1"
SOLVE_SCHEMA = "cnncalc.solve/1"


def number_text(value: int | Fraction, grouped: bool = False) -> str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return f"{int(value):,}" if grouped else str(int(value))


def json_number(value: int | Fraction) -> int | str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return int(value)


def attr_text(value: Any) -> str:
    """An attribute as a user writes it: per-axis values that agree shown once (`kernel=5`)."""
    if isinstance(value, tuple):
        if value and all(v == value[0] for v in value):
            return attr_text(value[0])
        return "[" + ", ".join(attr_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return "null" if value is None else str(value)


def json_attr(value: Any) -> Any:
    if isinstance(value, tuple):
        return [json_attr(v) for v in value]
    return value


def attrs_line(attrs: Attrs, kind: LayerKind) -> str:
    """The attributes, without references to other layers (a single layer has none to name)."""
    shown = [a.name for a in kind.attrs if not isinstance(a.type, Name)]
    return ", ".join(f"{name}={attr_text(attrs[name])}" for name in shown)


# -- one layer ------------------------------------------------------------------------------


def steps_text(steps: Sequence[Step], indent: str = "  ") -> list[str]:
    """`quantity = formula = substituted = value`, columns aligned; notes on the next line."""
    width = max((len(s.quantity) for s in steps), default=0)
    formula_width = max((len(s.formula) for s in steps if s.substituted), default=0)
    lines = []
    for s in steps:
        value = number_text(s.value, grouped=True)
        if s.substituted and s.substituted != number_text(s.value):
            lines.append(f"{indent}{s.quantity:<{width}} = {s.formula:<{formula_width}} = {s.substituted} = {value}")
        elif s.substituted:
            lines.append(f"{indent}{s.quantity:<{width}} = {s.formula:<{formula_width}} = {value}")
        elif s.formula:
            lines.append(f"{indent}{s.quantity:<{width}} = {value}   ({s.formula})")
        else:
            lines.append(f"{indent}{s.quantity:<{width}} = {value}")
        if s.note:
            lines.append(f"{indent}{'':<{width}}   ({s.note})")
    return lines


def calculation_text(calc: Calculation) -> str:
    inputs = ", ".join(shape_text(s) for s in calc.inputs)
    lines = [
        f"{calc.kind.name} on {inputs} -> {shape_text(calc.output)}",
        f"attributes: {attrs_line(calc.attrs, calc.kind) or '(none)'}",
        "",
        *steps_text(calc.steps),
    ]
    lines += ["", "receptive field of one output unit on the input",
              "(size: input pixels it reads; jump: between neighbouring units; start: unit 0's centre):"]
    lines += steps_text(calc.rf_steps) if calc.rf_steps else ["  none (the output has no spatial axes that map onto the input's)"]
    lines += ["", "MACs: multiply-accumulates, bias excluded; FLOPs: 2·MACs + bias adds + elementwise work "
              "(docs/conventions.md)."]
    return "\n".join(lines) + "\n"


def step_dict(s: Step) -> dict[str, Any]:
    return {"quantity": s.quantity, "formula": s.formula, "substituted": s.substituted,
            "value": json_number(s.value), "note": s.note}


def calculation_dict(calc: Calculation) -> dict[str, Any]:
    row = row_dict(calc.row)
    return {
        "schema": CALC_SCHEMA,
        "kind": calc.kind.name,
        "attrs": {name: json_attr(value) for name, value in calc.attrs.items()},
        "inputs": [list(s) for s in calc.inputs],
        "output_shape": list(calc.output),
        "dtype": calc.dtype,
        "params": row["params"],
        "buffers": row["buffers"],
        "macs": row["macs"],
        "flops": row["flops"],
        "flops_by_category": row["flops_by_category"],
        "output_bytes": row["activation_bytes"],
        "rf": row["rf"],
        "steps": [step_dict(s) for s in calc.steps],
        "rf_steps": [step_dict(s) for s in calc.rf_steps],
    }


# -- numeric mode ---------------------------------------------------------------------------


def matrix_lines(m: Matrix, indent: str = "  ") -> list[str]:
    cells = [[number_text(v) for v in row] for row in m]
    width = max(len(c) for row in cells for c in row)
    return [indent + "  ".join(c.rjust(width) for c in row) for row in cells]


def maps_lines(title: str, maps: Sequence[Matrix]) -> list[str]:
    lines = []
    for index, m in enumerate(maps):
        rows, cols = len(m), len(m[0])
        label = f" {index}" if len(maps) > 1 else ""
        lines += [f"{title}{label} ({rows}x{cols}):", *matrix_lines(m), ""]
    return lines


def numeric_text(result: NumericResult) -> str:
    lines = [f"{result.kind.name}: {attrs_line(result.attrs, result.kind)}", ""]
    lines += maps_lines("input", result.inputs)
    for f, weights in enumerate(result.weights):
        lines += maps_lines(f"weights {f}" if len(result.weights) > 1 else "weights", weights)
    lines += maps_lines("output", result.outputs)
    if result.indices is not None:
        lines += maps_lines("indices (flat, row-major)", result.indices)
    if result.toeplitz is not None:
        lines += toeplitz_lines(result)
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def toeplitz_lines(result: NumericResult) -> list[str]:
    assert result.toeplitz is not None
    matrix = result.toeplitz
    rows, cols = len(matrix), len(matrix[0])
    flat = [v for x in result.inputs for v in vec(x)]
    if result.toeplitz_transposed:
        product = matvec(transposed(matrix), flat)
        return [
            f"convolution matrix C ({rows}x{cols}: a row per position of the input x, a column per "
            "position of the output; the forward convolution with these weights):",
            *matrix_lines(matrix), "",
            f"output = Cᵀ·v(x) = [{', '.join(number_text(v) for v in product)}] (row-major)", "",
        ]
    product = matvec(matrix, flat)
    return [
        f"Toeplitz matrix U ({rows}x{cols}: a row per output position, a column per input position, "
        "both row-major; channels side by side):",
        *matrix_lines(matrix), "",
        f"U·v(x) = [{', '.join(number_text(v) for v in product)}] = the output, row-major", "",
    ]


def numeric_dict(result: NumericResult) -> dict[str, Any]:
    def maps(ms: Sequence[Matrix]) -> list[list[list[int | str]]]:
        return [[[json_number(v) for v in row] for row in m] for m in ms]

    data: dict[str, Any] = {
        "schema": NUMERIC_SCHEMA,
        "kind": result.kind.name,
        "attrs": {a.name: json_attr(result.attrs[a.name]) for a in result.kind.attrs if not isinstance(a.type, Name)},
        "input": maps(result.inputs),
        "weights": [maps(w) for w in result.weights],
        "output": maps(result.outputs),
        "indices": maps(result.indices) if result.indices is not None else None,
        "toeplitz": maps([result.toeplitz])[0] if result.toeplitz is not None else None,
        "toeplitz_transposed": result.toeplitz_transposed,
        "notes": result.notes,
    }
    return data


# -- chain ----------------------------------------------------------------------------------


def chain_text(trace: Trace) -> str:
    """The shape trace: one line per layer, with parameters, MACs and the output-size working
    (axes with the same working shown once)."""
    report = trace.report
    header = ("layer", "kind", "output shape", "params", "MACs", "output size")
    rows = [header]
    for r in report.rows:
        working = _size_working(trace.sizes.get(r.name, []))
        rows.append((r.name, r.kind, shape_text(r.output_shape), f"{r.params:,}", f"{r.macs:,}", working))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    inputs = ", ".join(f"{name} {shape_text(shape)}" for name, shape in report.inputs.items())
    lines = [f"input: {inputs}"]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]),
                 row[3].rjust(widths[3]), row[4].rjust(widths[4]), row[5]]
        lines.append("  ".join(cells).rstrip())
    t = report.totals
    lines.append(f"total: {t.params:,} params, {t.macs:,} MACs, {t.flops:,} FLOPs")
    return "\n".join(lines) + "\n"


def _size_working(steps: Sequence[Step]) -> str:
    spatial = [s for s in steps if s.quantity != "C_out"]
    if spatial and len({(s.substituted, s.value) for s in spatial}) == 1:
        axes = ", ".join(s.quantity[:-4] for s in spatial)
        return f"{axes}: {spatial[0].substituted} = {number_text(spatial[0].value)}"
    return "; ".join(f"{s.quantity[:-4]}: {s.substituted} = {number_text(s.value)}" for s in spatial)


def chain_dict(trace: Trace) -> dict[str, Any]:
    report = trace.report
    return {
        "schema": CHAIN_SCHEMA,
        "inputs": {name: list(shape) for name, shape in report.inputs.items()},
        "layers": [{**row_dict(row), "size_steps": [step_dict(s) for s in trace.sizes.get(row.name, [])]}
                   for row in report.rows],
        "totals": {"params": report.totals.params, "macs": report.totals.macs, "flops": report.totals.flops},
    }


# -- solve ----------------------------------------------------------------------------------


def _columns(problem: Problem) -> tuple[str, ...]:
    return ATTRIBUTES if problem.transposed else ATTRIBUTES[:-1]


def solve_text(problem: Problem, solutions: Sequence[Solution]) -> str:
    what = "transposed convolutions" if problem.transposed else (
        "pooling windows (ceil_mode)" if problem.ceil_mode else "windows")
    b = problem.bounds
    padding = "⌊k̂/2⌋" + (f" and {b.max_padding}" if b.max_padding is not None else "")
    fixed = [f"{name}={getattr(problem.fixed, name)}" for name in ATTRIBUTES if getattr(problem.fixed, name) is not None]
    lines = [
        f"{what} mapping {problem.size_in} -> {problem.size_out}"
        + (f" with {', '.join(fixed)}" if fixed else ""),
        f"search: kernel <= {b.max_kernel}, stride <= {b.max_stride}, dilation <= {b.max_dilation}, "
        f"padding <= {padding}" + (", output_padding < max(stride, dilation)" if problem.transposed else ""),
        "",
    ]
    columns = _columns(problem)
    header = [*columns, "check"]
    table = [[str(getattr(s, name)) for name in columns] + [f"{s.check.substituted} = {s.check.value}"]
             for s in solutions]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        cells = [cell.rjust(w) for cell, w in zip(row[:-1], widths)] + [row[-1]]
        lines.append("  " + "  ".join(cells))
    lines.append("")
    if not solutions:
        lines.append("no configuration within these bounds (raise --max-kernel, --max-stride, --max-dilation?)")
    elif len(solutions) == 1:
        lines.append("the answer is unique within these bounds")
    else:
        lines.append(f"{len(solutions)} configurations: the answer is not unique within these bounds")
        fixed_by = determined(problem, list(solutions))
        if fixed_by:
            lines.append("the same in all of them: " + ", ".join(f"{k}={v}" for k, v in fixed_by.items()))
    return "\n".join(lines) + "\n"


def solve_dict(problem: Problem, solutions: Sequence[Solution]) -> dict[str, Any]:
    b = problem.bounds
    return {
        "schema": SOLVE_SCHEMA,
        "input": problem.size_in,
        "output": problem.size_out,
        "transposed": problem.transposed,
        "ceil_mode": problem.ceil_mode,
        "fixed": {name: getattr(problem.fixed, name) for name in ATTRIBUTES
                  if getattr(problem.fixed, name) is not None},
        "bounds": {"max_kernel": b.max_kernel, "max_stride": b.max_stride, "max_dilation": b.max_dilation,
                   "max_padding": b.max_padding, "padding_at_most_half_kernel": True},
        "solutions": [
            {**{name: getattr(s, name) for name in _columns(problem)},
             "check": f"{s.check.substituted} = {s.check.value}"}
            for s in solutions
        ],
        "count": len(solutions),
        "unique": len(solutions) == 1,
        "determined": determined(problem, list(solutions)),
    }


def to_json(data: dict[str, Any]) -> str:
    """Indented JSON with every list of scalars (a shape, a matrix row) on one line."""
    return _dumps(data, "") + "\n"


def _dumps(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {_dumps(item, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return "[\n" + ",\n".join(inner + _dumps(item, inner) for item in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)
