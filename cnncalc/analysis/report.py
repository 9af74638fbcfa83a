"""The Report: plain data assembled from the passes, consumed by every renderer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction

from cnncalc.analysis.cost import LayerCost, layer_costs
from cnncalc.analysis.memory import Options, analyze_memory, element_bytes, output_bytes
from cnncalc.analysis.receptive_field import ReceptiveField, receptive_fields
from cnncalc.analysis.shapes import infer_shapes
from cnncalc.graph import LayerGraph
from cnncalc.layers.base import FLOP_CATEGORIES, Shape


@dataclass(frozen=True)
class Row:
    """One layer (or one collapsed block) of a report."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    output_shape: Shape
    trainable_params: int
    non_trainable_params: int
    buffers: int
    macs: int
    flops_by_category: dict[str, int]
    param_bytes: int
    activation_bytes: int
    rf: ReceptiveField | None
    backward_by_part: dict[str, int] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()
    line: int | None = None
    layers: int = 1  # how many layers the row stands for (collapsed blocks)
    #: the layer's count under `Report.convention` (cnncalc.conventions), when one was asked for
    convention_count: int | Fraction | None = None

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def flops(self) -> int:
        return sum(self.flops_by_category.values())

    @property
    def backward_flops(self) -> int:
        return sum(self.backward_by_part.values())


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    macs: int
    flops: int
    flops_by_category: dict[str, int]
    param_bytes: int
    buffer_bytes: int
    input_bytes: int
    activation_bytes: int
    backward_by_part: dict[str, int] = field(default_factory=dict)
    #: peaks by tensor liveness (cnncalc.analysis.memory): inference, and a training step with
    #: plain SGD (no optimizer state), CUDA's kernels; None when not asked for
    inference_peak_bytes: int | None = None
    training_peak_bytes: int | None = None

    @property
    def backward_flops(self) -> int:
        return sum(self.backward_by_part.values())


@dataclass(frozen=True)
class ConventionTotals:
    """The count under a named convention (`summary --convention`, cnncalc.conventions): the
    tool whose rules it follows, the total, its split by FLOP category, and the places where
    that tool is known to count wrong, as (code, layer, message)."""

    name: str
    unit: str
    tool: str
    summary: str
    total: int | Fraction
    by_category: dict[str, int | Fraction]
    flags: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Report:
    model: str
    batch: int
    dtype: str
    inputs: dict[str, Shape]
    outputs: dict[str, Shape]
    rows: list[Row]
    totals: Totals
    unused: list[str] = field(default_factory=list)
    convention: ConventionTotals | None = None

    def collapsed(self, depth: int | None) -> Report:
        """Rows of blocks nested deeper than `depth` merged into one row per block."""
        if depth is None:
            return self
        return replace(self, rows=collapse(self.rows, depth))


def analyze(graph: LayerGraph, peaks: bool = True, convention: str | None = None) -> Report:
    """Run every pass over `graph`; `peaks=False` skips the memory walk (callers that show no
    memory peaks, such as the zoo table over every spec); `convention` also counts every layer
    under that convention (`cnncalc.conventions`: macs, flops, fvcore, torchinfo, ...).

    >>> from cnncalc.spec import load_graph
    >>> analyze(load_graph("lenet5")).totals.params
    61706
    """
    shapes = infer_shapes(graph)
    costs = layer_costs(graph, shapes)
    fields = receptive_fields(graph, shapes)
    outputs = output_bytes(graph, shapes)
    size = element_bytes(graph)
    rows = []
    for node in graph:
        if node.is_input:
            continue
        cost = costs[node.name]
        rows.append(Row(
            name=node.name, kind=node.kind.name, inputs=node.inputs,
            output_shape=shapes[node.name],
            trainable_params=cost.trainable_params,
            non_trainable_params=cost.non_trainable_params, buffers=cost.buffers,
            macs=cost.macs, flops_by_category=cost.flops_by_category,
            param_bytes=cost.params * size, activation_bytes=outputs[node.name],
            rf=fields[node.name], backward_by_part=cost.backward_by_part, scopes=node.scopes,
            line=node.span.line if node.span else None,
        ))
    inputs = {n.name: shapes[n.name] for n in graph.inputs}
    conventions = None
    if convention is not None:
        rows, conventions = _counted(graph, shapes, costs, rows, convention)
    totals = _totals(rows, sum(outputs[n] for n in inputs), size)
    if peaks:
        memory = analyze_memory(graph, Options(), shapes, costs)
        totals = replace(totals, inference_peak_bytes=memory.inference.bytes,
                         training_peak_bytes=memory.training.bytes)
    return Report(
        model=graph.name, batch=graph.batch, dtype=graph.dtype, inputs=inputs,
        outputs={name: shapes[name] for name in graph.outputs},
        rows=rows, totals=totals,
        unused=graph.unused(),
        convention=conventions,
    )


def _counted(graph: LayerGraph, shapes: dict[str, Shape], costs: dict[str, LayerCost], rows: list[Row],
             name: str) -> tuple[list[Row], ConventionTotals]:
    """The rows with their count under convention `name`, and its totals."""
    from cnncalc.conventions.registry import count, profile

    counts = count(graph, name, shapes, costs)
    per_layer = {layer.name: layer.count for layer in counts.layers}
    chosen = profile(name)
    totals = ConventionTotals(
        name=name, unit=chosen.unit, tool=chosen.tool, summary=chosen.summary, total=counts.total,
        by_category=counts.by_category,
        flags=tuple((flag.code, flag.layer, flag.message) for flag in counts.flags),
    )
    return [replace(row, convention_count=per_layer[row.name]) for row in rows], totals


def _totals(rows: Iterable[Row], input_bytes: int, size: int) -> Totals:
    rows = list(rows)
    by_category = {c: sum(r.flops_by_category.get(c, 0) for r in rows) for c in FLOP_CATEGORIES}
    params = sum(r.params for r in rows)
    buffers = sum(r.buffers for r in rows)
    return Totals(
        params=params,
        trainable_params=sum(r.trainable_params for r in rows),
        non_trainable_params=sum(r.non_trainable_params for r in rows),
        buffers=buffers,
        macs=sum(r.macs for r in rows),
        flops=sum(by_category.values()),
        flops_by_category={c: v for c, v in by_category.items() if v},
        param_bytes=params * size,
        buffer_bytes=buffers * size,
        input_bytes=input_bytes,
        activation_bytes=sum(r.activation_bytes for r in rows),
        backward_by_part=_sum_parts(r.backward_by_part for r in rows),
    )


def _sum_parts(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def collapse(rows: list[Row], depth: int) -> list[Row]:
    """Merge rows whose scope path is deeper than `depth` into their depth-th enclosing scope.

    A collapsed row shows its block's totals, the output shape and receptive field of the block's
    last layer, and the kind `block`.
    """
    result: list[Row] = []
    groups: dict[str, list[Row]] = {}
    order: list[str | Row] = []
    for row in rows:
        if len(row.scopes) > depth:
            key = row.scopes[depth]
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(row)
        else:
            order.append(row)
    for item in order:
        if isinstance(item, Row):
            result.append(item)
            continue
        members = groups[item]
        last = members[-1]
        result.append(Row(
            name=item, kind="block", inputs=members[0].inputs, output_shape=last.output_shape,
            trainable_params=sum(m.trainable_params for m in members),
            non_trainable_params=sum(m.non_trainable_params for m in members),
            buffers=sum(m.buffers for m in members), macs=sum(m.macs for m in members),
            flops_by_category=_sum_parts(m.flops_by_category for m in members),
            backward_by_part=_sum_parts(m.backward_by_part for m in members), param_bytes=sum(m.param_bytes for m in members),
            activation_bytes=sum(m.activation_bytes for m in members), rf=last.rf,
            scopes=last.scopes[:depth], line=members[0].line,
            layers=sum(m.layers for m in members),
            convention_count=None if last.convention_count is None
            else sum((m.convention_count or 0 for m in members), 0),
        ))
    return result

