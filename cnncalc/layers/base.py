"""The layer registry: each layer kind is one class that owns every fact about it.

A kind declares its attributes (type, default, documentation) and answers, from plain ints and
tuples, the questions the analysis passes ask: output shape, parameter and buffer counts, MACs,
FLOPs by category, its sliding window per spatial axis (for receptive fields) and the equivalent
torch module. Graph, analysis and backend code never switch on kind names.

Shapes always include the batch axis: (N, C, *spatial) for feature maps, (N, ..., F) for linear
layers. Counting conventions are stated in docs/conventions.md and printed under every table:

- MACs: multiply-accumulates of convolution, linear and matmul only, bias excluded.
- FLOPs: 2*MACs ("conv"/"linear"/"matmul") plus bias adds ("bias") plus elementwise work
  ("norm", "activation", "pool", "merge", "upsample"), each category kept apart.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Any, ClassVar

from cnncalc.errors import ShapeError, SpecError

Shape = tuple[int, ...]
Evaluate = Callable[[str], Any]

FLOP_CATEGORIES = (
    "conv", "linear", "matmul", "bias", "norm", "activation", "pool", "merge", "upsample", "other",
)

#: parts of a layer's backward FLOPs (see LayerKind.backward_flops)
BACKWARD_PARTS = ("grad_input", "grad_weight", "grad_bias")


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


# ---------------------------------------------------------------------------------------------
# Attribute types: each converts a spec value (already YAML-decoded; strings may be expressions)
# into the value the kind's rules use, or raises SpecError saying what was expected.


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if value is None:
        return "null"
    return f"{type(value).__name__} {value!r}"


def to_int(value: Any, evaluate: Evaluate, what: str = "an integer") -> int:
    if isinstance(value, str):
        value = evaluate(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"expected {what}, found {_describe(value)}")
    return value


def expand_string(value: Any, evaluate: Evaluate) -> Any:
    """An expression string evaluated (it may give a list: `"[c // 4, c // 4]"`); other values as they are."""
    if isinstance(value, str):
        value = evaluate(value)
        return list(value) if isinstance(value, tuple) else value
    return value


class AttrType:
    """How one attribute's value is written and checked."""

    label = "value"

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> Any:
        raise NotImplementedError


class Int(AttrType):
    def __init__(self, minimum: int | None = 0, optional: bool = False):
        self.minimum = minimum
        self.optional = optional
        self.label = "int or null" if optional else "int"

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> int | None:
        if value is None and self.optional:
            return None
        number = to_int(value, evaluate)
        if self.minimum is not None and number < self.minimum:
            raise SpecError(f"expected an integer >= {self.minimum}, found {number}")
        return number


class Float(AttrType):
    label = "float"

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> float:
        if isinstance(value, str):
            value = evaluate(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"expected a number, found {_describe(value)}")
        return float(value)


class Bool(AttrType):
    label = "bool"

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> bool:
        if isinstance(value, str):
            value = evaluate(value)
        if not isinstance(value, bool):
            raise SpecError(f"expected true or false, found {_describe(value)}")
        return value


class Choice(AttrType):
    def __init__(self, *choices: str, aliases: Mapping[str, str] | None = None):
        self.choices = choices
        self.aliases = dict(aliases or {})
        self.label = " | ".join(choices)

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> str:
        value = self.aliases.get(value, value) if isinstance(value, str) else value
        if value not in self.choices:
            raise SpecError(
                f"expected one of {', '.join(self.choices)}, found {_describe(value)}",
                hint=suggest(str(value), self.choices),
            )
        return str(value)


class Name(AttrType):
    """A reference to another layer, by name (resolved by the graph builder)."""

    label = "layer name"

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> str:
        if not isinstance(value, str):
            raise SpecError(f"expected a layer name, found {_describe(value)}")
        return value


class PerAxis(AttrType):
    """An int for every spatial axis, or one int for all of them: `3` or `[1, 3]`."""

    def __init__(self, minimum: int = 1, optional: bool = False):
        self.minimum = minimum
        self.optional = optional
        self.label = "int | [int, ...]" + (" | null" if optional else "")

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> tuple[int, ...] | None:
        if value is None and self.optional:
            return None
        value = expand_string(value, evaluate)
        if isinstance(value, list):
            if ndim is not None and len(value) != ndim:
                raise SpecError(
                    f"expected {ndim} values (one per spatial axis), found {len(value)}"
                )
            numbers = tuple(to_int(v, evaluate) for v in value)
        else:
            numbers = (to_int(value, evaluate),) * (ndim or 1)
        for number in numbers:
            if number < self.minimum:
                raise SpecError(f"expected integers >= {self.minimum}, found {number}")
        return numbers


class Padding(AttrType):
    """`p`, `[p_h, p_w]`, `[[top, bottom], [left, right]]`, `same` or `valid`."""

    label = "int | [int, ...] | [[begin, end], ...] | same | valid"

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> Any:
        if value in ("same", "valid"):
            return value
        axes = ndim or 1
        if isinstance(value, str) and value.isidentifier():
            close = difflib.get_close_matches(value, ["same", "valid"], n=1)
            if close:
                raise SpecError(
                    f"expected an int, a list, same or valid, found string {value!r}",
                    hint=f"did you mean `{close[0]}`?",
                )
        value = expand_string(value, evaluate)
        if not isinstance(value, list):
            p = to_int(value, evaluate, "an int, a list, same or valid")
            pairs = ((p, p),) * axes
        elif len(value) != axes:
            raise SpecError(f"expected {axes} padding entries (one per spatial axis), found {len(value)}")
        else:
            pairs = tuple(self._pair(v, evaluate) for v in value)
        for pair in pairs:
            if min(pair) < 0:
                raise SpecError(f"padding must not be negative, found {min(pair)}")
        return pairs

    @staticmethod
    def _pair(value: Any, evaluate: Evaluate) -> tuple[int, int]:
        if isinstance(value, list):
            if len(value) != 2:
                raise SpecError(f"expected [begin, end], found a list of {len(value)}")
            return to_int(value[0], evaluate), to_int(value[1], evaluate)
        p = to_int(value, evaluate)
        return p, p


class Ints(AttrType):
    """A list of ints of any length (a shape), or a single int."""

    def __init__(self, optional: bool = False, minimum: int | None = None):
        self.optional = optional
        self.minimum = minimum
        self.label = "[int, ...]" + (" | null" if optional else "")

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> tuple[int, ...] | None:
        if value is None and self.optional:
            return None
        value = expand_string(value, evaluate)
        items = value if isinstance(value, list) else [value]
        numbers = tuple(to_int(v, evaluate) for v in items)
        if self.minimum is not None and any(n < self.minimum for n in numbers):
            raise SpecError(f"expected integers >= {self.minimum}, found {list(numbers)}")
        return numbers


class IntTable(AttrType):
    """A list of non-empty int lists (a connection table: one row per output channel)."""

    label = "[[int, ...], ...]"

    def convert(self, value: Any, evaluate: Evaluate, ndim: int | None) -> tuple[tuple[int, ...], ...]:
        if not isinstance(value, list) or not value:
            raise SpecError(f"expected a non-empty list of int lists, found {_describe(value)}")
        rows = []
        for row in value:
            if not isinstance(row, list) or not row:
                raise SpecError(f"expected every row to be a non-empty list of ints, found {_describe(row)}")
            rows.append(tuple(to_int(v, evaluate) for v in row))
        return tuple(rows)


@dataclass(frozen=True)
class Attr:
    name: str
    type: AttrType
    default: Any = REQUIRED
    doc: str = ""


class Attrs(Mapping[str, Any]):
    """A layer's converted attributes; read them as `a.kernel` or `a["kernel"]`."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Attrs({self._values!r})"


# ---------------------------------------------------------------------------------------------
# What kinds answer.


@dataclass(frozen=True)
class Saved:
    """What autograd keeps for one layer's backward pass, its parameters aside (they live anyway).

    `inputs` and `output` name tensors that exist already (kept alive longer, shared with any
    other layer that keeps them); `extra` are tensors made for the backward alone, as
    (elements, dtype): "act" is the activation dtype, else "float32", "int64" or "bool".
    """

    inputs: tuple[int, ...] = ()
    output: bool = False
    extra: tuple[tuple[int, str], ...] = ()


NOTHING_SAVED = Saved()


def padded_numel(x: Shape, pads: Sequence[tuple[int, int]]) -> int:
    """Elements of `x` ([N, C, *spatial]) padded explicitly by (begin, end) per spatial axis."""
    return x[0] * x[1] * prod(n + b + e for n, (b, e) in zip(x[2:], pads, strict=True))


@dataclass(frozen=True)
class Params:
    """Parameter and buffer element counts of one layer (before sharing and freezing)."""

    params: int = 0
    buffers: int = 0


@dataclass(frozen=True)
class Window:
    """The sliding window of a layer along one spatial axis, for receptive fields.

    Output unit o of a forward window reads inputs o*stride - pad_begin + dilation*j for
    j in [0, kernel). A transposed window writes input i to outputs i*stride - pad_begin +
    dilation*j, so the jump is divided by the stride. Nearest upsampling by r is the transposed
    window (r, r); `stride` may be a Fraction for adaptive pooling with uneven windows.
    """

    kernel: int = 1
    stride: int | Fraction = 1
    dilation: int = 1
    pad_begin: int = 0
    transposed: bool = False


IDENTITY = Window()


@dataclass(frozen=True)
class Step:
    """One worked quantity of a layer (`cnncalc calc`): its symbolic formula, the formula with
    this layer's numbers substituted, and the value the registry computes. `substituted`
    evaluates to `value` (the tests check every kind); a kind that does not derive a quantity
    leaves `substituted` empty and `formula` its documented rule."""

    quantity: str
    formula: str
    substituted: str
    value: int | Fraction
    note: str = ""


def step(quantity: str, template: str, value: int | Fraction, note: str = "", /, **numbers: int) -> Step:
    """A Step from one template, so formula and substitution cannot drift apart:
    `step("params", "{C_out}·{k} + {C_out}", 30, C_out=10, k=2)` has the formula
    `C_out·k + C_out` and the substitution `10·2 + 10`."""
    return Step(
        quantity,
        template.format(**{name: name for name in numbers}),
        template.format(**{name: str(number) for name, number in numbers.items()}),
        value,
        note,
    )


def axis_names(count: int) -> tuple[str, ...]:
    """Names of `count` spatial axes: L; H, W; D, H, W."""
    return ("L",) if count == 1 else ("D", "H", "W")[3 - count:]


def product(prefix: str, names: Sequence[str], numbers: Sequence[int], suffix: str = "") -> tuple[str, dict[str, int]]:
    """A product template over named factors (`{k_h}·{k_w}`) and its numbers."""
    symbols = [f"{prefix}{name.lower() if prefix else name}{suffix}" for name in names]
    return "·".join(f"{{{symbol}}}" for symbol in symbols), dict(zip(symbols, numbers, strict=True))


def kernel_product(kernel: Sequence[int]) -> tuple[str, dict[str, int]]:
    """`{k}` for one axis, `{k_h}·{k_w}` for two, `{k_d}·{k_h}·{k_w}` for three."""
    if len(kernel) == 1:
        return "{k}", {"k": kernel[0]}
    return product("k_", axis_names(len(kernel)), kernel)


def shape_product(shape: Shape, suffix: str = "", channel: str | None = None) -> tuple[str, dict[str, int]]:
    """`{N}·{C_out}·{H_out}·{W_out}` for a feature map [N, C, *spatial] (the suffix goes on the
    channel and spatial names; `channel` renames the channel axis). A shape of rank 2 is
    [N, C]; rank 1 is [N]."""
    names = ["N", channel or f"C{suffix}"]
    if len(shape) >= 3:
        names += [f"{name}{suffix}" for name in axis_names(len(shape) - 2)]
    return product("", names[: len(shape)], shape)


def padding_note(padding: object, pads: tuple[int, int]) -> str:
    """What `same`/`valid` padding resolved to on one axis (begin, end), for worked steps."""
    return f"padding `{padding}` = ({pads[0]}, {pads[1]})" if isinstance(padding, str) else ""


def joined(*notes: str) -> str:
    return "; ".join(note for note in notes if note)


#: autocast runs the kind in bf16/fp16 on both devices (matmuls, convolutions, linear, prelu)
AUTOCAST_LOW: Mapping[str, str] = {"cuda": "low", "cpu": "low"}
#: CUDA's float32 list (softmax, log_softmax, layer and group norm); on CPU they keep their input's dtype
AUTOCAST_FLOAT32_ON_CUDA: Mapping[str, str] = {"cuda": "float32"}
#: the CPU's float32 list (3-D pooling, max-unpooling; pad's reflect and replicate modes decide by rank)
AUTOCAST_FLOAT32_ON_CPU: Mapping[str, str] = {"cpu": "float32"}


class LayerKind:
    """Base class of every layer kind. Subclasses override what differs from these defaults."""

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    attrs: ClassVar[tuple[Attr, ...]] = ()
    #: rank of the spatial part of the input, for per-axis attributes (None: any)
    spatial_dims: ClassVar[int | None] = None
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    #: how many leading inputs the data (and so the receptive field) flows through; None: all.
    #: center_crop's optional second input only supplies a target size.
    field_inputs: ClassVar[int | None] = None
    #: which inputs an output unit reads depends on the data (indices, boxes, learned offsets)
    #: or on the unit (bed-of-nails): the window is only an envelope, so gradient probes check
    #: neither the layer nor those after it
    field_from_data: ClassVar[bool] = False
    #: formulas shown by `cnncalc layers KIND`
    formulas: ClassVar[dict[str, str]] = {}

    # -- attributes ---------------------------------------------------------------------------

    def attr(self, name: str) -> Attr | None:
        for attr in self.attrs:
            if attr.name == name:
                return attr
        return None

    def check(self, a: Attrs) -> None:
        """Cross-attribute validation that needs no input shape (override)."""

    def make_attrs(self, raw: Mapping[str, Any], evaluate: Evaluate | None = None) -> Attrs:
        """Convert raw attribute values (defaults filled in) into Attrs.

        A SpecError raised here carries `key`: the attribute it is about, so the caller can
        point at it in the spec.
        """
        if evaluate is None:
            from cnncalc.spec.expr import evaluate as plain

            evaluate = plain
        known = {attr.name for attr in self.attrs}
        for key in raw:
            if key not in known:
                error = SpecError(
                    f"{self.name} has no attribute `{key}`",
                    hint=suggest(key, sorted(known))
                    or (f"its attributes: {', '.join(sorted(known))}" if known
                        else f"{self.name} takes no attributes"),
                )
                error.key = key
                raise error
        values = {}
        for attr in self.attrs:
            if attr.name in raw:
                value = raw[attr.name]
            elif attr.default is REQUIRED:
                error = SpecError(f"{self.name} needs attribute `{attr.name}` ({attr.doc})")
                error.key = None
                raise error
            else:
                value = attr.default
            try:
                values[attr.name] = attr.type.convert(value, evaluate, self.spatial_dims)
            except SpecError as error:
                located = SpecError(
                    f"attribute `{attr.name}`: {error.message}", span=error.span, hint=error.hint
                )
                located.key = attr.name if attr.name in raw else None
                raise located from None
        attrs = Attrs(values)
        self.check(attrs)
        return attrs

    # -- rules (override) ---------------------------------------------------------------------

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        """Output shape, batch included. Default: the input shape."""
        return ins[0]

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        return Params()

    def macs(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> int:
        return 0

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {}

    def backward_flops(self, a: Attrs, ins: Sequence[Shape], out: Shape,
                       grads: Sequence[bool], weights: bool) -> dict[str, int]:
        """FLOPs of the backward pass by part (BACKWARD_PARTS), for layers with MACs.

        `grads[i]`: input i needs a gradient (some layer before it trains); `weights`: this
        layer's weights train. Each gradient of a multiply-accumulate operand costs what the
        forward product costs: grad-input is a transposed convolution (or `grad @ W`) and
        grad-weight a correlation of the input with the output gradient, both with the forward's
        MACs, groups included. grad-bias is one add per output element. Elementwise layers'
        backward work is not counted (the convention of FLOP counters that count backward).
        """
        macs = self.macs(a, ins, out)
        if not macs:
            return {}
        return {
            "grad_input": 2 * macs if grads[0] else 0,
            "grad_weight": 2 * macs if weights else 0,
            "grad_bias": self.flops(a, ins, out).get("bias", 0) if weights else 0,
        }

    # -- memory rules (cnncalc.analysis.memory) ------------------------------------------------

    #: the output is input 0's storage: written in place or a view of it
    def aliases_input(self, a: Attrs, ins: Sequence[Shape], training: bool) -> bool:
        return bool(a.get("inplace", False))

    #: the backward hands views of the output gradient to the inputs (no new gradient tensors)
    grad_is_view: ClassVar[bool] = False

    #: subtracts a per-channel statistic, so a per-channel bias added just before it has no effect
    #: (batch and instance norm; the `conv-bias-before-norm` lint of `cnncalc check`)
    cancels_channel_bias: ClassVar[bool] = False

    #: the precision torch.autocast runs this kind in, per device: "low" (bf16/fp16: its fp32
    #: inputs and weights are cast to low-precision copies) or "float32" (its low-precision inputs
    #: are cast up); on a device not named, its input's dtype. From torch's autocast op lists
    #: ("Autocast Op Reference"), which differ between CUDA and CPU; the CPU's are measured in
    #: tests/test_memory_peaks.py.
    autocast: ClassVar[Mapping[str, str]] = {}

    def autocast_precision(self, a: Attrs, ins: Sequence[Shape], device: str) -> str | None:
        """`autocast`'s entry for `device`; a kind whose list depends on its attributes or rank
        (pad's mode) overrides this."""
        return self.autocast.get(device)

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """The tensors autograd keeps for this layer's backward in training mode, as torch's
        derivative formulas (derivatives.yaml) save them. Called only when the layer has a
        backward (some input needs a gradient, or its weights train). `device` is "cpu" or
        "cuda" where torch saves different tensors (dropout's mask). Default: nothing."""
        return NOTHING_SAVED

    def workspace(self, a: Attrs, ins: Sequence[Shape], out: Shape, device: str) -> int:
        """Elements (activation dtype) the forward kernel holds besides its output while it
        runs, freed when it returns. Default: none."""
        return 0

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...] | None:
        """One Window per spatial axis, or None when the output has no spatial axes that map
        onto the input's (flatten, linear over a spatial axis, global reductions to a vector).
        Default: elementwise (identity on every spatial axis)."""
        return tuple(IDENTITY for _ in out[2:]) if len(out) > 2 else None

    # -- worked steps (cnncalc calc) -------------------------------------------------------

    def derive(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> list[Step]:
        """The quantities this kind shows with their working: output sizes first, then any of
        `params`, `buffers`, `MACs`, `FLOPs` (override; each kind's derivation sits beside the
        rule it explains). Default: none."""
        return []

    def explain(self, a: Attrs, ins: Sequence[Shape]) -> list[Step]:
        """Worked steps for `cnncalc calc`: what `derive` shows, then params, buffers (when there
        are any), MACs and FLOPs, each with its value from the rules above (a derived value
        that disagrees with the rule is a bug and raises)."""
        out = self.shape(a, ins)
        derived = self.derive(a, ins, out)
        counts = self.params(a, ins, out)
        values = {
            "params": counts.params,
            "buffers": counts.buffers,
            "MACs": self.macs(a, ins, out),
            "FLOPs": sum(self.flops(a, ins, out).values()),
        }
        by_quantity = {s.quantity: s for s in derived}
        steps = [s for s in derived if s.quantity not in values]
        for quantity, value in values.items():
            if quantity in by_quantity:
                if by_quantity[quantity].value != value:
                    raise RuntimeError(
                        f"{self.name}: derived {quantity} {by_quantity[quantity].value} != rule {value}"
                    )
                steps.append(by_quantity[quantity])
            elif quantity != "buffers" or value:
                steps.append(Step(quantity, self.formulas.get(quantity.lower(), ""), "", value))
        return steps

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        """The equivalent torch.nn.Module (torch is imported here, never at module level)."""
        raise NotImplementedError(f"{self.name} has no torch module")


def spatial(shape: Shape) -> Shape:
    return shape[2:]


def numel(shape: Shape) -> int:
    return prod(shape)


def expect_rank(kind: LayerKind, shape: Shape, rank: int) -> None:
    if len(shape) != rank:
        layout = {3: "[N, C, L]", 4: "[N, C, H, W]", 5: "[N, C, D, H, W]"}.get(rank, f"rank {rank}")
        raise ShapeError(
            f"{kind.name} expects a {rank}-d input {layout}, found shape {list(shape)}"
        )


# ---------------------------------------------------------------------------------------------
# The registry.

REGISTRY: dict[str, LayerKind] = {}
_ALIASES: dict[str, str] = {}


def register(cls: type[LayerKind]) -> type[LayerKind]:
    """Class decorator: register one instance of the kind; a name taken twice is a bug."""
    kind = cls()
    for name in (cls.name, *cls.aliases):
        if name in REGISTRY or name in _ALIASES:
            raise RuntimeError(f"layer kind {name!r} is registered twice")
    REGISTRY[cls.name] = kind
    for alias in cls.aliases:
        _ALIASES[alias] = cls.name
    return cls


def suggest(name: str, candidates: Sequence[str] | Mapping[str, Any]) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


def lookup(name: str) -> LayerKind:
    """The kind registered under `name` (or an alias), else SpecError with close names."""
    kind = REGISTRY.get(_ALIASES.get(name, name))
    if kind is None:
        raise SpecError(
            f"unknown layer kind `{name}`",
            hint=suggest(name, [*REGISTRY, *_ALIASES]) or "`cnncalc layers` lists the kinds",
        )
    return kind
