"""Between the two spec forms: a layer graph written in the compact notation, a spec tree as YAML.

`to_notation` writes an expanded graph (vars, blocks, `when:` and `repeat:` already resolved) as
one chain, folding repeated runs of layers into `[...]*N` groups; it refuses, pointing at the
layer, what the notation cannot say (docs/notation.md: branches, skip connections, several inputs
or outputs, shared or frozen weights, attribute references). Parsing its text gives back a graph
with the same layers, attributes, shapes and counts (only the auto-generated names differ).

`to_yaml` writes a spec tree (a notation's, or a YAML spec's with `extends:` folded in) as YAML
that loads into the same graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cnncalc.errors import SpecError
from cnncalc.graph import LayerGraph, LayerNode
from cnncalc.layers.base import REQUIRED, Attr, LayerKind
from cnncalc.spec.expr import evaluate
from cnncalc.spec.loader import Node
from cnncalc.spec.model import TOP_LEVEL_KEYS
from cnncalc.spec.notation import DEFAULT_POOL, FLATTENING, SHORT_ATTRS

#: how kinds are written (the slides' names); other kinds by their registry name in capitals
DISPLAY = {
    "conv2d": "CONV", "conv_transpose2d": "DECONV", "maxpool2d": "POOL", "avgpool2d": "AVGPOOL",
    "linear": "FC", "batchnorm2d": "BN", "global_avgpool": "GAP",
}
#: one line up to this width, else one top-level item per line
LINE_WIDTH = 100
#: the longest run of layers looked for when folding repeats
MAX_PERIOD = 256
_KEYWORDS = ("true", "false", "null", "none")


def to_notation(graph: LayerGraph) -> str:
    """The graph as one notation chain (ending in a newline).

    >>> from cnncalc.spec import load_notation
    >>> print(to_notation(load_notation("INPUT(1x28x28) -> [CONV(8, k=3) -> RELU]*2 -> FC(10)")), end="")
    INPUT(1x28x28) -> [CONV(8, k=3) -> RELU]*2 -> FC(10)
    """
    chain = _chain(graph)
    shape = graph.inputs[0].attrs["shape"]
    words = [_layer(node) for node in chain]
    items = _fold(words)
    items = _implicit_flatten(graph, chain, items, flat_input=len(shape) == 1)
    header = [_dims(shape)]
    if graph.batch != 1:
        header.append(f"batch={graph.batch}")
    if graph.dtype != "float32":
        header.append(f"dtype={graph.dtype}")
    parts = [f"INPUT({', '.join(header)})", *(_item_text(item, words) for item in items)]
    line = " -> ".join(parts)
    return (line if len(line) <= LINE_WIDTH else "\n-> ".join(parts)) + "\n"


# -- what the notation can say --------------------------------------------------------------------


def _chain(graph: LayerGraph) -> list[LayerNode]:
    inputs = graph.inputs
    if len(inputs) != 1:
        raise SpecError(
            f"the notation has one input; this spec has {len(inputs)} ({', '.join(n.name for n in inputs)})",
            span=inputs[1].span, hint="several inputs need the YAML form (`inputs:`)",
        )
    chain: list[LayerNode] = []
    previous = inputs[0].name
    for node in graph:
        if node.is_input:
            continue
        _check_expressible(node, previous)
        chain.append(node)
        previous = node.name
    if graph.outputs != [previous]:
        first = next(name for name in graph.outputs if name != previous)
        raise SpecError(
            f"the notation's output is its last layer; this spec's outputs are {', '.join(graph.outputs)}",
            span=graph.nodes[first].span, hint="several outputs (heads) need the YAML form (`outputs:`)",
        )
    return chain


def _check_expressible(node: LayerNode, previous: str) -> None:
    hint = "the notation writes one chain; branches and merges need the YAML form (docs/notation.md)"
    if len(node.inputs) > 1:
        message = f"`{node.name}` merges {len(node.inputs)} layers ({', '.join(node.inputs)})"
    elif node.inputs != (previous,):
        message = f"`{node.name}` reads `{node.inputs[0]}`, not the layer before it (a branch or skip connection)"
    elif node.refs:
        message = f"`{node.name}` refers to layer `{node.refs[0]}`"
        hint = "the notation cannot refer to other layers; this needs the YAML form"
    elif node.share is not None:
        message = f"`{node.name}` shares the weights of `{node.share}`"
        hint = "the notation cannot share weights (`share:`); this needs the YAML form"
    elif not node.trainable:
        message = f"`{node.name}` is frozen (`trainable: false`)"
        hint = "the notation cannot freeze layers; this needs the YAML form"
    else:
        return
    raise SpecError(f"the notation cannot express this spec: {message}", span=node.span, hint=hint)


def _implicit_flatten(graph: LayerGraph, chain: list[LayerNode], items: list[Any],
                      flat_input: bool) -> list[Any]:
    """The notation adds a flatten before its first FC unless one is written before it or the
    input is one-dimensional: leave that flatten unwritten where the parser puts it back, and
    refuse a spec whose first linear layer reads an unflattened tensor."""
    first = next((i for i, node in enumerate(chain) if node.kind.name == "linear"), None)
    if first is None or flat_input:
        return items
    if any(node.kind.name in FLATTENING for node in chain[: max(first - 1, 0)]):
        return items  # written out, so the parser adds none
    before = chain[first - 1] if first > 0 else None
    if before is None or before.kind.name not in FLATTENING:
        node = chain[first]
        raise SpecError(
            f"the notation cannot express this spec: `{node.name}` (its first linear layer) reads "
            "a tensor with spatial axes, and the notation flattens before its first FC",
            span=node.span, hint="put a `flatten` before it, or keep the YAML form",
        )
    position = 0
    for index, item in enumerate(items):
        if position == first - 1:
            if item == first - 1 and before.kind.name == "flatten" and _is_default(before):
                return items[:index] + items[index + 1:]
            break
        position += _size(item)
    return items


# -- layers and values ----------------------------------------------------------------------------


def _layer(node: LayerNode) -> str:
    """`CONV(64, k=3, p=1)`: the first attribute positionally when it is required, the others
    by (short) name, attributes at their default left out (a pool's kernel 2 only when nothing
    else is written: a bare `POOL` is 2x2)."""
    kind = node.kind
    name = DISPLAY.get(kind.name, kind.name.upper())
    args: list[str] = []
    for index, attr in enumerate(kind.attrs):
        value = node.attrs[attr.name]
        if value == _default(kind, attr):
            continue
        text = _value(kind, attr, value)
        keyword = index > 0 or attr.default is not REQUIRED
        args.append(f"{_short(kind, attr.name)}={text}" if keyword else text)
    kernel = _pool_kernel(kind)
    if args and kernel is not None and node.attrs["kernel"] == _default(kind, kernel):
        args.insert(0, f"k={DEFAULT_POOL}" if kind.attrs[0].name != "kernel" else str(DEFAULT_POOL))
    return f"{name}({', '.join(args)})" if args else name


def _pool_kernel(kind: LayerKind) -> Attr | None:
    """The kernel of a pooling kind, which the notation defaults to DEFAULT_POOL."""
    kernel = kind.attr("kernel")
    return kernel if kind.family == "pool" and kernel is not None and kernel.default is REQUIRED else None


def _is_default(node: LayerNode) -> bool:
    return all(node.attrs[a.name] == _default(node.kind, a) for a in node.kind.attrs)


def _default(kind: LayerKind, attr: Attr) -> Any:
    """The converted value the parser gives an attribute left out (REQUIRED: none)."""
    default = DEFAULT_POOL if attr is _pool_kernel(kind) else attr.default
    if default is REQUIRED:
        return REQUIRED
    return attr.type.convert(default, evaluate_constant, kind.spatial_dims)


def evaluate_constant(text: str) -> Any:
    return evaluate(text, {})


def _short(kind: LayerKind, name: str) -> str:
    for short, long in SHORT_ATTRS.items():
        if long == name and kind.attr(short) is None:
            return short
    return name


def _value(kind: LayerKind, attr: Attr, value: Any) -> str:
    """The shortest written form that converts back to exactly `value`."""
    for candidate in _candidates(value):
        try:
            if attr.type.convert(candidate, evaluate_constant, kind.spatial_dims) == value:
                return _text(candidate)
        except SpecError:
            continue
    return _text(_plain(value))


def _candidates(value: Any) -> Iterable[Any]:
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        if all(len(v) == 2 and v[0] == v[1] for v in value):
            per_axis = [v[0] for v in value]
            if len(set(per_axis)) == 1:
                yield per_axis[0]
            yield per_axis
    elif isinstance(value, tuple) and value:
        if len(set(value)) == 1:
            yield value[0]
    yield _plain(value)


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def _text(value: Any, top: bool = True) -> str:
    """A value as the notation writes it: per-axis sizes as `1x7`, nested lists in brackets."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, list):
        if top and len(value) > 1 and all(type(v) is int and v >= 0 for v in value):
            return _dims(value)
        return "[" + ", ".join(_text(v, top=False) for v in value) + "]"
    if isinstance(value, str):
        bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) and value.lower() not in _KEYWORDS
        return value if bare else ('"' + value + '"' if '"' not in value else "'" + value + "'")
    return repr(value)


def _dims(shape: Iterable[int]) -> str:
    return "x".join(str(size) for size in shape)


# -- folding repeats ------------------------------------------------------------------------------
# An item is the index of a layer's word, or (items, count) for a group of repeated layers.


def _fold(words: list[str]) -> list[Any]:
    ids: dict[str, int] = {}
    keys = [ids.setdefault(word, len(ids)) for word in words]
    return _fold_range(keys, 0, len(keys))


def _fold_range(keys: list[int], start: int, stop: int) -> list[Any]:
    """Greedy: at each position the run whose repeats save the most layers (the shortest on a
    tie), unless a run starting at the next position saves as many: VGG's stages then read
    `[[CONV -> RELU]*3 -> POOL]*2`, not `[POOL -> [CONV -> RELU]*3]*2`."""
    items: list[Any] = []
    i = start
    while i < stop:
        saved, period, count = _best_run(keys, i, stop)
        if count > 1 and _best_run(keys, i + 1, stop)[0] < saved:
            items.append((_fold_range(keys, i, i + period), count))
            i += period * count
        else:
            items.append(i)
            i += 1
    return items


def _best_run(keys: list[int], i: int, stop: int) -> tuple[int, int, int]:
    """(layers saved, period, count) of the best repeated run starting at `i`."""
    best = (0, 1, 1)
    for period in range(1, min(MAX_PERIOD, (stop - i) // 2) + 1):
        unit = keys[i: i + period]
        count = 1
        while i + (count + 1) * period <= stop and keys[i + count * period: i + (count + 1) * period] == unit:
            count += 1
        if count > 1 and period * (count - 1) > best[0]:
            best = (period * (count - 1), period, count)
    return best


def _size(item: Any) -> int:
    if isinstance(item, int):
        return 1
    inner, count = item
    return int(count) * sum(_size(i) for i in inner)


def _item_text(item: Any, words: list[str]) -> str:
    if isinstance(item, int):
        return words[item]
    inner, count = item
    if len(inner) == 1 and isinstance(inner[0], int):
        return f"{words[inner[0]]}*{count}"
    return "[" + " -> ".join(_item_text(i, words) for i in inner) + f"]*{count}"


# -- YAML -----------------------------------------------------------------------------------------


def to_yaml(root: Node, name: str, overrides: Mapping[str, Any] | None = None) -> str:
    """A spec tree as YAML text; `overrides` replace top-level values (`input`, `batch`, ...) and
    vars (`vars.width`), as the command line's --input/--batch/--set give them."""
    import yaml

    data: dict[str, Any] = {"name": name, **root.plain()}
    for key, value in (overrides or {}).items():
        section, _, var = key.partition(".")
        if var:
            data.setdefault(section, {})[var] = value
        else:
            data[section] = value
    order = {key: index for index, key in enumerate(TOP_LEVEL_KEYS)}
    data = dict(sorted(data.items(), key=lambda item: order.get(item[0], len(order))))
    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=None, allow_unicode=True, width=2**16))
