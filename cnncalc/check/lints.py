"""Lints: facts about a spec that are legal but usually a mistake.

Each lint has an id, a one-line rule and a default severity (warning: shown, fails only under
`--strict`). A spec silences one with a reason:

```yaml
lints:
  strided-skip: "ResNet v1.5 downsampling, as published"      # everywhere
  floor-loss: {reason: "stem drops one row", layers: [conv1]}  # only these layers (fnmatch)
```

Lints read the registry's generic answers (windows, shapes, `cancels_channel_bias`) and never
switch on kind names.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from cnncalc.analysis.receptive_field import ReceptiveField
from cnncalc.check.results import Result
from cnncalc.errors import Span, SpecError
from cnncalc.graph import LayerGraph, LayerNode
from cnncalc.layers.base import Shape, Window, suggest
from cnncalc.spec.loader import Node
from cnncalc.window import ceil_output_size, conv_output_size, effective_kernel

Fields = dict[str, ReceptiveField | None]


@dataclass(frozen=True)
class Finding:
    layer: str | None
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class Lint:
    id: str
    rule: str
    check: Callable[[LayerGraph, dict[str, Shape], Fields], Iterator[Finding]]
    severity: str = "warning"


# -- the lints ----------------------------------------------------------------------------------


def _readers(graph: LayerGraph) -> dict[str, list[LayerNode]]:
    readers: dict[str, list[LayerNode]] = {name: [] for name in graph.nodes}
    for node in graph:
        for name in node.inputs:
            readers[name].append(node)
    return readers


def bias_before_norm(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields) -> Iterator[Finding]:
    readers = _readers(graph)
    for node in graph:
        if not node.attrs.get("bias", False) or node.share is not None:
            continue
        after = readers[node.name]
        if after and all(reader.kind.cancels_channel_bias for reader in after):
            norm = after[0]
            yield Finding(
                node.name,
                f"`{node.name}` adds a bias that `{norm.name}` ({norm.kind.name}) subtracts again "
                f"with the channel mean: {shapes[node.name][1]:,} parameters that learn nothing",
                "set `bias: false` on the layer",
            )


def _spatial(shape: Shape) -> tuple[int, ...]:
    return tuple(shape[2:])


def _heads(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields) -> list[LayerNode]:
    """Per model output, the nearest layer upstream whose output still has a spatial grid
    (more than one unit) and a receptive field: the feature map a global pool or flatten reads."""
    heads: list[LayerNode] = []
    for output in graph.outputs:
        stack, seen = [output], set()
        while stack:
            name = stack.pop(0)
            if name in seen:
                continue
            seen.add(name)
            node = graph.nodes[name]
            if node.is_input:
                continue
            if fields.get(name) is not None and any(n > 1 for n in _spatial(shapes[name])):
                if node not in heads:
                    heads.append(node)
                break
            stack.extend(node.inputs)
    return heads


def rf_exceeds_input(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields) -> Iterator[Finding]:
    if len(graph.inputs) != 1:
        return
    for head in _heads(graph, shapes, fields):
        yield from _exceeds(graph, shapes, fields, head)


def _exceeds(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields, head: LayerNode) -> Iterator[Finding]:
    size_in = _spatial(shapes[graph.inputs[0].name])
    rf = fields[head.name]
    assert rf is not None
    sizes = [axis.size for axis in rf.axes]
    if any(size > n for size, n in zip(sizes, size_in)):
        shown = "x".join(str(s) for s in sizes)
        yield Finding(
            head.name,
            f"the receptive field of `{head.name}` ({shown}) is larger than the input "
            f"({'x'.join(map(str, size_in))}): its outer part only ever sees padding",
            "a larger input, or fewer/smaller windows, uses the depth; silence this lint if intended",
        )


def rf_below_stride(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields) -> Iterator[Finding]:
    for head in _heads(graph, shapes, fields):
        yield from _below(fields, head)


def _below(fields: Fields, head: LayerNode) -> Iterator[Finding]:
    rf = fields[head.name]
    assert rf is not None
    axes = rf.axes
    gaps = [(axis.size, axis.jump) for axis in axes if axis.size < axis.jump]
    if gaps:
        size, jump = gaps[0]
        yield Finding(
            head.name,
            f"the receptive field of `{head.name}` ({size}) is smaller than its stride on the input "
            f"({jump}): {jump - size} of every {jump} input pixels reach no output unit",
            "grow the kernels (or dilation) or reduce the strides",
        )


def unused_branch(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields) -> Iterator[Finding]:
    unused = set(graph.unused())
    for node in graph:
        if node.name in unused and not any(i in unused for i in node.inputs):
            chain = [n for n in graph.nodes if n in unused]
            yield Finding(
                node.name,
                f"the output of `{node.name}` ({node.kind.name}) reaches no model output"
                + (f" ({len(chain)} unused layers in all)" if len(chain) > 1 else ""),
                "remove the branch, or list it under `outputs:`",
            )


def _windows(node: LayerNode, shapes: dict[str, Shape]) -> list[tuple[int, Window, int]]:
    """(input size, window, output size) per spatial axis, for forward integer-stride windows."""
    if node.is_input or not node.inputs:
        return []
    ins = [shapes[name] for name in node.inputs]
    out = shapes[node.name]
    windows = node.kind.window(node.attrs, ins, out)
    if not windows or len(ins[0]) != len(out) or len(windows) != len(out) - 2:
        return []
    return [
        (size_in, w, size_out)
        for w, size_in, size_out in zip(windows, _spatial(ins[0]), _spatial(out))
        if not w.transposed and not isinstance(w.stride, Fraction)
    ]


AXES = {1: ("the length",), 2: ("the height", "the width"), 3: ("the depth", "the height", "the width")}


def _axis(axis: int, node: LayerNode, shapes: dict[str, Shape]) -> str:
    names = AXES.get(len(shapes[node.name]) - 2, ())
    return names[axis] if axis < len(names) else f"spatial axis {axis}"


def _coverage(size_in: int, w: Window, size_out: int) -> tuple[int, int]:
    """(input positions skipped between the first and the last one read, positions after the
    last one read) along one axis."""
    stride = int(w.stride)
    first = -w.pad_begin
    if w.dilation == 1 and w.kernel >= stride:  # the windows overlap or touch: no gaps
        last = (size_out - 1) * stride - w.pad_begin + w.kernel - 1
        return 0, max(0, size_in - 1 - last)
    read = [False] * size_in
    for o in range(size_out):
        for j in range(w.kernel):
            i = first + o * stride + j * w.dilation
            if 0 <= i < size_in:
                read[i] = True
    positions = [i for i, r in enumerate(read) if r]
    if not positions:
        return 0, 0
    return sum(1 for i in range(positions[0], positions[-1]) if not read[i]), size_in - 1 - positions[-1]


def floor_loss(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields) -> Iterator[Finding]:
    for node in graph:
        for axis, (size_in, w, size_out) in enumerate(_windows(node, shapes)):
            _, tail = _coverage(size_in, w, size_out)
            # flooring loses at most stride - 1 positions, beyond the stride's own gap
            if int(w.stride) > 1 and tail > max(0, int(w.stride) - effective_kernel(w.kernel, w.dilation)):
                yield Finding(
                    node.name,
                    f"`{node.name}` never reads the last {tail} input position{'s' if tail > 1 else ''} "
                    f"along {_axis(axis, node, shapes)} (input {size_in}, kernel "
                    f"{effective_kernel(w.kernel, w.dilation)}, stride {w.stride}: the output size is floored)",
                    "pad the input, or choose a size for which (input + padding - kernel) divides by the stride",
                )
                break


def strided_skip(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields) -> Iterator[Finding]:
    for node in graph:
        for axis, (size_in, w, size_out) in enumerate(_windows(node, shapes)):
            skipped, _ = _coverage(size_in, w, size_out)
            if skipped:
                yield Finding(
                    node.name,
                    f"`{node.name}` has a window of {effective_kernel(w.kernel, w.dilation)} "
                    f"{'(dilation ' + str(w.dilation) + ') ' if w.dilation > 1 else ''}with stride "
                    f"{w.stride}: it skips {skipped} of {size_in} input positions along {_axis(axis, node, shapes)}",
                    "use a kernel at least as large as the stride, or downsample before the 1x1 "
                    "(e.g. an average pool, as ResNet-D does)",
                )
                break


def ceil_mode(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields) -> Iterator[Finding]:
    for node in graph:
        if not node.attrs.get("ceil_mode", False):
            continue
        for axis, (size_in, w, size_out) in enumerate(_windows(node, shapes)):
            pad = 2 * w.pad_begin
            span = effective_kernel(w.kernel, w.dilation)
            pads = (w.pad_begin, w.pad_begin)
            floor = conv_output_size(size_in, w.kernel, int(w.stride), pads, w.dilation)
            naive = ceil_output_size(size_in, w.kernel, int(w.stride), pads, w.dilation)
            if naive != size_out:
                yield Finding(
                    node.name,
                    f"`{node.name}` uses ceil_mode on {size_in}: PyTorch gives {size_out} (its last window "
                    f"would start in the padding and is dropped), not ceil(({size_in} + {pad} - {span})/"
                    f"{w.stride}) + 1 = {naive} as the textbook formula and other frameworks do",
                    "state the output size in the spec's comments, or pad so the windows fit",
                )
                break
            if size_out != floor:
                last = (size_out - 1) * int(w.stride) - w.pad_begin
                covered = min(size_in, last + span) - max(last, 0)
                yield Finding(
                    node.name,
                    f"`{node.name}` uses ceil_mode: {size_out} outputs along {_axis(axis, node, shapes)} instead of "
                    f"{floor}; the last window covers only {covered} of its {span} positions inside the input",
                    "intended for Caffe-era models (GoogLeNet, SqueezeNet); otherwise drop ceil_mode",
                )
                break


LINTS = {lint.id: lint for lint in (
    Lint("conv-bias-before-norm", "a bias right before batch/instance norm, which cancels it", bias_before_norm),
    # true of most deep classifiers (ResNet-50: 427 px at 224): a note, never a failure
    Lint("rf-exceeds-input", "the head's receptive field is larger than the input", rf_exceeds_input, "note"),
    Lint("rf-below-stride", "the head's receptive field is smaller than its stride: inputs go unseen",
         rf_below_stride),
    Lint("unused-branch", "a layer whose output reaches no model output", unused_branch),
    Lint("floor-loss", "trailing input rows/columns no window reads (the output size is floored)", floor_loss),
    Lint("strided-skip", "a window smaller than its stride (e.g. a stride-2 1x1 convolution) skips inputs",
         strided_skip),
    Lint("ceil-mode", "ceil_mode changes the output size, or PyTorch drops a window a textbook formula keeps",
         ceil_mode),
)}


# -- silencing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Silence:
    reason: str
    layers: tuple[str, ...] = ()  # fnmatch patterns; empty = the whole spec
    span: Span | None = None

    def covers(self, layer: str | None) -> bool:
        return not self.layers or (layer is not None and any(fnmatch.fnmatchcase(layer, p) for p in self.layers))


def parse_silences(node: Node | None) -> dict[str, Silence]:
    if node is None or node.value is None:
        return {}
    if not node.is_map:
        raise SpecError("`lints` must be a mapping of lint ids to reasons", span=node.span,
                        hint='e.g. `lints: {floor-loss: "the stem drops one row on purpose"}`')
    silences = {}
    for lint_id, value in node.value.items():
        span = node.key_spans[lint_id]
        if lint_id not in LINTS:
            raise SpecError(f"unknown lint `{lint_id}`", span=span,
                            hint=suggest(lint_id, list(LINTS)) or f"lints: {', '.join(LINTS)}")
        reason, layers = value.value, ()
        if value.is_map:
            allowed = ("reason", "layers")
            for key in value.value:
                if key not in allowed:
                    raise SpecError(f"lint `{lint_id}` has no option `{key}`", span=value.key_spans[key],
                                    hint="options: reason, layers")
            reason = value.value["reason"].value if "reason" in value.value else None
            if "layers" in value.value:
                items = value.value["layers"]
                if not items.is_list or not all(isinstance(i.value, str) for i in items.value):
                    raise SpecError(f"lint `{lint_id}` layers must be a list of layer names",
                                    span=items.span, hint="names may use * and ? wildcards")
                layers = tuple(i.value for i in items.value)
        if not isinstance(reason, str) or not reason.strip():
            raise SpecError(f"silencing `{lint_id}` needs a reason", span=value.span,
                            hint=f'e.g. `{lint_id}: "why this is intended"`')
        silences[lint_id] = Silence(reason.strip(), layers, span)
    return silences


def run_lints(graph: LayerGraph, shapes: dict[str, Shape], fields: Fields,
              silences: dict[str, Silence]) -> Iterator[Result]:
    """One failed Result per finding (silenced ones carry their reason); one passed Result per
    lint that found nothing, so reports list every lint that ran."""
    for lint in LINTS.values():
        found = False
        for finding in lint.check(graph, shapes, fields):
            found = True
            silence = silences.get(lint.id)
            node = graph.nodes.get(finding.layer) if finding.layer else None
            yield Result(
                f"lint.{lint.id}", False, lint.severity, finding.message,
                node.span if node is not None else None, layer=finding.layer, hint=finding.hint,
                suppressed=silence.reason if silence is not None and silence.covers(finding.layer) else None,
            )
        if not found:
            yield Result(f"lint.{lint.id}", True, lint.severity, f"{lint.id}: nothing found")
