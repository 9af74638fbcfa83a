"""Budgets: the spec's `budgets:` section and the command-line limits that override it.

```yaml
budgets:
  params: 26M                                   # short form: a maximum
  macs: {max: 4.2G, input: [3, 224, 224]}       # at another input size than the spec's
  flops: 9G
  inference_memory: {max: 2GiB, batch: 64}
  training_memory: {max: 24GiB, batch: 64, optimizer: adam, amp: bf16}
  receptive_field: {layer4: {min: input}}       # per spatial axis; `input` = the input's size
  output_shapes: {fc: [1000]}                   # per sample, without the batch axis
  input_sizes: {from: 224, to: 640, step: 32}   # every size must build (square, spec's channels)
```

Parsing is strict (unknown keys and bad values are spec errors pointing at the line);
evaluation turns each budget into one `Result`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from cnncalc.check.results import Result
from cnncalc.errors import CnncalcError, ShapeError, Span, SpecError, UsageError
from cnncalc.graph import LayerGraph
from cnncalc.layers.base import suggest
from cnncalc.report.units import binary, parse_quantity, si
from cnncalc.spec.loader import Node

#: budget key -> unit of its limit
SCALAR_BUDGETS = {
    "params": "count", "trainable_params": "count", "macs": "count", "flops": "count",
    "inference_memory": "bytes", "training_memory": "bytes",
}
BUDGET_KEYS = (*SCALAR_BUDGETS, "receptive_field", "output_shapes", "input_sizes")
#: the options each scalar budget takes besides `max`/`min`
OPTIONS = {
    "params": (), "trainable_params": (), "macs": ("input",), "flops": ("input",),
    "inference_memory": ("batch", "device"),
    "training_memory": ("batch", "optimizer", "amp", "device"),
}
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
AMPS = ("bf16", "fp16")
DEVICES = ("cuda", "cpu")


@dataclass(frozen=True)
class Limit:
    """A bound on one total, with the conditions it is measured under."""

    key: str
    max: int | None = None
    min: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    span: Span | None = None
    #: where the limit came from: `budgets` (the spec) or the command-line flag
    origin: str = "budgets"


@dataclass(frozen=True)
class FieldBound:
    layer: str
    min: int | str | None  # "input": at least the input's size on every axis
    max: int | None
    span: Span | None


@dataclass
class Budgets:
    limits: dict[str, Limit] = field(default_factory=dict)
    fields: list[FieldBound] = field(default_factory=list)
    output_shapes: list[tuple[str, tuple[int, ...], Span | None]] = field(default_factory=list)
    input_sizes: list[tuple[int, ...]] = field(default_factory=list)
    input_sizes_span: Span | None = None

    def __bool__(self) -> bool:
        return bool(self.limits or self.fields or self.output_shapes or self.input_sizes)


# -- parsing ------------------------------------------------------------------------------------


def parse_budgets(node: Node | None) -> Budgets:
    budgets = Budgets()
    if node is None or node.value is None:
        return budgets
    if not node.is_map:
        raise SpecError("`budgets` must be a mapping", span=node.span,
                        hint="e.g. `budgets: {params: 26M, macs: 4.2G}`")
    for key, value in node.value.items():
        span = node.key_spans[key]
        if key not in BUDGET_KEYS:
            raise SpecError(f"unknown budget `{key}`", span=span,
                            hint=suggest(key, BUDGET_KEYS) or f"budgets: {', '.join(BUDGET_KEYS)}")
        if key in SCALAR_BUDGETS:
            budgets.limits[key] = _limit(key, value, span)
        elif key == "receptive_field":
            budgets.fields = _fields(value)
        elif key == "output_shapes":
            budgets.output_shapes = [
                (name, _shape(shape, f"the expected shape of `{name}`"), value.key_spans[name])
                for name, shape in _map(value, key).items()
            ]
        else:
            budgets.input_sizes = parse_sizes(value)
            budgets.input_sizes_span = span
    return budgets


def _map(node: Node, what: str) -> dict[str, Node]:
    if not node.is_map:
        raise SpecError(f"`{what}` must be a mapping", span=node.span)
    return dict(node.value)


def _quantity(node: Node, unit: str, what: str) -> int:
    try:
        return parse_quantity(node.value, unit)
    except ValueError as error:
        raise SpecError(f"{what}: {node.value!r} is not a valid limit", span=node.span, hint=str(error)) from None


def _limit(key: str, node: Node, span: Span) -> Limit:
    unit = SCALAR_BUDGETS[key]
    if not node.is_map:
        return Limit(key, max=_quantity(node, unit, f"budget `{key}`"), span=span)
    allowed = ("max", "min", *OPTIONS[key])
    bounds: dict[str, int] = {}
    options: dict[str, Any] = {}
    for name, value in node.value.items():
        if name not in allowed:
            raise SpecError(f"budget `{key}` has no option `{name}`", span=node.key_spans[name],
                            hint=suggest(name, allowed) or f"options: {', '.join(allowed)}")
        if name in ("max", "min"):
            bounds[name] = _quantity(value, unit, f"budget `{key}` {name}")
        else:
            options[name] = _option(key, name, value)
    if not bounds:
        raise SpecError(f"budget `{key}` gives no `max` or `min`", span=node.span,
                        hint=f"e.g. `{key}: {{max: {'4GiB' if unit == 'bytes' else '26M'}}}`")
    return Limit(key, max=bounds.get("max"), min=bounds.get("min"), options=options, span=span)


def _option(key: str, name: str, node: Node) -> Any:
    if name == "input":
        return _shape(node, f"budget `{key}` input")
    if name == "batch":
        if not isinstance(node.value, int) or isinstance(node.value, bool) or node.value < 1:
            raise SpecError(f"budget `{key}` batch must be a positive integer", span=node.span)
        return node.value
    choices = {"optimizer": OPTIMIZERS, "amp": AMPS, "device": DEVICES}[name]
    if node.value not in choices:
        raise SpecError(f"budget `{key}` {name} {node.value!r} is not one of {', '.join(choices)}",
                        span=node.span, hint=suggest(str(node.value), choices))
    return node.value


def _shape(node: Node, what: str) -> tuple[int, ...]:
    values = node.value if node.is_list else None
    if not values or not all(isinstance(v.value, int) and not isinstance(v.value, bool) and v.value > 0
                             for v in values):
        raise SpecError(f"{what} must be a list of positive integers", span=node.span,
                        hint="channels first, without the batch axis, e.g. [3, 224, 224]")
    return tuple(v.value for v in values)


def _fields(node: Node) -> list[FieldBound]:
    bounds = []
    for layer, spec in _map(node, "receptive_field").items():
        span = node.key_spans[layer]
        found: dict[str, int | str] = {}
        if not spec.is_map:
            raise SpecError(f"receptive_field `{layer}` must give `min` and/or `max`", span=spec.span,
                            hint="e.g. `receptive_field: {layer4: {min: input}}`")
        for name, value in spec.value.items():
            if name not in ("min", "max"):
                raise SpecError(f"receptive_field `{layer}` has no option `{name}`",
                                span=spec.key_spans[name], hint="options: min, max")
            if name == "min" and value.value == "input":
                found[name] = "input"
            elif isinstance(value.value, int) and not isinstance(value.value, bool) and value.value > 0:
                found[name] = value.value
            else:
                raise SpecError(f"receptive_field `{layer}` {name} must be a positive integer"
                                + (" or `input`" if name == "min" else ""), span=value.span)
        high = found.get("max")
        bounds.append(FieldBound(layer, found.get("min"), high if isinstance(high, int) else None, span))
    return bounds


def parse_sizes(node: Node) -> list[tuple[int, ...]]:
    """`{from: 224, to: 640, step: 32}`, or a list of sizes (square) and shapes."""
    if node.is_map:
        ends = {}
        for name, value in node.value.items():
            if name not in ("from", "to", "step"):
                raise SpecError(f"input_sizes has no option `{name}`", span=node.key_spans[name],
                                hint="input_sizes: {from: 224, to: 640, step: 32}")
            if not isinstance(value.value, int) or isinstance(value.value, bool) or value.value < 1:
                raise SpecError(f"input_sizes {name} must be a positive integer", span=value.span)
            ends[name] = value.value
        if "from" not in ends or "to" not in ends:
            raise SpecError("input_sizes needs `from` and `to`", span=node.span,
                            hint="input_sizes: {from: 224, to: 640, step: 32}")
        if ends["to"] < ends["from"]:
            raise SpecError("input_sizes: `to` is below `from`", span=node.span)
        return [(n,) for n in range(ends["from"], ends["to"] + 1, ends.get("step", 1))]
    if node.is_list and node.value:
        sizes: list[tuple[int, ...]] = []
        for item in node.value:
            if isinstance(item.value, int) and not isinstance(item.value, bool) and item.value > 0:
                sizes.append((item.value,))
            else:
                sizes.append(_shape(item, "an input size"))
        return sizes
    raise SpecError("input_sizes must be a range or a list", span=node.span,
                    hint="input_sizes: {from: 224, to: 640, step: 32}, or [224, 256, [3, 300, 400]]")


def parse_sizes_option(text: str) -> list[tuple[int, ...]]:
    """`--input-sizes 224:640:32` or `224,256,320`; raises ValueError."""
    text = text.strip()
    if ":" in text:
        parts = [int(p) for p in text.split(":")]
        if len(parts) not in (2, 3) or min(parts) < 1 or parts[1] < parts[0]:
            raise ValueError("expected FROM:TO[:STEP], e.g. 224:640:32")
        return [(n,) for n in range(parts[0], parts[1] + 1, parts[2] if len(parts) == 3 else 1)]
    sizes = [int(p) for p in text.split(",")]
    if min(sizes) < 1:
        raise ValueError("sizes must be positive")
    return [(n,) for n in sizes]


def override(budgets: Budgets, limits: dict[str, str], options: dict[str, Any]) -> Budgets:
    """Command-line limits replace the spec's bound for that key (its conditions are kept unless
    an option flag changes them)."""
    result = Budgets(dict(budgets.limits), budgets.fields, budgets.output_shapes,
                     budgets.input_sizes, budgets.input_sizes_span)
    for key, text in limits.items():
        try:
            value = parse_quantity(text, SCALAR_BUDGETS[key])
        except ValueError as error:
            raise UsageError(f"--max-{key.replace('_', '-')} {text!r}: {error}") from None
        old = result.limits.get(key)
        result.limits[key] = Limit(key, max=value, options=dict(old.options) if old else {},
                                   span=None, origin=f"--max-{key.replace('_', '-')}")
    for key, limit in result.limits.items():
        extra = {name: value for name, value in options.items() if name in OPTIONS[key] and value is not None}
        if extra:
            result.limits[key] = replace(limit, options={**limit.options, **extra})
    return result


# -- evaluation ---------------------------------------------------------------------------------


@dataclass
class Context:
    """What budgets are measured on: the analyzed spec, and a way to re-expand it."""

    graph: LayerGraph
    report: Any  # cnncalc.analysis.report.Report
    #: the graph with other input shapes ({input name: per-sample shape}); raises spec errors
    variant: Callable[[dict[str, tuple[int, ...]]], LayerGraph]


def evaluate(budgets: Budgets, context: Context) -> Iterator[Result]:
    for limit in budgets.limits.values():
        yield _scalar(limit, context)
    for bound in budgets.fields:
        yield _field(bound, context)
    for name, shape, span in budgets.output_shapes:
        yield _output_shape(name, shape, span, context)
    if budgets.input_sizes:
        yield _input_sizes(budgets.input_sizes, budgets.input_sizes_span, context)


def _measure(limit: Limit, context: Context) -> tuple[int, str]:
    """The total the limit bounds, and the conditions it was measured under."""
    key, options = limit.key, limit.options
    if key in ("params", "trainable_params"):
        return getattr(context.report.totals, key), ""
    if key in ("macs", "flops"):
        if "input" not in options:
            return getattr(context.report.totals, key), ""
        from cnncalc.analysis.cost import layer_costs
        from cnncalc.analysis.shapes import infer_shapes

        graph = context.variant({_only_input(context.graph, limit.span): options["input"]})
        costs = layer_costs(graph, infer_shapes(graph)).values()
        if key == "macs":
            return sum(c.macs for c in costs), f" at input {_shape_text(options['input'])}"
        return sum(sum(c.flops_by_category.values()) for c in costs), f" at input {_shape_text(options['input'])}"
    from cnncalc.analysis.memory import Options, analyze_memory

    batch = options.get("batch", context.graph.batch)
    graph = context.graph.with_batch(batch)
    run = Options(optimizer=options.get("optimizer", "sgd"), amp=options.get("amp"),
                  device=options.get("device", "cuda"))
    memory = analyze_memory(graph, run)
    if key == "inference_memory":
        return memory.inference.bytes, f" (inference peak, batch {batch})"
    where = f"batch {batch}, {run.optimizer}" + (f", {run.amp}" if run.amp else "")
    return memory.training.bytes, f" (training step peak, {where})"


def _scalar(limit: Limit, context: Context) -> Result:
    value, conditions = _measure(limit, context)
    show = binary if SCALAR_BUDGETS[limit.key] == "bytes" else si
    over = limit.max is not None and value > limit.max
    under = limit.min is not None and value < limit.min
    bound = f"≤ {show(limit.max)}" if limit.max is not None else ""
    if limit.min is not None:
        bound = f"≥ {show(limit.min)}" + (f" and {bound}" if bound else "")
    name = limit.key.replace("_", " ")
    if over or under:
        broken = limit.max if over else limit.min
        assert broken is not None
        message = f"{name} {show(value)}{conditions} {'exceeds' if over else 'is below'} the budget " \
                  f"{show(broken)} ({value:,} {'>' if over else '<'} {broken:,})"
    else:
        message = f"{name} {show(value)}{conditions} {bound}"
    hint = None if not (over or under) or limit.span is not None else f"set by {limit.origin}"
    return Result(f"budget.{limit.key}", not (over or under), "error", message, limit.span,
                  hint=hint, value=value, limit={"max": limit.max, "min": limit.min, **limit.options})


def _row_for(layer: str, context: Context, span: Span | None) -> Any:
    """The report row of `layer`, or of the last layer of the block instance named `layer`."""
    rows = context.report.rows
    for row in rows:
        if row.name == layer:
            return row
    inside = [row for row in rows if layer in row.scopes]
    if inside:
        return inside[-1]
    raise SpecError(f"no layer or block named `{layer}`", span=span,
                    hint=suggest(layer, [row.name for row in rows]) or "`cnncalc summary` lists the layer names")


def _field(bound: FieldBound, context: Context) -> Result:
    row = _row_for(bound.layer, context, bound.span)
    rule = "budget.receptive_field"
    if row.rf is None:
        raise SpecError(f"`{row.name}` has no spatial receptive field (its output has no spatial axes)",
                        span=bound.span, hint="bound a layer before the global pool or flatten")
    sizes = [axis.size for axis in row.rf.axes]
    spatial = _input_spatial(context)
    low = [spatial[i] if bound.min == "input" else bound.min for i in range(len(sizes))] \
        if bound.min is not None else None
    shown = "x".join(str(s) for s in sizes)
    failed = []
    if low is not None and any(size < need for size, need in zip(sizes, low)):
        failed.append(f"below {'the input size ' if bound.min == 'input' else ''}{'x'.join(str(n) for n in low)}")
    if bound.max is not None and any(size > bound.max for size in sizes):
        failed.append(f"above {bound.max}")
    at = row.name if row.name == bound.layer else f"{bound.layer} (its last layer {row.name})"
    if failed:
        return Result(rule, False, "error", f"receptive field of {at} is {shown}, {' and '.join(failed)}",
                      bound.span, layer=row.name, value=sizes, limit={"min": bound.min, "max": bound.max})
    return Result(rule, True, "error", f"receptive field of {at} is {shown}", bound.span, layer=row.name,
                  value=sizes, limit={"min": bound.min, "max": bound.max})


def _output_shape(name: str, shape: tuple[int, ...], span: Span | None, context: Context) -> Result:
    report = context.report
    actual = report.outputs.get(name)
    if actual is None:
        actual = next((row.output_shape for row in report.rows if row.name == name), None)
    if actual is None:
        raise SpecError(f"no output or layer named `{name}`", span=span,
                        hint=suggest(name, [*report.outputs, *(row.name for row in report.rows)]))
    per_sample = tuple(actual[1:])
    ok = per_sample == shape
    message = f"output `{name}` is {list(per_sample)}" + ("" if ok else f", expected {list(shape)}")
    return Result("budget.output_shapes", ok, "error", message, span, layer=name,
                  value=list(per_sample), limit=list(shape))


def _input_sizes(sizes: list[tuple[int, ...]], span: Span | None, context: Context) -> Result:
    from cnncalc.analysis.shapes import infer_shapes

    name = _only_input(context.graph, span)
    channels_first = context.graph.nodes[name].attrs.get("shape") or context.report.inputs[name][1:]
    failed: list[str] = []
    first_error: CnncalcError | None = None
    for size in sizes:
        shape = size if len(size) > 1 else (channels_first[0], *([size[0]] * (len(channels_first) - 1)))
        try:
            infer_shapes(context.variant({name: shape}))
        except (ShapeError, SpecError) as error:
            failed.append(_shape_text(shape))
            first_error = first_error or error
    described = _describe_sizes(sizes)
    if not failed:
        return Result("budget.input_sizes", True, "error", f"every input size builds: {described}", span,
                      value=len(sizes))
    listed = ", ".join(failed[:6]) + (f" and {len(failed) - 6} more" if len(failed) > 6 else "")
    assert first_error is not None
    return Result("budget.input_sizes", False, "error",
                  f"{len(failed)} of {len(sizes)} input sizes do not build: {listed}", span,
                  hint=f"at {failed[0]}: {first_error.message}", value=failed)


def _describe_sizes(sizes: list[tuple[int, ...]]) -> str:
    if all(len(s) == 1 for s in sizes) and len(sizes) > 2:
        step = sizes[1][0] - sizes[0][0]
        if all(b[0] - a[0] == step for a, b in zip(sizes, sizes[1:])):
            return f"{sizes[0][0]} to {sizes[-1][0]} step {step}"
    return ", ".join(str(s[0]) if len(s) == 1 else _shape_text(s) for s in sizes)


def _only_input(graph: LayerGraph, span: Span | None) -> str:
    inputs = graph.inputs
    if len(inputs) != 1:
        raise SpecError("this budget needs a spec with a single input", span=span,
                        hint=f"the spec has {len(inputs)} inputs: {', '.join(n.name for n in inputs)}")
    return inputs[0].name


def _input_spatial(context: Context) -> list[int]:
    shape = next(iter(context.report.inputs.values()))
    return list(shape[2:])


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)
