"""One layer from the command line: its attributes parsed and validated as a spec's are, then
analyzed as a one-layer graph, with each quantity's worked formula.

Attribute values are read as YAML flow values, like a spec's (`5`, `[1, 3]`, `same`, `true`,
`2*16`), and converted by the kind's own attribute types (LayerKind.make_attrs), so an error
and its hint are the ones a spec gets; the span points into the command line.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from cnncalc.analysis.receptive_field import UNIT, AxisField
from cnncalc.analysis.report import Row, analyze
from cnncalc.dtypes import DTYPE_BYTES
from cnncalc.errors import Source, Span, SpecError, UsageError
from cnncalc.graph import LayerGraph, LayerNode
from cnncalc.layers.base import (
    REQUIRED,
    Attrs,
    LayerKind,
    Name,
    Shape,
    Step,
    Window,
    axis_names,
    lookup,
    shape_product,
    step,
)
from cnncalc.report.units import binary

#: where attribute errors point: the attribute part of the command line
COMMAND_LINE = "command line"


@dataclass(frozen=True)
class RawAttr:
    """One `--name value` (or `name=value`) from the command line, with the spans of both."""

    name: str
    text: str
    name_span: Span
    value_span: Span


def parse_attribute_args(kind_name: str, args: Sequence[str]) -> list[RawAttr]:
    """`--kernel 5`, `--kernel=5`, `kernel=5`, `-a kernel=5`; `--ceil-mode` alone is
    `ceil_mode=true` and `--no-bias` is `bias=false`. Dashes in names become underscores."""
    tokens = ["calc", kind_name, *args]
    source = Source(COMMAND_LINE, shlex.join(tokens))
    starts = _token_columns(tokens)

    def span(index: int, offset: int = 0, length: int | None = None) -> Span:
        column = starts[index] + offset
        return Span(source, 1, column, 1, column + max(1, len(tokens[index]) if length is None else length))

    result: list[RawAttr] = []
    seen: dict[str, Span] = {}
    index = 2
    while index < len(tokens):
        name, text, where, offset, following = _attribute_at(tokens, index)
        if name is None:
            raise UsageError(
                f"unexpected argument {tokens[index]!r}", span=span(index),
                hint="give attributes as --NAME VALUE or NAME=VALUE, e.g. --kernel 3 or kernel=3",
            )
        name_span = span(where if tokens[index] == "-a" else index)
        if name in seen:
            raise UsageError(f"attribute `{name}` is given twice", span=name_span,
                             hint=f"it is first given at column {seen[name].col}")
        seen[name] = name_span
        value_span = span(where, offset, len(text) if offset else None)
        result.append(RawAttr(name, text, name_span, value_span))
        index = following
    return result


def _attribute_at(tokens: Sequence[str], index: int) -> tuple[str | None, str, int, int, int]:
    """The attribute starting at tokens[index]: (name, value text, index of the token holding
    the value, the value's offset in it, index of the next attribute); name None if none."""
    token = tokens[index]
    if token == "-a" and index + 1 < len(tokens) and "=" in tokens[index + 1]:
        name, _, text = tokens[index + 1].partition("=")
        return name.replace("-", "_"), text, index + 1, len(name) + 1, index + 2
    if not token.startswith("--"):
        if "=" in token and not token.startswith("-"):
            name, _, text = token.partition("=")
            return name.replace("-", "_"), text, index, len(name) + 1, index + 1
        return None, "", index, 0, index + 1
    name, has_value, text = token[2:].partition("=")
    if has_value:
        return name.replace("-", "_"), text, index, len(name) + 3, index + 1
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if following is None or following.startswith("--") or ("=" in following and not following.startswith("[")):
        negated = name.startswith("no-")  # a flag: --ceil-mode, --no-bias
        return (name[3:] if negated else name).replace("-", "_"), "false" if negated else "true", index, 0, index + 1
    return name.replace("-", "_"), following, index + 1, 0, index + 2


def _token_columns(tokens: Sequence[str]) -> list[int]:
    """1-based column where each token starts in shlex.join(tokens)."""
    columns, column = [], 1
    for token in tokens:
        columns.append(column)
        column += len(shlex.quote(token)) + 1
    return columns


def read_value(attr: RawAttr) -> Any:
    """A command-line value read as a spec would read it (YAML 1.2 scalars and flow lists)."""
    from cnncalc.spec.loader import load

    if not attr.text.strip():
        raise UsageError(f"attribute `{attr.name}` has no value", span=attr.value_span)
    try:
        return load(Source(COMMAND_LINE, attr.text)).plain()
    except SpecError as error:
        raise SpecError(f"attribute `{attr.name}`: {error.message}", span=attr.value_span,
                        hint=error.hint) from None


def kind_span(kind_name: str, args: Sequence[str]) -> Span:
    """Where the kind is written on the command line (errors about a missing attribute)."""
    tokens = ["calc", kind_name, *args]
    column = _token_columns(tokens)[1]
    return Span(Source(COMMAND_LINE, shlex.join(tokens)), 1, column, 1, column + len(shlex.quote(kind_name)))


def make_attrs(kind: LayerKind, raw_attrs: Sequence[RawAttr], filled: dict[str, Any] | None = None,
               where: Span | None = None) -> Attrs:
    """The kind's Attrs from command-line attributes, validated by the kind (as in a spec).

    `filled` supplies values the command decides (numeric mode: `out` and `kernel` from the
    weights); a reference to another layer (max unpooling's `indices`) needs no value here.
    """
    raw = {attr.name: read_value(attr) for attr in raw_attrs}
    for attr in kind.attrs:
        if isinstance(attr.type, Name) and attr.name not in raw:
            raw[attr.name] = "(its pool)"
    raw = {**(filled or {}), **raw}
    try:
        return kind.make_attrs(raw)
    except SpecError as error:
        raise _located(kind, error, {a.name: a for a in raw_attrs}, raw, where) from None


def _located(kind: LayerKind, error: SpecError, given: dict[str, RawAttr], raw: dict[str, Any],
             where: Span | None) -> SpecError:
    """The error pointing at the attribute's value (a bad value) or name (an unknown one), with
    the hint a spec would get (expand.py's rules)."""
    if error.span is not None and error.span.source.path != COMMAND_LINE:
        error = SpecError(error.message, hint=error.hint)  # an expression's span inside the value
    on_value = error.message.startswith("attribute `")
    span = None
    if error.key in given:
        span = given[error.key].value_span if on_value else given[error.key].name_span
    hint = error.hint
    attr = kind.attr(error.key) if on_value and error.key else None
    missing = [a.name for a in kind.attrs if a.default is REQUIRED and a.name not in raw]
    if hint is None and attr is not None:
        hint = f"`{attr.name}` takes {attr.type.label}"
    elif hint is None and error.key is None and missing:
        hint = "add it: " + " ".join(f"--{name} ..." for name in missing)
    elif error.message.startswith(f"{kind.name} has no attribute") and hint and hint.startswith("did you mean"):
        hint = re.sub(r"`(\w+)`", lambda m: f"`--{m.group(1).replace('_', '-')}`", hint)
    return SpecError(error.message, span=error.span or span or where, hint=hint)


def kind_for(name: str) -> LayerKind:
    """The registry's kind, or an error naming close kinds (`cnncalc layers` lists them)."""
    kind = lookup(name)
    if kind.max_inputs == 0:
        raise UsageError(f"`{name}` is a graph input, not a layer", hint="`cnncalc layers` lists the kinds")
    return kind


@dataclass(frozen=True)
class Calculation:
    """One layer analyzed: its row of the analysis (the registry's numbers) and the worked steps."""

    kind: LayerKind
    attrs: Attrs
    inputs: tuple[Shape, ...]
    dtype: str
    row: Row
    steps: list[Step]
    rf_steps: list[Step]

    @property
    def output(self) -> Shape:
        return self.row.output_shape


def one_layer_graph(kind: LayerKind, attrs: Attrs, inputs: Sequence[Shape], dtype: str) -> LayerGraph:
    """A graph of the inputs (batch included in each shape) and the one layer reading them all."""
    graph = LayerGraph(kind.name, dtype=dtype, batch=inputs[0][0])
    source = lookup("input")
    names = ["input"] if len(inputs) == 1 else [f"input{i}" for i in range(len(inputs))]
    for name, shape in zip(names, inputs, strict=True):
        graph.add(LayerNode(name, source, source.make_attrs({"shape": list(shape[1:]), "batch": shape[0]}), ()))
    graph.add(LayerNode(kind.name, kind, attrs, tuple(names)))
    graph.outputs = [kind.name]
    return graph


def calculate(kind: LayerKind, attrs: Attrs, inputs: Sequence[Shape], dtype: str = "float32") -> Calculation:
    """Analyze one layer (shape, cost, memory and receptive-field passes) and explain it."""
    if not kind.min_inputs <= len(inputs) <= (kind.max_inputs or len(inputs)):
        want = kind.min_inputs if kind.min_inputs == kind.max_inputs else f"{kind.min_inputs}+"
        raise UsageError(f"{kind.name} takes {want} input(s), found {len(inputs)}",
                         hint="repeat --input for each input of a merge (add, concat, ...)")
    report = analyze(one_layer_graph(kind, attrs, inputs, dtype), peaks=False)
    row = report.rows[0]
    steps = kind.explain(attrs, list(inputs))
    for quantity, value in (("params", row.params), ("MACs", row.macs), ("FLOPs", row.flops)):
        shown = next(s.value for s in steps if s.quantity == quantity)
        if shown != value:  # the analysis and the registry disagree: a bug, not a user error
            raise RuntimeError(f"{kind.name}: {quantity} step {shown} != analysis {value}")
    steps.append(memory_step(row, dtype))
    windows = kind.window(attrs, list(inputs), row.output_shape)
    rf_steps = [] if row.rf is None or windows is None else field_steps(windows, row.rf.axes)
    return Calculation(kind, attrs, tuple(inputs), dtype, row, steps, rf_steps)


def memory_step(row: Row, dtype: str) -> Step:
    """Bytes of the layer's output tensor (the `Memory` column of `cnncalc summary`)."""
    elements, numbers = shape_product(row.output_shape, "_out")
    size = DTYPE_BYTES[dtype]
    note = f"{dtype}: {size} bytes per element" + (
        f"; {binary(row.activation_bytes)}" if row.activation_bytes >= 1024 else "")
    return step("output memory", f"{elements}·{{bytes}}", row.activation_bytes, note, bytes=size, **numbers)


def field_steps(windows: Sequence[Window], axes: Sequence[AxisField]) -> list[Step]:
    """How the layer's window makes the receptive field of one output unit on its input:
    size, jump and start per axis (cnncalc.analysis.receptive_field composes them the same way,
    starting from one input pixel; the values shown are that pass's). Axes with the same window
    are shown once."""
    names = axis_names(len(windows))
    same = all(w == windows[0] for w in windows) and all(a == axes[0] for a in axes)
    pairs = [("", windows[0], axes[0])] if same else [(f" {n}", w, a) for n, w, a in zip(names, windows, axes)]
    steps: list[Step] = []
    for suffix, w, axis in pairs:
        quantities = [f"RF size{suffix}", f"RF jump{suffix}", f"RF start{suffix}"]
        values = [axis.size, axis.jump, axis.start]
        fractional = isinstance(w.stride, Fraction) and w.stride.denominator != 1
        if fractional or UNIT.through(w) != axis:  # adaptive windows; a merge of unlike fields
            steps += [Step(q, "", "", v) for q, v in zip(quantities, values)]
            continue
        numbers = {"k": w.kernel, "s": int(w.stride), "d": w.dilation, "p": w.pad_begin}
        span = "({k} − 1)" if w.dilation == 1 else "{d}·({k} − 1)"
        if w.transposed:
            reach = "{k}" if w.dilation == 1 else "({d}·({k} − 1) + 1)"
            templates = [f"⌈{reach}/{{s}}⌉", "1/{s}", f"({{p}} − {span}/2)/{{s}}"]
        else:
            templates = [f"1 + {span}", "{s}", f"{span}/2 − {{p}}"]
        steps += [step(q, t, v, **numbers) for q, t, v in zip(quantities, templates, values)]
    return steps
