"""The compact notation: the lecture slides' one-line layer patterns as a spec.

    INPUT(3x32x32) -> [[CONV(32, k=3, p=1) -> RELU]*2 -> POOL]*3 -> [FC(512) -> RELU]*2 -> FC(10)

A hand-written tokenizer and recursive-descent parser turn the text into the same `Node` tree a
YAML spec gives (groups with a count become blocks instantiated with `repeat:`, `X?` becomes
`when:` on a boolean var), with spans into the original text, so expansion, validation and error
reporting are the YAML path's, unchanged. docs/notation.md is the reference: grammar, aliases,
what the notation adds implicitly (one `flatten` before the first FC) and what it cannot say.

>>> from cnncalc.errors import Source
>>> root = parse_notation(Source("<notation>", "INPUT(1x28x28) -> CONV(8, 3) -> FC(10)"), "demo")
>>> [entry.plain() for entry in root.value["layers"].value]
[{'conv2d': {'out': 8, 'kernel': 3}}, 'flatten', {'linear': {'out': 10}}]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import Source, Span, SpecError
from cnncalc.layers import REGISTRY, LayerKind
from cnncalc.layers.base import REQUIRED, suggest
from cnncalc.spec.loader import Node
from cnncalc.spec.notation_syntax import Group, Item, Layer, Locator, Parser, Token, Value, tokenize

#: the slides' and papers' names for layer kinds (keys normalized: lower case, no `_` or `-`)
ALIASES = {
    "conv": "conv2d", "deconv": "conv_transpose2d", "pool": "maxpool2d", "maxpool": "maxpool2d",
    "avgpool": "avgpool2d", "fc": "linear", "bn": "batchnorm2d", "gap": "global_avgpool",
}
#: short attribute names; an attribute of the kind with that very name wins (dropout's `p`)
SHORT_ATTRS = {"k": "kernel", "s": "stride", "p": "padding", "d": "dilation", "g": "groups"}
#: kinds after which no flatten is added before the first FC: the chain already flattens
FLATTENING = ("flatten", "reshape")
#: a pooling layer written without its kernel pools 2x2 with stride 2 (the slides' POOL)
DEFAULT_POOL = 2
#: VGG's paper names: conv3-64 (kernel 3, 64 channels, padding keeping the size) and FC-4096
PAPER_CONV = re.compile(r"conv(\d+)(?:x(\d+))?-(\d+)", re.IGNORECASE)
PAPER_FC = re.compile(r"fc-(\d+)", re.IGNORECASE)


def normalize(name: str) -> str:
    """How kind names compare: `MaxPool2d`, `maxpool_2d` and `max-pool2d` are one name."""
    return re.sub(r"[-_]", "", name.lower())


def _kind_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for name, kind in REGISTRY.items():
        for written in (name, *kind.aliases):
            key = normalize(written)
            assert table.get(key, name) == name, f"{written} and {table[key]} normalize alike"
            table[key] = name
    return {**table, **ALIASES}


KINDS = _kind_table()


# -- from syntax to spec nodes --------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the notation's surroundings say: a YAML spec's blocks, defaults and input."""

    blocks: frozenset[str] = frozenset()
    defaults: frozenset[str] = frozenset()
    flat_input: bool = False
    embedded: bool = False


@dataclass
class Parsed:
    """The spec sections a notation text gives."""

    layers: Node
    blocks: dict[str, Node] = field(default_factory=dict)
    block_spans: dict[str, Span] = field(default_factory=dict)
    vars: dict[str, Node] = field(default_factory=dict)
    var_spans: dict[str, Span] = field(default_factory=dict)
    input: Node | None = None
    batch: Node | None = None
    dtype: Node | None = None
    input_span: Span | None = None


@dataclass(frozen=True)
class _Resolved:
    name: str  # registry kind or block name
    kind: LayerKind | None  # None for a block
    implied: tuple[tuple[str, Any], ...] = ()  # attributes the written name carries (conv3-64)


class _Lowering:
    def __init__(self, loc: Locator, context: Context):
        self.loc = loc
        self.context = context
        self.resolved: dict[int, _Resolved] = {}
        self.flatten_before: int | None = None  # id() of the item a flatten is inserted before
        self.parsed = Parsed(Node([], loc.span(0, 0)))

    def span(self, start: int, end: int) -> Span:
        return self.loc.span(start, end)

    def run(self, statements: list[tuple[Token, Value]], items: list[Item]) -> Parsed:
        if statements and self.context.embedded:
            name = statements[0][0]
            raise SpecError("a notation inside `layers:` cannot define vars", span=self.span(name.start, name.end),
                            hint=f"put `{name.text}` under the spec's `vars:`")
        for name, value in statements:
            self.add_var(name.text, self.node(value), self.span(name.start, name.end))
        items = self.take_input(items)
        for layer in _layers(items):
            self.resolved[id(layer)] = self.resolve(layer)
        self.flatten_before = self.flatten_point(items)
        entries = self.entries(items)
        self.parsed.layers = Node(entries, self.span(items[0].body.start, items[-1].end))
        return self.parsed

    def add_var(self, name: str, node: Node, span: Span) -> None:
        if name in self.parsed.vars:
            raise SpecError(f"var `{name}` is set twice", span=span,
                            hint=f"first set at column {self.parsed.var_spans[name].col}")
        self.parsed.vars[name] = node
        self.parsed.var_spans[name] = span

    # -- INPUT --------------------------------------------------------------------------------

    def take_input(self, items: list[Item]) -> list[Item]:
        """The chain without its leading `INPUT(...)`, whose shape, batch and dtype are noted."""
        inputs = [layer for layer in _layers(items) if self.is_input(layer)]
        if not inputs:
            return items
        first = items[0]
        misplaced = next((layer for layer in inputs if layer is not first.body), None)
        if misplaced is not None:
            raise SpecError("`INPUT` can only start the chain", span=self.span(misplaced.start, misplaced.end),
                            hint="write `INPUT(3x224x224) -> ...` once, at the beginning")
        mark = first.star or first.optional
        if mark is not None:
            raise SpecError("`INPUT` cannot be repeated or optional", span=self.span(mark.start, mark.end),
                            hint="remove the `*`/`?` after `INPUT`")
        if len(items) == 1:
            raise SpecError("the chain has no layer after `INPUT`", span=self.span(first.body.start, first.end),
                            hint="e.g. `INPUT(3x32x32) -> CONV(16, k=3) -> RELU`")
        assert isinstance(first.body, Layer)
        self.input(first.body)
        return items[1:]

    def is_input(self, layer: Layer) -> bool:
        return normalize(layer.name.text) == "input" and layer.name.text not in self.context.blocks

    def input(self, layer: Layer) -> None:
        """INPUT(3x32x32, batch=8, dtype=float16): the shape as a size, a list or several numbers."""
        shape: list[Value] = []
        for arg in layer.args:
            if arg.key is None:
                data = arg.value.data
                shape += data if isinstance(data, list) and not shape else [arg.value]
            elif arg.key.text in ("batch", "dtype"):
                setattr(self.parsed, arg.key.text, self.node(arg.value))
            else:
                raise SpecError(f"INPUT has no argument `{arg.key.text}`", span=self.span(arg.key.start, arg.key.end),
                                hint="INPUT takes the per-sample shape, `batch=` and `dtype=`")
        self.parsed.input_span = self.span(layer.name.start, layer.name.end)
        if shape:
            self.parsed.input = Node([self.node(v) for v in shape], self.span(shape[0].start, shape[-1].end))

    # -- kinds and attributes -----------------------------------------------------------------

    def resolve(self, layer: Layer) -> _Resolved:
        written = layer.name.text
        if written in self.context.blocks:
            return _Resolved(written, None)
        paper = PAPER_CONV.fullmatch(written)
        if paper:
            return _paper_conv(int(paper.group(3)), int(paper.group(1)), int(paper.group(2) or paper.group(1)))
        paper = PAPER_FC.fullmatch(written)
        if paper:
            return _Resolved("linear", REGISTRY["linear"], (("out", int(paper.group(1))),))
        name = KINDS.get(normalize(written))
        if name is None:
            raise self.unknown_kind(layer)
        kind = REGISTRY[name]
        if kind.min_inputs > 1:
            raise SpecError(
                f"`{written}` merges several layers: the notation writes a single chain",
                span=self.span(layer.name.start, layer.name.end),
                hint="branches and skip connections need the YAML form (`from:`, see docs/spec.md)",
            )
        return _Resolved(name, kind)

    def unknown_kind(self, layer: Layer) -> SpecError:
        written = layer.name.text
        upper = written.isupper()
        names = sorted({*(n.upper() if upper else n for n in (*ALIASES, *REGISTRY)), *self.context.blocks})
        close = suggest(written.lower() if not upper else written, names)
        return SpecError(f"unknown layer kind `{written}`", span=self.span(layer.name.start, layer.name.end),
                         hint=close or "`cnncalc layers` lists the kinds; docs/notation.md the short names")

    def attributes(self, layer: Layer, resolved: _Resolved) -> tuple[dict[str, Node], dict[str, Span]]:
        attrs: dict[str, Node] = {}
        spans: dict[str, Span] = {}
        name_span = self.span(layer.name.start, layer.name.end)
        for key, value in resolved.implied:
            attrs[key], spans[key] = _literal(value, name_span), name_span
        order = self.positional_order(resolved)
        positional = [key for key in order if key not in attrs]
        seen_keyword: Token | None = None
        for arg in layer.args:
            value_span = self.span(arg.value.start, arg.value.end)
            if arg.key is None:
                if seen_keyword is not None:
                    raise SpecError("a positional argument follows a named one", span=value_span,
                                    hint=f"give it by name, or move it before `{seen_keyword.text}=`")
                if not positional:
                    raise SpecError(self.too_many(layer, resolved, order), span=value_span,
                                    hint=f"give the others by name (`cnncalc layers {resolved.name}`)"
                                    if order else f"write `{layer.name.text}` alone")
                key, key_span = positional.pop(0), value_span
            else:
                seen_keyword = arg.key
                key, key_span = self.attribute_name(arg.key.text, resolved), self.span(arg.key.start, arg.key.end)
                if key in positional:
                    positional = positional[: positional.index(key)]
            if key in attrs:
                raise SpecError(f"`{key}` is given twice", span=key_span,
                                hint=f"first given at column {spans[key].col}")
            attrs[key], spans[key] = self.node(arg.value), key_span
        self.fill_defaults(layer, resolved, attrs, spans)
        return attrs, spans

    def positional_order(self, resolved: _Resolved) -> list[str]:
        if resolved.kind is not None:
            return [attr.name for attr in resolved.kind.attrs]
        return []  # a block's arguments: by name only (their order is the YAML mapping's)

    def too_many(self, layer: Layer, resolved: _Resolved, order: list[str]) -> str:
        if not order:
            return f"`{layer.name.text}` takes no arguments" if resolved.kind is not None \
                else f"block `{resolved.name}` takes its arguments by name"
        return f"too many arguments for `{layer.name.text}`: it takes {len(order)} ({', '.join(order)})"

    def attribute_name(self, key: str, resolved: _Resolved) -> str:
        if resolved.kind is None or resolved.kind.attr(key) is not None:
            return key
        target = SHORT_ATTRS.get(key)
        return target if target is not None and resolved.kind.attr(target) is not None else key

    def fill_defaults(self, layer: Layer, resolved: _Resolved, attrs: dict[str, Node],
                      spans: dict[str, Span]) -> None:
        kind = resolved.kind
        if kind is None or resolved.name in self.context.defaults:
            return
        name_span = self.span(layer.name.start, layer.name.end)
        kernel = kind.attr("kernel")
        if kind.family == "pool" and kernel is not None and kernel.default is REQUIRED and "kernel" not in attrs:
            attrs["kernel"], spans["kernel"] = Node(DEFAULT_POOL, name_span), name_span
        missing = [a.name for a in kind.attrs if a.default is REQUIRED and a.name not in attrs]
        if missing:
            attr = kind.attr(missing[0])
            assert attr is not None
            required = [a.name for a in kind.attrs if a.default is REQUIRED]
            raise SpecError(
                f"{kind.name} needs attribute `{attr.name}` ({attr.doc})", span=name_span,
                hint=f"write `{layer.name.text}({', '.join(required)})`: in this order, or by name",
            )

    # -- entries ------------------------------------------------------------------------------

    def flatten_point(self, items: list[Item]) -> int | None:
        """id() of the item a flatten goes before: the outermost item that starts with the first
        FC, when nothing flattens before it and the input has more than one axis."""
        if self.context.flat_input or (self.parsed.input is not None and len(self.parsed.input.value) == 1):
            return None
        path = _path_to_first(items, lambda layer: self.resolved[id(layer)].name == "linear")
        if path is None:
            return None
        for layer in _layers(items):
            if self.resolved[id(layer)].name == "linear":
                break
            if self.resolved[id(layer)].name in FLATTENING:
                return None
        depth = len(path) - 1
        while depth > 0 and path[depth][0][0] is path[depth][1]:
            depth -= 1
        return id(path[depth][1])

    def entries(self, items: list[Item]) -> list[Node]:
        entries: list[Node] = []
        for item in items:
            if id(item) == self.flatten_before:
                first = next(iter(_layers([item])))
                entries.append(Node("flatten", self.span(first.name.start, first.name.end)))
            if isinstance(item.body, Group) and item.star is None and item.optional is None:
                entries.extend(self.entries(item.body.items))
            else:
                entries.append(self.entry(item))
        return entries

    def entry(self, item: Item) -> Node:
        body = item.body
        values: dict[str, Node] = {}
        spans: dict[str, Span] = {}
        if isinstance(body, Group):
            kind, kind_span = self.group(body)
            values["name"], spans["name"] = Node(kind, kind_span), kind_span
            switch, where = kind, self.span(body.start, body.end)
        else:
            resolved = self.resolved[id(body)]
            kind, kind_span = resolved.name, self.span(body.name.start, body.name.end)
            values, spans = self.attributes(body, resolved)
            switch = re.sub(r"\W", "_", body.name.text.lower())
            where = self.span(*(body.parens or (body.name.start, body.name.end)))
        if item.star is not None and item.count is not None:
            self.check_count(item.count)
            values["repeat"], spans["repeat"] = self.node(item.count), self.span(item.star.start, item.star.end)
        if item.optional is not None:
            mark = self.span(item.optional.start, item.optional.end)
            values["when"], spans["when"] = Node(switch, mark), mark
            if switch not in self.parsed.vars:
                self.add_var(switch, Node(True, mark), mark)
            elif not isinstance(self.parsed.vars[switch].value, (bool, str)):
                value = self.parsed.vars[switch]
                raise SpecError(
                    f"`{switch}` switches the optional layer at column {mark.col}: it must be true or false, "
                    f"found {value.value!r}", span=value.span,
                    hint=f"`{switch} = false` leaves the `?` layers out, `{switch} = true` keeps them",
                )
        if not values and not (isinstance(body, Layer) and body.parens):
            return Node(kind, kind_span)
        return Node({kind: Node(values, where, spans)}, self.span(body.start, item.end), {kind: kind_span})

    def check_count(self, count: Value) -> None:
        """A count naming a var the notation does not set (a YAML spec's vars are checked later)."""
        name = count.data
        if self.context.embedded or count.quoted or not isinstance(name, str) or name in self.parsed.vars:
            return
        raise SpecError(f"unknown var `{name}` in a repeat count", span=self.span(count.start, count.end),
                        hint=f"set it before the chain: `{name} = 2; INPUT(...) -> ...` (then `--set {name}=3` changes it)")

    def group(self, group: Group) -> tuple[str, Span]:
        """The block a repeated or optional group becomes (named by the order of its `[`)."""
        name = f"group{group.number}"
        while name in self.context.blocks:
            name += "_"
        span = self.span(group.start, group.start + 1)
        self.parsed.blocks[name] = Node([], span)  # keeps the blocks in the order of the text
        self.parsed.block_spans[name] = span
        self.parsed.blocks[name] = Node(self.entries(group.items), self.span(group.start, group.end))
        return name, span

    def node(self, value: Value) -> Node:
        data = value.data
        if isinstance(data, list):
            data = [self.node(v) for v in data]
        return Node(data, self.span(value.start, value.end))


def _paper_conv(out: int, height: int, width: int) -> _Resolved:
    """conv3-64 (or conv1x7-64): VGG's convolutions keep the size, padding 1 for a 3x3 kernel."""
    kernel: Any = height if height == width else [height, width]
    padding: Any = "same" if height % 2 == 0 or width % 2 == 0 else (
        height // 2 if height == width else [height // 2, width // 2])
    return _Resolved("conv2d", REGISTRY["conv2d"], (("out", out), ("kernel", kernel), ("padding", padding)))


def _literal(value: Any, span: Span) -> Node:
    """A value the written name implies (conv1x7-16's kernel [1, 7]) as spec nodes."""
    return Node([_literal(v, span) for v in value] if isinstance(value, list) else value, span)


def _layers(items: list[Item]) -> Iterator[Layer]:
    """Every written layer, in the order of the text."""
    for item in items:
        if isinstance(item.body, Group):
            yield from _layers(item.body.items)
        else:
            yield item.body


def _path_to_first(items: list[Item], wanted: Any) -> list[tuple[list[Item], Item]] | None:
    """[(chain, item in it), ...] from the top down to the first item whose layer is wanted."""
    for item in items:
        if isinstance(item.body, Group):
            inner = _path_to_first(item.body.items, wanted)
            if inner is not None:
                return [(items, item), *inner]
        elif wanted(item.body):
            return [(items, item)]
    return None


# -- entry points ---------------------------------------------------------------------------------


def parse(text: str, loc: Locator, context: Context) -> Parsed:
    parser = Parser(tokenize(text, loc), loc)
    statements, items = parser.program()
    return _Lowering(loc, context).run(statements, items)


def parse_notation(source: Source, name: str) -> Node:
    """A whole spec tree from a notation text (a `.cnn` file or `--notation`)."""
    loc = Locator(source)
    parsed = parse(source.text, loc, Context())
    whole = parsed.layers.span
    values: dict[str, Node] = {"name": Node(name, whole)}
    spans: dict[str, Span] = {"name": whole}
    for key in ("input", "batch", "dtype"):
        node = getattr(parsed, key)
        if node is not None:
            values[key], spans[key] = node, parsed.input_span or node.span
    if parsed.vars:
        values["vars"], spans["vars"] = Node(parsed.vars, whole, parsed.var_spans), whole
    if parsed.blocks:
        values["blocks"], spans["blocks"] = Node(parsed.blocks, whole, parsed.block_spans), whole
    values["layers"], spans["layers"] = parsed.layers, whole
    return Node(values, whole, spans)


def parse_embedded(node: Node, context: Context) -> Parsed:
    """The sections a YAML `layers:` string gives, with spans inside the YAML file."""
    text = node.value
    assert isinstance(text, str)
    offsets = _align(text, node.span)
    loc = Locator(node.span.source, offsets, node.span)
    return parse(text, loc, context)


def _align(value: str, span: Span) -> list[int] | None:
    """Offsets in the YAML text of each character of a scalar's value (plus one past the end),
    for plain, quoted and block scalars; None when the value cannot be lined up with its text."""
    text = span.source.text
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    j = starts[span.line - 1] + span.col - 1
    style = text[j: j + 1]
    if style in "\"'":
        j += 1
    elif style in "|>":
        j = text.find("\n", j) + 1
        while j < len(text) and text[j] in " \t":
            j += 1
    indent = j - text.rfind("\n", 0, j) - 1
    positions = []
    for char in value:
        if j >= len(text):
            return None
        if text[j] == char:
            positions.append(j)
            j += 1
            if char == "\n" and style in "|>":
                j = min(j + indent, len(text))
        elif char in " \n" and text[j] in " \t\r\n":  # a folded line break
            positions.append(j)
            while j < len(text) and text[j] in " \t\r\n":
                j += 1
        elif style == "'" and text[j: j + 2] == "''" and char == "'":
            positions.append(j)
            j += 2
        elif style == '"' and text[j] == "\\":
            positions.append(j)
            j += 2
        else:
            return None
    positions.append(j)
    return positions
