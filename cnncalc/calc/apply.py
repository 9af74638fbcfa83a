"""Numeric mode of `cnncalc calc`: apply one layer to a small matrix given on the command line.

The layer's attributes are validated by its kind, exactly as in shape mode; the kind's shape
rule must agree with the size of the exact result (a mismatch is a bug and raises). Matrices are
written `1 2 3; 4 5 6` (rows separated by `;` or newlines, values by spaces or commas; ints,
decimals and fractions such as `1/9`), channels separated by `|`, or read from `@FILE`.
1-D kinds (conv1d, maxpool1d, ...) take a one-row matrix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from cnncalc.calc import numeric
from cnncalc.calc.layer import RawAttr, make_attrs
from cnncalc.calc.numeric import Matrix, Number
from cnncalc.errors import Span, UsageError
from cnncalc.layers.base import Attrs, LayerKind, suggest

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(/\d+)?$")


def read_text(text: str, option: str) -> str:
    """The option's text, or the contents of FILE for `@FILE`."""
    if not text.startswith("@"):
        return text
    path = Path(text[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{option} {text}: cannot read {path} ({error.strerror})") from None


def parse_number(token: str, option: str) -> Number:
    token = token.replace("−", "-")
    if not _NUMBER.match(token):
        raise UsageError(f"{option}: {token!r} is not a number",
                         hint="values are ints, decimals (0.5) or fractions (1/9)")
    value = Fraction(token)
    return numeric.exact(value)


def parse_matrix(text: str, option: str) -> Matrix:
    """`1 2 3; 4 5 6` -> [[1, 2, 3], [4, 5, 6]] (exact numbers), rectangular or an error."""
    rows = [row for row in re.split(r"[;\n]", text) if row.strip()]
    matrix = [[parse_number(token, option) for token in re.split(r"[\s,]+", row.strip().strip("[]")) if token]
              for row in rows]
    if not matrix or not matrix[0]:
        raise UsageError(f"{option}: the matrix is empty", hint='write rows separated by ";": "1 2; 3 4"')
    for number, row in enumerate(matrix):
        if len(row) != len(matrix[0]):
            raise UsageError(f"{option}: row {number + 1} has {len(row)} values, row 1 has {len(matrix[0])}",
                             hint="every row needs the same number of values")
    return matrix


def parse_channels(text: str, option: str) -> list[Matrix]:
    """Channels separated by `|`, all of one size."""
    channels = [parse_matrix(part, option) for part in read_text(text, option).split("|")]
    sizes = {numeric.size(c) for c in channels}
    if len(sizes) > 1:
        raise UsageError(f"{option}: channels have different sizes {sorted(sizes)}")
    return channels


@dataclass(frozen=True)
class NumericResult:
    """A layer applied to exact numbers: the maps in and out, what was used to get there."""

    kind: LayerKind
    attrs: Attrs
    inputs: list[Matrix]
    outputs: list[Matrix]
    weights: list[list[Matrix]] = field(default_factory=list)
    indices: list[Matrix] | None = None
    #: the layer as one matrix product: outputs (flattened) = toeplitz @ inputs (flattened), or
    #: for a transposed convolution outputs = toeplitzᵀ @ inputs
    toeplitz: Matrix | None = None
    toeplitz_transposed: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    kind: LayerKind
    attrs: list[RawAttr]
    matrix: str
    weights: list[str]
    toeplitz: bool
    #: where the kind is written on the command line
    where: Span | None = None


def apply(request: Request) -> NumericResult:
    """Dispatch on the layer's family of numeric rules (the kinds numeric.py can compute)."""
    name = request.kind.name
    rule = NUMERIC.get(name)
    if rule is None:
        raise UsageError(
            f"numeric mode does not compute {name}",
            hint=(suggest(name, list(NUMERIC)) or "") + f" numeric mode takes: {', '.join(NUMERIC)}",
        )
    if request.weights and rule not in (_conv, _transposed):
        raise UsageError(f"{name} takes no --weights")
    if request.toeplitz and rule not in (_conv, _transposed):
        raise UsageError(f"--toeplitz needs a convolution; {name} is not linear in one matrix")
    inputs = parse_channels(request.matrix, "--matrix")
    one_d = request.kind.spatial_dims == 1
    if one_d and numeric.size(inputs[0])[0] != 1:
        raise UsageError(f"{name} is 1-D: give --matrix as one row, e.g. \"1 2 3 4\"")
    return rule(request, inputs, one_d)


def _pairs(values: Sequence[int], one_d: bool, fill: int = 1) -> tuple[int, int]:
    return (fill, values[0]) if one_d else (values[0], values[-1])


def _shape(inputs: list[Matrix]) -> tuple[int, ...]:
    """The registry's shape of the input: [1, C, W] for a one-row 1-D input, else [1, C, H, W]."""
    rows, cols = numeric.size(inputs[0])
    return (1, len(inputs), rows, cols)


def _check_against_registry(kind: LayerKind, attrs: Attrs, ins: tuple[int, ...], outputs: list[Matrix]) -> None:
    """The exact result has the size the layer's shape rule computes (else cnncalc has a bug)."""
    expected = kind.shape(attrs, [ins])
    rows, cols = numeric.size(outputs[0])
    got = (1, len(outputs), cols) if len(ins) == 3 else (1, len(outputs), rows, cols)
    if tuple(expected) != got:
        raise RuntimeError(f"{kind.name}: numeric result {got} != shape rule {tuple(expected)}")


def _registry_shape(inputs: list[Matrix], one_d: bool) -> tuple[int, ...]:
    shape = _shape(inputs)
    return (shape[0], shape[1], shape[3]) if one_d else shape


def _conv(request: Request, inputs: list[Matrix], one_d: bool) -> NumericResult:
    if not request.weights:
        raise UsageError("a convolution needs --weights (one per filter; channels separated by |)",
                         hint='e.g. --weights "1 0; 0 -1"')
    filters = [parse_channels(text, "--weights") for text in request.weights]
    kh, kw = numeric.size(filters[0][0])
    kernel = [kw] if one_d else [kh, kw]
    if one_d and kh != 1:
        raise UsageError("a 1-D convolution takes --weights as one row")
    attrs = _attrs_with(request, {"out": len(filters), "kernel": kernel})
    if attrs.get("groups", 1) != 1:
        raise UsageError("numeric mode computes groups=1 convolutions only")
    ins = _registry_shape(inputs, one_d)
    pads = request.kind.padding(attrs, [ins])  # type: ignore[attr-defined]
    pads2 = ((0, 0), pads[0]) if one_d else (pads[0], pads[1])
    stride, dilation = _pairs(attrs.stride, one_d), _pairs(attrs.dilation, one_d)
    mode = attrs.get("padding_mode", "zeros")
    source = [numeric.pad2d(x, pads2, mode) for x in inputs] if mode != "zeros" else inputs
    zero: numeric.Pads = ((0, 0), (0, 0))
    outputs = numeric.conv2d_channels(source, filters, stride, zero if mode != "zeros" else pads2, dilation)
    _check_against_registry(request.kind, attrs, ins, outputs)
    notes = ["cross-correlation (no kernel flip), as in PyTorch"]
    if attrs.get("bias"):
        notes.append("no bias added (numeric mode applies the weights only)")
    matrix = None
    if request.toeplitz:
        if mode != "zeros":
            raise UsageError(f"--toeplitz: {mode} padding copies input values, so the matrix would "
                             "not be the convolution's own", hint="use padding_mode zeros")
        size = numeric.size(inputs[0])
        matrix = [row for weights in filters
                  for row in _concat([numeric.convolution_matrix(size, w, stride, pads2, dilation) for w in weights])]
    return NumericResult(request.kind, attrs, inputs, outputs, filters, toeplitz=matrix, notes=notes)


def _concat(blocks: list[Matrix]) -> Matrix:
    """Matrices side by side (one block of columns per input channel)."""
    return [[v for block in blocks for v in block[i]] for i in range(len(blocks[0]))]


def _transposed(request: Request, inputs: list[Matrix], one_d: bool) -> NumericResult:
    if len(request.weights) != 1 or len(inputs) != 1:
        raise UsageError("numeric mode computes a transposed convolution of one channel with one --weights")
    (w,) = parse_channels(request.weights[0], "--weights")
    kh, kw = numeric.size(w)
    if one_d and kh != 1:
        raise UsageError("a 1-D transposed convolution takes --weights as one row")
    attrs = _attrs_with(request, {"out": 1, "kernel": [kw] if one_d else [kh, kw]})
    stride, padding = _pairs(attrs.stride, one_d), _pairs(attrs.padding, one_d, 0)
    dilation, extra = _pairs(attrs.dilation, one_d), _pairs(attrs.output_padding, one_d, 0)
    output = numeric.conv_transpose2d(inputs[0], w, stride, padding, extra, dilation)
    ins = _registry_shape(inputs, one_d)
    _check_against_registry(request.kind, attrs, ins, [output])
    matrix = None
    if request.toeplitz:
        matrix = numeric.toeplitz(numeric.size(output), w, stride, padding, dilation)
        if len(matrix) != len(numeric.vec(inputs[0])):
            raise UsageError("--toeplitz: this output_padding makes a grid the forward convolution "
                             "does not map back to the input size")
    notes = ["scatter-add: input (i, j) adds x·w at (i·s − p + a, j·s − p + b)"]
    return NumericResult(request.kind, attrs, inputs, [output], [[w]], toeplitz=matrix,
                         toeplitz_transposed=True, notes=notes)


def _pool(request: Request, inputs: list[Matrix], one_d: bool) -> NumericResult:
    attrs = _attrs_with(request, {})
    ins = _registry_shape(inputs, one_d)
    pads = request.kind.pads(attrs, [ins])  # type: ignore[attr-defined]
    if any(b != e or b > k // 2 for (b, e), k in zip(pads, attrs.kernel)):
        raise UsageError("numeric mode pools with symmetric padding of at most half the kernel",
                         hint="give padding as an int or per axis")
    op = request.kind.op  # type: ignore[attr-defined]
    kernel, stride = _pairs(attrs.kernel, one_d), _pairs(attrs.kernel if attrs.stride is None else attrs.stride, one_d)
    padding = _pairs([p for p, _ in pads], one_d, 0)
    dilation = _pairs(attrs.get("dilation", (1,)), one_d)
    results = [numeric.pool2d(x, kernel, stride, padding, op, attrs.ceil_mode,
                              attrs.get("count_include_pad", True), dilation) for x in inputs]
    outputs = [r[0] for r in results]
    _check_against_registry(request.kind, attrs, ins, outputs)
    indices = [r[1] for r in results if r[1] is not None] or None
    notes = (["−∞ padding; indices are flat positions in the input (row-major), the first maximum on ties"]
             if op == "max" else
             ["divisor: the window within the padded input" + ("" if attrs.count_include_pad
                                                                 else ", padding excluded")])
    return NumericResult(request.kind, attrs, inputs, outputs, indices=indices, notes=notes)


def _unpool(request: Request, inputs: list[Matrix], one_d: bool) -> NumericResult:
    given = [a for a in request.attrs if a.name == "indices"]
    if not given:
        raise UsageError("max unpooling needs --indices: the flat positions its max pool took each value from",
                         hint="`cnncalc calc maxpool2d --matrix ...` prints them")
    indices = parse_channels(given[0].text, "--indices")
    rest = Request(request.kind, [a for a in request.attrs if a.name != "indices"], request.matrix, [], False,
                   request.where)
    attrs = _attrs_with(rest, {})
    ins = _registry_shape(inputs, one_d)
    out = request.kind.shape(attrs, [ins])
    size = (1, out[-1]) if one_d else (out[-2], out[-1])
    if len(indices) != len(inputs):
        raise UsageError(f"--indices has {len(indices)} channels, --matrix {len(inputs)}")
    outputs = [numeric.max_unpool2d(x, i, size) for x, i in zip(inputs, indices)]
    return NumericResult(request.kind, attrs, inputs, outputs, indices=indices,
                         notes=["each value goes to its flat index; zeros elsewhere"])


def _nails(request: Request, inputs: list[Matrix], one_d: bool) -> NumericResult:
    attrs = _attrs_with(request, {})
    outputs = [numeric.bed_of_nails2d(x, _pairs(attrs.scale, False)) for x in inputs]
    _check_against_registry(request.kind, attrs, _shape(inputs), outputs)
    return NumericResult(request.kind, attrs, inputs, outputs, notes=["values at the top-left of each block"])


def _nearest(request: Request, inputs: list[Matrix], one_d: bool) -> NumericResult:
    attrs = _attrs_with(request, {})
    if attrs.mode != "nearest" or attrs.scale is None:
        raise UsageError("numeric mode upsamples with mode nearest and an integer --scale")
    outputs = [numeric.nearest_upsample2d(x, _pairs(attrs.scale, False)) for x in inputs]
    _check_against_registry(request.kind, attrs, _shape(inputs), outputs)
    return NumericResult(request.kind, attrs, inputs, outputs, notes=["each value repeated over its block"])


def _attrs_with(request: Request, filled: dict[str, Any]) -> Attrs:
    """The kind's attributes, with those the matrices decide filled in (a different value given
    on the command line is an error, not silently replaced)."""
    attrs = make_attrs(request.kind, request.attrs, filled, request.where)
    given = {a.name: a for a in request.attrs}
    for name, value in filled.items():
        wanted = tuple(value) if isinstance(value, list) else value
        if name in given and attrs[name] != wanted:
            raise UsageError(f"--{name} {given[name].text} disagrees with the weights ({value})",
                             span=given[name].value_span, hint=f"leave --{name} out: the weights give it")
    return attrs


NUMERIC: dict[str, Callable[[Request, list[Matrix], bool], NumericResult]] = {
    "conv1d": _conv, "conv2d": _conv,
    "conv_transpose1d": _transposed, "conv_transpose2d": _transposed,
    "maxpool1d": _pool, "maxpool2d": _pool, "avgpool1d": _pool, "avgpool2d": _pool,
    "max_unpool1d": _unpool, "max_unpool2d": _unpool,
    "bed_of_nails": _nails, "upsample": _nearest,
}
